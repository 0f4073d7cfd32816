// Gates and finalize steps: they need an approval — --approve, --yes (gates only, never a finalize step), an earlier
// run's, or an answer at the prompt (asked once for all the servers of a per-server runbook). An approval given on
// the command line is journaled before the soak, so a Ctrl-C during the soak does not lose it.
import {printable} from '../runbook/printable.js'
import {renderString} from '../runbook/vars.js'
import type {Step} from '../schema/template.js'
import type {StepState} from '../state/status.js'
import {stepKind} from './render.js'
import {named, record} from './run.js'
import {soakBeforeFinalize} from './soak.js'
import type {AppReport} from './types.js'
import type {Unit} from './unit.js'

/** What a gate decided: go on to the step's action (with its soak's data), the gate step itself passed, or an end. */
export type GateResult = {action: true; soakData?: Record<string, unknown>} | {action: false} | AppReport

type GateStep = Extract<Step, {gate: unknown}>

function gateMessage(u: Unit, s: Step): string {
  return stepKind(s) === 'gate'
    ? renderString((s as GateStep).gate.message, u.w.scope)
    : `finalize step ${s.id} is a point of no return`
}

/** No approval and nobody to ask: the unit waits at this step. */
async function waitHere(u: Unit, s: Step, i: number): Promise<AppReport> {
  const {run, w, total} = u
  const msg = gateMessage(u, s)
  await record(
    run,
    {type: 'gate-waiting', app: w.name, step: s.id, message: run.R(msg)},
    {
      type: 'step-end',
      app: w.name,
      step: s.id,
      index: i,
      total,
      status: 'waiting-gate',
      message: run.R(`${msg} — approve with --approve ${w.name}/${s.id}`),
    },
  )
  u.rep(s.id).status = 'waiting-gate'
  const end = /[.?!]$/.test(msg) ? '' : '.'
  return u.finish(
    'waiting-gate',
    run.R(
      `waiting at ${s.id}: ${msg}${end} Rerun with --approve ${s.id}${s.finalize ? '' : ' (or --yes)'} to continue`,
    ),
  )
}

/** Asks at the prompt (once per application for the servers of a per-server runbook). */
function ask(u: Unit, s: Step): Promise<boolean> {
  const {run, w} = u
  const msg =
    stepKind(s) === 'gate'
      ? renderString((s as GateStep).gate.message, w.scope)
      : `Run finalize step ${s.id} for ${w.name}${s.description ? ` (${renderString(s.description, w.scope)})` : ''}? It is a point of no return.`
  const key = w.group !== undefined ? `${w.group}/${s.id}` : undefined
  let asked = key !== undefined ? run.groupAsks.get(key) : undefined
  if (!asked) {
    // The CLI gathers the questions of every unit and asks them together, once the running ones have settled.
    const units = w.group !== undefined ? run.prep.apps.filter((x) => x.group === w.group).map((x) => x.name) : [w.name]
    const who = w.group !== undefined ? `${w.group}, all ${units.length} server(s)` : w.name
    // The question holds values (owner, hostname): printable only, so no value can forge or erase the prompt.
    asked = run.deps.confirm!(printable(run.R(`[${who}] ${msg}`)), units)
    if (key !== undefined) run.groupAsks.set(key, asked)
  }
  return asked.catch(() => false).then((yes) => (yes ? true : declined(u, s, msg)))
}

async function declined(u: Unit, s: Step, msg: string): Promise<false> {
  const message = u.run.R(`${msg} (declined at the prompt)`)
  await record(u.run, {type: 'gate-waiting', app: u.w.name, step: s.id, message})
  return false
}

function approved(u: Unit, s: Step, via: string): Promise<void> {
  const message = `approved by ${u.run.journal.actor.user} via ${via}`
  return record(u.run, {type: 'gate-approved', app: u.w.name, step: s.id, message})
}

/** A gate or finalize step before its action: approval, soak, the group's barrier after the soak. */
export async function passGate(u: Unit, s: Step, i: number, st: StepState | undefined): Promise<GateResult> {
  const {run, w, ctl, total} = u
  const {opts} = run
  const isGate = stepKind(s) === 'gate'
  if (!isGate && !s.finalize) return {action: true}
  const flagApproved = named(opts.approve, w, s.id) || (!!opts.yes && !s.finalize) || !!st?.approved
  if (!flagApproved && !run.deps.confirm) return waitHere(u, s, i)
  let approvedBy = flagApproved ? (st?.approved ? 'an earlier run' : opts.approve?.length ? '--approve' : '--yes') : ''
  let approvalJournaled = !!st?.approved
  if (flagApproved && !approvalJournaled) {
    await approved(u, s, approvedBy)
    approvalJournaled = true
  }
  const soaked = await soakBeforeFinalize(u, s, i)
  if ('app' in soaked) return soaked
  if (!flagApproved && run.deps.confirm) {
    if (!(await ask(u, s))) {
      u.rep(s.id).status = 'waiting-gate'
      return u.finish('waiting-gate', `not approved at ${s.id}; rerun and approve to continue`)
    }
    approvedBy = 'interactive confirmation'
  }
  if (!approvalJournaled) await approved(u, s, approvedBy)
  if (ctl.holdAfterSoakAt === i) {
    if (soaked.soakData) (ctl.soaked ??= new Map()).set(i, soaked.soakData)
    return u.hold(`soaked and approved, at the barrier before the action of ${s.id}`)
  }
  if (!isGate) return {action: true, soakData: soaked.soakData}
  const message = `approved via ${approvedBy}`
  await record(
    run,
    {type: 'step-succeeded', app: w.name, step: s.id, attempt: 1, durationMs: 0, message},
    {type: 'step-end', app: w.name, step: s.id, index: i, total, status: 'succeeded', message},
  )
  u.rep(s.id).status = 'succeeded'
  return {action: false}
}
