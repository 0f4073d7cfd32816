// The units of a wave, at most `limit` at once, and the servers of one application under a per-server runbook
// (units APP:SERVER_ID), which move as a whole: they meet at the cutover barrier and before finalize, and roll back
// together.
import {executeApp, type UnitControl} from './app.js'
import {barrierIndex, finalizeIndex} from './barriers.js'
import {mapWithLimit} from '../map-limit.js'
import type {AppWork} from './prepare.js'
import {rollbackApp} from './rollback.js'
import {record, restoreCaptures, type Run, unitState} from './run.js'
import {meetOthers, releaseOthers, sharedWithOthers} from './shared-barrier.js'
import type {AppOutcome, AppReport} from './types.js'

const OUTCOME_TEXT: Partial<Record<AppOutcome, string>> = {
  failed: 'failed',
  'rolled-back': 'failed and was rolled back',
  'rollback-failed': 'failed and its rollback failed',
  'waiting-gate': 'waits for an approval',
  'needs-operator': 'needs an operator',
  interrupted: 'was interrupted',
}

const outcomeText = (r: AppReport): string => `${r.app} ${OUTCOME_TEXT[r.outcome] ?? r.outcome}`

const failedOutcome = (o: AppOutcome): boolean => o === 'rolled-back' || o === 'failed' || o === 'rollback-failed'

/** Held servers, with why, in the journal: `migrate status` shows them as held rather than as in progress. */
async function journalHeld(run: Run, reports: AppReport[]): Promise<void> {
  for (const r of reports)
    if (r.outcome === 'held') await record(run, {type: 'app-held', app: r.app, message: r.message})
}

/** The steps a later pass reports as already done keep what an earlier pass of this run reported of them. */
function merge(before: AppReport, after: AppReport): AppReport {
  for (const st of after.steps) {
    const b = before.steps.find((x) => x.id === st.id)
    if (st.status === 'already-done' && b && b.status !== 'not-run' && b.status !== 'already-done') Object.assign(st, b)
  }
  return after
}

/** One application's servers in a run. */
interface Group {
  run: Run
  name: string
  members: AppWork[]
  limit: number
  /** One control per member for the whole run: the soaks it passed stay known from one pass to the next. */
  ctls: UnitControl[]
  /** The first failure: it stops the others at their next step. */
  failure?: string
}

function eachMember<R>(g: Group, fn: (w: AppWork, i: number) => Promise<R>): Promise<R[]> {
  return mapWithLimit(
    g.members.map((w, i) => ({w, i})),
    g.limit,
    ({w, i}) => fn(w, i),
  )
}

/** Pass 1: every member up to the cutover barrier. The reports, and why the others stay held, if they do. */
async function toBarrier(g: Group): Promise<{reports: AppReport[]; heldBecause?: string}> {
  const cut = g.members.map((w) => barrierIndex(w.template!.steps))
  const reports = await eachMember(g, (w, i) => executeApp(g.run, w, {...g.ctls[i], holdAt: cut[i]}))
  const all = g.members[0].plan.servers.length
  const stuck = reports.filter((r) => r.outcome !== 'held' && r.outcome !== 'done')
  if (stuck.length === 0 && (g.members.length >= all || !reports.some((r) => r.outcome === 'held'))) return {reports}
  if (sharedWithOthers(g)) {
    if (stuck.length > 0) await releaseOthers(g, 'cutover')
    else {
      const held = await meetOthers(g, 'cutover', reports)
      return held ? {reports, heldBecause: held.why} : {reports}
    }
  }
  const heldBecause =
    stuck.length > 0
      ? stuck.map(outcomeText).join(', ')
      : `only ${g.members.length} of the ${all} servers of ${g.name} are in this run (--app); run \`--app ${g.name}\` to cut them over together`
  return {reports, heldBecause}
}

/** Passes 2 and 3: the members still held go on (up to `extra`'s stop), sharing the group's failure. */
function pass(g: Group, prev: AppReport[], extra: (i: number) => UnitControl): Promise<AppReport[]> {
  return eachMember(g, async (w, i) => {
    if (prev[i].outcome !== 'held' || g.failure) return prev[i]
    const ctl: UnitControl = {
      ...g.ctls[i],
      continuing: true,
      stop: () => g.failure,
      onFail: (why) => {
        g.failure ??= why
      },
      ...extra(i),
    }
    const r = merge(prev[i], await executeApp(g.run, w, ctl))
    if (failedOutcome(r.outcome)) g.failure ??= outcomeText(r)
    return r
  })
}

/** The members that got further than the failure roll back too: the application goes back to its source as a whole. */
function rollBackTogether(g: Group, reports: AppReport[]): Promise<AppReport[]> {
  return eachMember(g, async (w, i) => {
    const r = reports[i]
    if (failedOutcome(r.outcome) || r.outcome === 'interrupted' || r.outcome === 'needs-operator') return r
    const st = unitState(g.run, w)
    restoreCaptures(w, st)
    const why = `rolling back with the other servers of ${g.name}: ${g.failure}`
    const rb = await rollbackApp(g.run, w, st, why, true)
    for (const [id, status] of rb.steps) {
      const x = r.steps.find((y) => y.id === id)
      if (x) x.rollbackStatus = status
    }
    r.outcome = rb.outcome
    r.message =
      rb.outcome === 'rolled-back' ? `rolled back with the other servers of ${g.name}: ${g.failure}` : rb.message
    return r
  })
}

/**
 * Before finalize, with servers in other runners' hands: meet them there (or release them when this run's servers
 * will not get there). A server elsewhere that failed after cutover fails this group too: it rolls back as a whole.
 */
async function finalizeWithOthers(
  g: Group,
  reports: AppReport[],
  why: string | undefined,
): Promise<string | undefined> {
  if (g.failure !== undefined || why !== undefined) {
    await releaseOthers(g, 'finalize')
    return why
  }
  const held = await meetOthers(g, 'finalize', reports)
  if (held?.failed) g.failure ??= held.why
  return held?.why
}

/**
 * The servers of one application under a per-server runbook (units APP:SERVER_ID), so that the application moves as
 * a whole. In passes, each running the members side by side:
 *  1. up to the cutover barrier (see barrierIndex): if any member does not get there (failed, waiting for an
 *     approval, needs an operator, interrupted), or only some members are in this run (--app APP:SERVER_ID), the
 *     others stop there, 'held': nothing is cut over, their replication stays, and the next run goes on from there;
 *  2. from the barrier up to the first finalize step, then its soak and approval for every member;
 *  3. the finalize actions and the rest.
 * From pass 2 on, a member that fails rolls back as always; the others stop at their next step and roll back, and
 * those that got further (done, or held before finalize) are rolled back too: the application is back on its source.
 * A member that already finalized cannot be rolled back; it is reported as such. The app-end events are sent once
 * the whole group is settled, so no view shows a server as done that is rolled back a moment later.
 */
async function executeGroup(run: Run, name: string, members: AppWork[], limit: number): Promise<AppReport[]> {
  const g: Group = {run, name, members, limit, ctls: members.map((): UnitControl => ({quiet: true, soaked: new Map()}))}
  const settle = (reports: AppReport[]): AppReport[] => {
    for (const r of reports) run.emit({type: 'app-end', app: r.app, outcome: r.outcome, message: r.message})
    return reports
  }
  const first = await toBarrier(g)
  if (first.heldBecause !== undefined) {
    for (const r of first.reports)
      if (r.outcome === 'held')
        r.message = `held before cutover: ${first.heldBecause}; the servers of ${name} cut over together — this server goes on from here in the next run`
    await journalHeld(run, first.reports)
    return settle(first.reports)
  }
  const fin = members.map((w) => finalizeIndex(w.template!.steps))
  const second = await pass(g, first.reports, (i) =>
    fin[i] !== undefined ? {holdAt: undefined, holdAfterSoakAt: fin[i]} : {},
  )
  // Everyone soaked and approved at their finalize step (or finished): only then the finalize actions.
  const waiting = second.filter((r) => r.outcome !== 'held' && r.outcome !== 'done' && !failedOutcome(r.outcome))
  let why = waiting.length > 0 ? waiting.map(outcomeText).join(', ') : undefined
  if (sharedWithOthers(g) && fin.some((f) => f !== undefined)) why = await finalizeWithOthers(g, second, why)
  let reports = second
  if (g.failure === undefined && why === undefined) reports = await pass(g, second, () => ({}))
  else if (g.failure === undefined) {
    for (const r of reports)
      if (r.outcome === 'held')
        r.message = `held before finalize: ${why}; the servers of ${name} finalize together — this server goes on from here in the next run`
    await journalHeld(run, reports)
  }
  if (g.failure === undefined || run.opts.noRollback) return settle(reports)
  return settle(await rollBackTogether(g, reports))
}

/** Every unit of the wave, with at most `limit` applications at once; the servers of a per-server runbook as one. */
export async function executeUnits(run: Run, units: AppWork[], limit: number): Promise<AppReport[]> {
  const jobs: AppWork[][] = []
  const byGroup = new Map<string, AppWork[]>()
  for (const w of units) {
    if (w.group === undefined) jobs.push([w])
    else {
      let g = byGroup.get(w.group)
      if (!g) {
        g = []
        byGroup.set(w.group, g)
        jobs.push(g)
      }
      g.push(w)
    }
  }
  const done = await mapWithLimit(jobs, limit, (job) =>
    job[0].group === undefined ? executeApp(run, job[0]).then((r) => [r]) : executeGroup(run, job[0].group, job, limit),
  )
  const order = units.map((w) => w.name)
  return done.flat().sort((a, b) => order.indexOf(a.app) - order.indexOf(b.app))
}
