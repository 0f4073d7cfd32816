// The soak before a finalize step (the point of no return): its check must pass at every interval for the whole
// duration; a failure fails the step, and the application rolls back.
import {describeCheck} from '../health/index.js'
import {durationMs} from '../schema/common.js'
import type {Step} from '../schema/template.js'
import {STEP_ENV} from '../state/proc.js'
import type {AppWork} from './prepare.js'
import {renderCheck, stepKind} from './render.js'
import {record, type Run, stepMarker} from './run.js'
import type {Unit} from './unit.js'
import type {AppReport} from './types.js'

interface Soaked {
  ok: boolean
  message: string
  polls: number
  durationMs: number
}

/** Soak: the check must pass at every interval for the whole duration. */
async function soak(run: Run, w: AppWork, s: Step): Promise<Soaked> {
  const spec = s.soak!
  const check = renderCheck(spec.check, w.scope)
  const total = durationMs(spec.duration)
  const interval = durationMs(spec.interval)
  const start = performance.now()
  const took = (): number => performance.now() - start
  let polls = 0
  for (;;) {
    if (run.signal.aborted) return {ok: false, message: 'soak stopped (interrupted)', polls, durationMs: took()}
    polls++
    const r = await run.deps.runCheck(check, run.signal, {env: {[STEP_ENV]: stepMarker(run, w, s.id)}})
    if (r.status !== 'passed') {
      const message = run.R(`soak check failed after ${Math.round(took() / 1000)}s (check ${polls}): ${r.message}`)
      return {ok: false, message, polls, durationMs: took()}
    }
    if (took() >= total)
      return {ok: true, message: `healthy for ${spec.duration} (${polls} checks)`, polls, durationMs: took()}
    await run.deps.sleep(Math.min(interval, Math.max(0, total - took())), run.signal)
  }
}

/**
 * The soak of a finalize step, unless it passed in an earlier pass of this run: its data for the step's journal, or
 * the unit's end (interrupted, or failed and rolled back).
 */
export async function soakBeforeFinalize(
  u: Unit,
  s: Step,
  i: number,
): Promise<{soakData?: Record<string, unknown>} | AppReport> {
  const {run, w, total} = u
  const earlier = u.ctl.soaked?.get(i)
  if (!s.finalize || !s.soak || earlier !== undefined) return {soakData: earlier}
  const command = `soak ${s.soak.duration}: ${describeCheck(renderCheck(s.soak.check, w.scope))}`
  run.emit({type: 'step-start', app: w.name, step: s.id, index: i, total, attempt: 1, kind: stepKind(s), command})
  const sk = await soak(run, w, s)
  const soakData = {soak: {ok: sk.ok, message: sk.message, polls: sk.polls, durationMs: Math.round(sk.durationMs)}}
  if (sk.ok) return {soakData}
  if (run.signal.aborted) {
    await record(run, {type: 'interrupted', app: w.name, message: `stopped during the soak before ${s.id}`})
    return u.finish('interrupted', `stopped during the soak before ${s.id}`)
  }
  await record(
    run,
    {type: 'step-failed', app: w.name, step: s.id, attempt: 1, error: sk.message, check: soakData},
    {type: 'step-end', app: w.name, step: s.id, index: i, total, status: 'failed', message: sk.message},
  )
  u.rep(s.id).status = 'failed'
  u.rep(s.id).error = sk.message
  return u.fail(sk.message)
}
