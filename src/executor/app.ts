// Executing one unit's runbook in order: decisions about steps a previous run left open, then each step — done
// before, skipped (--skip-step, `when`), a gate, or its action — until it is done, waits, stops or fails (and its
// completed steps roll back).
import type {Step} from '../schema/template.js'
import type {AppState, StepState} from '../state/status.js'
import {passGate} from './gate.js'
import {stepKind} from './render.js'
import type {AppWork} from './prepare.js'
import {evaluateWhen} from '../runbook/vars.js'
import {named, record, restoreCaptures, type Run, staleDecision, unitState, whoRan} from './run.js'
import {runStepAction} from './step.js'
import type {AppReport} from './types.js'
import {newUnit, type Unit, type UnitControl} from './unit.js'

export type {UnitControl} from './unit.js'

const isDone = (st: StepState | undefined): boolean => !!st && (st.status === 'succeeded' || st.status === 'skipped')

/**
 * Steps that were running when a previous run died (or were stopped) need a decision before anything else: the
 * operator's (--skip-step: it took effect, --retry-step: it did not), or rerun when idempotent. A message when a
 * step needs the operator.
 */
async function settleInterrupted(u: Unit, state: AppState): Promise<string | undefined> {
  const {run, w} = u
  const {opts} = run
  for (const s of w.template!.steps) {
    const st = state.steps.find((x) => x.id === s.id)
    if (!st || (st.status !== 'running' && st.status !== 'interrupted')) continue
    const who = whoRan(st)
    const at = {app: w.name, step: s.id}
    const stale = staleDecision(run, w, s.id)
    if (stale) return stale
    if (named(opts.skipSteps, w, s.id)) {
      const message = `--skip-step: the operator confirmed the interrupted step took effect${who}`
      await record(run, {type: 'operator-skip', ...at, message})
    } else if (named(opts.retrySteps, w, s.id)) {
      const message = `--retry-step: the operator confirmed the interrupted step did not take effect${who}`
      await record(run, {type: 'operator-retry', ...at, message})
    } else if (s.idempotent) {
      await record(run, {type: 'operator-retry', ...at, message: `idempotent step interrupted${who}: running it again`})
    } else
      return `step ${s.id} was running when a previous run stopped${who} and is not idempotent: check whether it took effect, then rerun with --skip-step ${w.name}/${s.id} (it did) or --retry-step ${w.name}/${s.id} (it did not)`
  }
  return undefined
}

/** Journals and shows the unit's start (or its resumption), unless it goes on after a barrier of this run. */
async function startUnit(u: Unit, stepState: (id: string) => StepState | undefined): Promise<void> {
  const {run, w, ctl, total} = u
  if (ctl.continuing) return
  const steps = w.template!.steps
  const firstTodo = steps.find((s) => !isDone(stepState(s.id)))
  const resumeAt = firstTodo && firstTodo.id !== steps[0].id ? firstTodo.id : undefined
  await record(
    run,
    {type: 'app-started', app: w.name, message: resumeAt ? `resuming at ${resumeAt}` : undefined},
    {type: 'app-start', app: w.name, steps: total, resumeAt},
  )
}

/** Before a step: stop (Ctrl-C, a barrier, the group's failure), skip it (--skip-step, `when`), or undefined to go on. */
async function beforeStep(
  u: Unit,
  s: Step,
  i: number,
  st: StepState | undefined,
): Promise<'next' | AppReport | undefined> {
  const {run, w, ctl, total} = u
  if (run.signal.aborted) {
    await record(run, {
      type: 'interrupted',
      app: w.name,
      message: `stopped before ${s.id}: no new step starts after Ctrl-C`,
    })
    return u.finish('interrupted', `stopped before ${s.id}`)
  }
  if (ctl.holdAt !== undefined && i >= ctl.holdAt) return u.hold(`at the barrier before ${s.id}`)
  const stopWhy = ctl.stop?.()
  if (stopWhy) return u.fail(`stopped with the other servers of ${w.group ?? w.app}: ${stopWhy}`)
  if (named(run.opts.skipSteps, w, s.id) && st && (st.status === 'failed' || st.status === 'waiting-gate')) {
    await record(run, {type: 'operator-skip', app: w.name, step: s.id, message: '--skip-step'})
    u.rep(s.id).status = 'skipped'
    return 'next'
  }
  if (s.when !== undefined && !evaluateWhen(s.when, w.scope)) {
    const message = `when "${s.when}" is false`
    await record(
      run,
      {type: 'step-skipped', app: w.name, step: s.id, message: run.R(message)},
      {type: 'step-end', app: w.name, step: s.id, index: i, total, status: 'skipped', message},
    )
    u.rep(s.id).status = 'skipped'
    return 'next'
  }
  return undefined
}

/**
 * Whether the unit's next act on step s is to journal its start (or its skip) and nothing else first: not a step done
 * before (shown at once), no stop, barrier, gate, approval, prompt or soak. Only then may the previous step's success
 * still be on its way to the journal (recordSoon): it is written with that start.
 */
function journalsFirst(u: Unit, s: Step, st: StepState | undefined): boolean {
  const {run, ctl} = u
  return (
    !isDone(st) &&
    !run.signal.aborted &&
    ctl.holdAt === undefined &&
    ctl.holdAfterSoakAt === undefined &&
    ctl.stop === undefined &&
    stepKind(s) !== 'gate' &&
    !s.finalize
  )
}

/** One step of the unit: 'next' to go on (its success maybe still on its way: u.pending), or the unit's end. */
async function runStep(u: Unit, s: Step, i: number, st: StepState | undefined): Promise<'next' | AppReport> {
  const {run, w, ctl, total} = u
  if (isDone(st)) {
    u.rep(s.id).status = 'already-done'
    run.emit({type: 'step-end', app: w.name, step: s.id, index: i, total, status: 'already-done'})
    return 'next'
  }
  const before = await beforeStep(u, s, i, st)
  if (before !== undefined) return before
  const gate = await passGate(u, s, i, st)
  if ('app' in gate) return gate
  if (!gate.action) return 'next'
  const lateStop = ctl.stop?.()
  if (lateStop) return u.fail(`stopped with the other servers of ${w.group ?? w.app}: ${lateStop}`)
  const r = await runStepAction(run, w, s, {index: i, total}, gate.soakData, true)
  const sr = u.rep(s.id)
  Object.assign(sr, {attempts: r.attempts, durationMs: r.durationMs, detail: r.detail, status: r.status})
  u.pending = r.durable
  if (r.status === 'succeeded') return 'next'
  if (r.status === 'interrupted') return u.finish('interrupted', `stopped while running ${s.id}`)
  sr.error = r.error
  return u.fail(`${s.id} failed: ${r.error}`)
}

/** Waits until the unit's last success is durable (and shown). */
async function settle(u: Unit): Promise<void> {
  const p = u.pending
  u.pending = undefined
  await p
}

export async function executeApp(run: Run, w: AppWork, ctl: UnitControl = {}): Promise<AppReport> {
  const u = newUnit(run, w, ctl)
  const wave = run.prep.wave.number
  const steps = w.template!.steps
  let state = unitState(run, w)
  if (run.signal.aborted) return u.finish('interrupted', 'not started: Ctrl-C came first')
  if (state.status === 'rollback-incomplete')
    return u.finish(
      'needs-operator',
      `a rollback of ${w.name} did not finish (${state.lastError ?? 'interrupted'}): run \`migrate rollback wave ${wave} --app ${w.name}\` first`,
    )
  const fresh = state.status === 'rolled-back'
  if (!fresh) {
    restoreCaptures(w, state)
    const needs = await settleInterrupted(u, state)
    if (needs) return u.finish('needs-operator', needs)
  }
  // This application's state with the operator decisions applied (the replay follows every append).
  state = unitState(run, w)
  const stepState = (id: string): StepState | undefined => (fresh ? undefined : state.steps.find((x) => x.id === id))
  if (!fresh && state.status === 'done') {
    for (const s of steps) u.rep(s.id).status = 'already-done'
    return u.finish('done', 'already done (nothing to run)')
  }
  await startUnit(u, stepState)
  for (let i = 0; i < steps.length; i++) {
    const st = stepState(steps[i].id)
    if (!journalsFirst(u, steps[i], st)) await settle(u)
    const end = await runStep(u, steps[i], i, st)
    if (end !== 'next') {
      await settle(u)
      return end
    }
  }
  await settle(u)
  await record(run, {type: 'app-finished', app: w.name})
  return u.finish('done')
}
