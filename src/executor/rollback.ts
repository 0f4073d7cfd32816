// Rolling back one application's completed steps, newest first: each compensation journaled as started before it
// runs; one interrupted by a crash runs again only if it is idempotent or the operator said so. A finalized step is
// the point of no return: the rollback stops there.
import path from 'node:path'
import {describeFailure} from '../process/run.js'
import {renderArgv, renderString} from '../runbook/vars.js'
import {durationMs} from '../schema/common.js'
import type {Step} from '../schema/template.js'
import {STEP_ENV} from '../state/proc.js'
import type {AppState, StepState} from '../state/status.js'
import {retryDelay} from './backoff.js'
import type {AppWork} from './prepare.js'
import {commandText, lastLine, renderEnv} from './render.js'
import {journalProcess, named, record, type Run, staleDecision, stepMarker, unitState, whoRan} from './run.js'
import type {AppOutcome, AppReport, ExecEvent, StepReport} from './types.js'

export interface RollbackResult {
  outcome: AppOutcome
  message: string
  steps: Map<string, StepReport['status']>
}

/** One application's rollback in progress. */
interface Undo {
  run: Run
  w: AppWork
  results: Map<string, StepReport['status']>
  /** Shows an event (app-end is left to the group runner when quiet). */
  emit: (e: ExecEvent) => void
}

type Stop = Omit<RollbackResult, 'steps'>

const UNDONE = new Set(['succeeded', 'rolling-back', 'rollback-failed', 'interrupted', 'running'])

/**
 * A compensation that was running when a previous run stopped: the same rules as a forward step. Returns whether it
 * is settled (the operator confirmed it took effect), or a stop when it needs an operator's decision.
 */
async function resumeCompensation(u: Undo, s: Step, st: StepState): Promise<'settled' | 'run' | Stop> {
  const {run, w} = u
  if (st.status !== 'rolling-back' || !s.rollback || st.rollbackRetry) return 'run'
  const who = whoRan(st)
  const wave = run.prep.wave.number
  const stale = staleDecision(run, w, s.id, 'rollback')
  if (stale) return {outcome: 'needs-operator', message: stale}
  if (named(run.opts.skipSteps, w, s.id)) {
    const message = `--skip-step: the operator confirmed the interrupted rollback took effect${who}`
    await record(run, {type: 'operator-skip', app: w.name, step: s.id, mode: 'rollback', message})
    u.results.set(s.id, 'rolled-back')
    u.emit({
      type: 'rollback-step',
      app: w.name,
      step: s.id,
      status: 'succeeded',
      message: 'confirmed by the operator (--skip-step)',
    })
    return 'settled'
  }
  const again = named(run.opts.retrySteps, w, s.id)
  if (!again && !(s.rollbackIdempotent ?? s.idempotent)) {
    const message = `the rollback of ${s.id} was running when a previous run stopped${who} and is not idempotent: check whether it took effect, then rerun \`migrate rollback wave ${wave}\` with --skip-step ${w.name}/${s.id} (it did) or --retry-step ${w.name}/${s.id} (it did not)`
    return {outcome: 'needs-operator', message}
  }
  const message = again
    ? `--retry-step: the operator confirmed the interrupted rollback did not take effect${who}`
    : `idempotent rollback interrupted${who}: running it again`
  await record(run, {type: 'operator-retry', app: w.name, step: s.id, mode: 'rollback', message})
  return 'run'
}

/** A finalized step stays: the rollback stops there. */
async function stopAtFinalized(u: Undo, s: Step, st: StepState): Promise<Stop> {
  const undone = [...u.results.values()].filter((x) => x === 'rolled-back').length
  const message = `finalized (${s.id} is the point of no return, done ${st.finishedAt ? `${st.finishedAt.slice(0, 16).replace('T', ' ')} UTC` : 'earlier'}): it stays on the target${undone ? `; the ${undone} step(s) after ${s.id} were undone` : ' and nothing was changed'}. Moving it back is a new migration the other way`
  await record(u.run, {type: 'app-failed', app: u.w.name, error: message})
  u.emit({type: 'app-end', app: u.w.name, outcome: 'finalized', message})
  return {outcome: 'finalized', message}
}

/** The rollback of one step failed (it did not render, failed or timed out): the steps before it stay. */
async function compensationFailed(
  u: Undo,
  s: Step,
  msg: string,
  extra: {exitCode?: number; output?: string},
): Promise<Stop> {
  const {run, w} = u
  await record(run, {type: 'rollback-failed', app: w.name, step: s.id, mode: 'rollback', ...extra, error: msg})
  u.results.set(s.id, 'rollback-failed')
  u.emit({type: 'rollback-step', app: w.name, step: s.id, status: 'failed', message: msg})
  return {outcome: 'rollback-failed', message: msg}
}

function renderCompensation(
  run: Run,
  w: AppWork,
  s: Step,
): {argv: string[]; env?: Record<string, string>; cwd?: string} {
  return {
    argv: renderArgv(s.rollback!, w.scope),
    env: {...renderEnv(s.env, w.scope), [STEP_ENV]: stepMarker(run, w, s.id, 'rollback')},
    cwd: s.cwd ? path.resolve(run.prep.ctx.planDir, renderString(s.cwd, w.scope)) : undefined,
  }
}

/** Runs one step's compensation (with the step's retries). Undefined when it succeeded. */
async function compensate(u: Undo, s: Step, reason: string): Promise<Stop | undefined> {
  const {run, w} = u
  const {R} = run
  const wave = run.prep.wave.number
  let c: ReturnType<typeof renderCompensation>
  try {
    c = renderCompensation(run, w, s)
  } catch (e) {
    const msg = R((e as Error).message)
    await compensationFailed(u, s, msg, {})
    const message = `rollback of ${s.id} failed: ${msg}`
    await record(run, {type: 'app-failed', app: w.name, error: message})
    return {outcome: 'rollback-failed', message}
  }
  await record(
    run,
    {type: 'rollback-started', app: w.name, step: s.id, mode: 'rollback', argv: c.argv, message: reason},
    {type: 'rollback-step', app: w.name, step: s.id, status: 'started', command: R(commandText(c.argv))},
  )
  const timeoutMs = s.timeout !== undefined ? durationMs(s.timeout) : undefined
  const onSpawn = journalProcess(run, w, s.id, 'rollback')
  const {argv, env, cwd} = c
  const once = () => run.deps.runCommand(argv, {cwd, env, timeoutMs, signal: run.signal, redact: R, onSpawn})
  let r = await once()
  for (let n = 1; s.retries && n <= s.retries.count && r.exitCode !== 0 && !r.canceled; n++) {
    await run.deps.sleep(retryDelay(s.retries, n), run.signal)
    r = await once()
  }
  const output = r.output ? R(r.output) : undefined
  if (r.exitCode === 0 && !r.canceled && !r.timedOut) {
    const ev = {mode: 'rollback' as const, exitCode: 0, durationMs: Math.round(r.durationMs), output}
    await record(run, {type: 'rollback-succeeded', app: w.name, step: s.id, ...ev})
    u.results.set(s.id, 'rolled-back')
    u.emit({type: 'rollback-step', app: w.name, step: s.id, status: 'succeeded'})
    return undefined
  }
  if (r.canceled) {
    const error = 'rollback stopped by Ctrl-C/SIGTERM'
    await record(run, {type: 'interrupted', app: w.name, step: s.id, mode: 'rollback', output, error})
    return {
      outcome: 'interrupted',
      message: `interrupted while rolling back ${s.id}; rerun \`migrate rollback\` to continue`,
    }
  }
  const msg = R(describeFailure(r, timeoutMs)) + (r.output ? `: ${lastLine(R(r.output))}` : '')
  await compensationFailed(u, s, msg, {exitCode: r.exitCode, output})
  const message = `rollback of ${s.id} failed (${msg}); the steps before it were not rolled back. Fix the cause, then run \`migrate rollback wave ${wave} --app ${w.name}\``
  await record(run, {type: 'app-failed', app: w.name, error: message})
  u.emit({type: 'app-end', app: w.name, outcome: 'rollback-failed', message})
  return {outcome: 'rollback-failed', message}
}

/** One step of the rollback, newest first. Undefined to go on with the step before it. */
async function undoStep(u: Undo, s: Step, st: StepState, reason: string): Promise<Stop | undefined> {
  const {run, w} = u
  const resumed = await resumeCompensation(u, s, st)
  if (resumed === 'settled') return undefined
  if (resumed !== 'run') return resumed
  if (s.finalize && st.status === 'succeeded') return stopAtFinalized(u, s, st)
  if (!s.rollback) {
    const message = 'no rollback command: nothing to undo'
    u.emit({type: 'rollback-step', app: w.name, step: s.id, status: 'none', message})
    return undefined
  }
  if (run.signal.aborted) {
    await record(run, {type: 'interrupted', app: w.name, mode: 'rollback', error: 'interrupted during rollback'})
    return {outcome: 'interrupted', message: 'interrupted during rollback; rerun `migrate rollback` to continue'}
  }
  return compensate(u, s, reason)
}

export async function rollbackApp(
  run: Run,
  w: AppWork,
  state: AppState,
  reason: string,
  quiet = false,
): Promise<RollbackResult> {
  const u: Undo = {
    run,
    w,
    results: new Map(),
    emit: (e) => {
      if (!(quiet && e.type === 'app-end')) run.emit(e)
    },
  }
  const todo = w
    .template!.steps.map((s) => ({s, st: state.steps.find((x) => x.id === s.id)}))
    .filter(({st}) => st && UNDONE.has(st.status))
    .reverse()
  for (const {s, st} of todo) {
    const stop = await undoStep(u, s, st!, reason)
    if (stop) return {...stop, steps: u.results}
  }
  await record(run, {type: 'app-rolled-back', app: w.name, message: reason})
  return {outcome: 'rolled-back', message: reason, steps: u.results}
}

/** What failApp needs of the unit it fails. */
export interface Failing {
  report: AppReport
  finish: (o: AppOutcome, m?: string) => AppReport
  quiet?: boolean
  onFail?: (why: string) => void
}

/** A unit failed: its completed steps are rolled back (unless --no-rollback), and its report says how that went. */
export async function failApp(run: Run, w: AppWork, f: Failing, why: string): Promise<AppReport> {
  f.onFail?.(`${w.name}: ${why}`)
  if (run.opts.noRollback) {
    const message = '--no-rollback: completed steps were left in place'
    await record(run, {type: 'app-failed', app: w.name, error: why, message})
    return f.finish(
      'failed',
      `${why} (--no-rollback: nothing was rolled back; rerun to retry the failed step, or \`migrate rollback\`)`,
    )
  }
  const rb = await rollbackApp(run, w, unitState(run, w), `rolling back after: ${why}`, f.quiet)
  for (const [id, st] of rb.steps) {
    const r = f.report.steps.find((x) => x.id === id)
    if (r) r.rollbackStatus = st
  }
  if (rb.outcome === 'rolled-back') return f.finish('rolled-back', `${why}; its completed steps were rolled back`)
  f.report.outcome = rb.outcome
  f.report.message = rb.message
  if (rb.outcome !== 'rollback-failed' && rb.outcome !== 'finalized' && !f.quiet)
    run.emit({type: 'app-end', app: w.name, outcome: rb.outcome, message: rb.message})
  return f.report
}
