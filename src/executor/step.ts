// One step's action (run, check or wait) with its retries and timeout: every attempt journaled as started before it
// runs and as succeeded, failed or interrupted after, then shown.
import path from 'node:path'
import {describeCheck} from '../health/index.js'
import type {CheckResult} from '../health/types.js'
import {describeFailure} from '../process/run.js'
import {renderArgv, renderString} from '../runbook/vars.js'
import {durationMs} from '../schema/common.js'
import type {HealthCheck, Step} from '../schema/template.js'
import {STEP_ENV} from '../state/proc.js'
import {retryDelay} from './backoff.js'
import type {AppWork} from './prepare.js'
import {commandText, lastLine, renderCheck, renderEnv, stepKind} from './render.js'
import {journalProcess, record, recordSoon, type Run, stepMarker} from './run.js'

export interface StepResult {
  status: 'succeeded' | 'failed' | 'interrupted'
  error?: string
  attempts: number
  durationMs: number
  detail?: string
  /** A success journaled with recordSoon: settles once it is durable (and shown). */
  durable?: Promise<void>
}

/** Where a step is in its application's runbook, for the views. */
export interface StepAt {
  index: number
  total: number
}

/** A step's action rendered for its unit. */
interface Action {
  env?: Record<string, string>
  cwd?: string
  argv?: string[]
  check?: HealthCheck
}

/** What one attempt did. */
interface Attempt {
  ok: boolean
  interrupted: boolean
  error: string
  exitCode?: number
  output?: string
  checkData?: Record<string, unknown>
  captured?: Record<string, string>
}

function renderAction(run: Run, w: AppWork, s: Step): Action {
  const a: Action = {
    env: {...renderEnv(s.env, w.scope), [STEP_ENV]: stepMarker(run, w, s.id)},
    cwd: s.cwd ? path.resolve(run.prep.ctx.planDir, renderString(s.cwd, w.scope)) : undefined,
  }
  if ('run' in s) a.argv = renderArgv(s.run, w.scope)
  if ('check' in s) a.check = renderCheck(s.check, w.scope)
  if ('wait' in s) a.check = renderCheck(s.wait.check, w.scope)
  return a
}

/** The captured value: trimmed stdout, or the first group (else the whole match) of the pattern. */
export function capture(stdout: string, pattern?: string): string | undefined {
  if (!pattern) return stdout.trim()
  const m = new RegExp(pattern, 'm').exec(stdout)
  return m ? (m[1] ?? m[0]) : undefined
}

async function runAttempt(run: Run, w: AppWork, s: Step, argv: string[], a: Action): Promise<Attempt> {
  const {R, signal} = run
  const timeoutMs = s.timeout !== undefined ? durationMs(s.timeout) : undefined
  const r = await run.deps.runCommand(argv, {
    cwd: a.cwd,
    env: a.env,
    timeoutMs,
    signal,
    redact: R,
    onSpawn: journalProcess(run, w, s.id),
  })
  const ok = r.exitCode === 0 && !r.canceled && !r.timedOut
  const out: Attempt = {
    ok,
    interrupted: r.canceled,
    exitCode: r.exitCode,
    output: r.output ? R(r.output) : undefined,
    error: R(describeFailure(r, timeoutMs)) + (r.output && !ok ? `: ${lastLine(R(r.output))}` : ''),
  }
  if (ok && s.capture) {
    const value = capture(r.stdout, s.capturePattern)
    if (value === undefined) {
      out.ok = false
      out.error = `the output does not match capturePattern /${s.capturePattern}/: ${lastLine(R(r.stdout)) || '(no output)'}`
    } else out.captured = {[s.capture]: R(value)}
  }
  return out
}

async function checkAttempt(run: Run, s: Step, check: HealthCheck, a: Action): Promise<Attempt> {
  const {R, signal} = run
  let r: CheckResult & {polls?: number}
  if ('wait' in s) r = await pollUntil(run, check, durationMs(s.wait.interval), durationMs(s.wait.deadline), a)
  else {
    const timeoutMs = s.timeout !== undefined ? durationMs(s.timeout) : undefined
    const c = timeoutMs !== undefined && check.timeout === undefined ? {...check, timeout: `${timeoutMs}ms`} : check
    r = await run.deps.runCheck(c as HealthCheck, signal, {env: a.env, cwd: a.cwd})
  }
  const ok = r.status === 'passed'
  const polls = 'wait' in s ? {polls: r.polls} : {}
  return {
    ok,
    interrupted: signal.aborted && !ok,
    checkData: {status: r.status, message: R(r.message), ...polls, ...(r.data ?? {})},
    error: R(r.message),
  }
}

async function pollUntil(
  run: Run,
  check: HealthCheck,
  intervalMs: number,
  deadlineMs: number,
  a: Action,
): Promise<CheckResult & {polls: number}> {
  const start = performance.now()
  let polls = 0
  let last: CheckResult = {status: 'failed', message: 'not checked', durationMs: 0}
  while (!run.signal.aborted) {
    polls++
    last = await run.deps.runCheck(check, run.signal, {env: a.env, cwd: a.cwd})
    if (last.status === 'passed') return {...last, polls}
    if (performance.now() - start + intervalMs > deadlineMs)
      return {
        ...last,
        status: 'failed',
        message: `not ready after ${Math.round((performance.now() - start) / 1000)}s (${polls} checks): ${last.message}`,
        polls,
      }
    await run.deps.sleep(intervalMs, run.signal)
  }
  return {...last, status: 'failed', message: 'stopped while waiting', polls}
}

/** Journals and shows how an attempt ended. */
async function recordAttempt(
  run: Run,
  w: AppWork,
  s: Step,
  at: StepAt,
  n: number,
  ms: number,
  x: Attempt,
  retryIn: number | undefined,
  of: number,
  soon: boolean,
): Promise<void | {durable: Promise<void>}> {
  const base = {app: w.name, step: s.id, attempt: n, exitCode: x.exitCode, durationMs: ms, output: x.output}
  const view = {type: 'step-end' as const, app: w.name, step: s.id, ...at, attempt: n, durationMs: ms}
  if (x.ok) {
    if (x.captured && s.capture) w.scope.values.set(`steps.${s.capture}`, x.captured[s.capture])
    const message = x.checkData ? String(x.checkData.message) : undefined
    const ev = {...base, type: 'step-succeeded' as const, check: x.checkData, captured: x.captured}
    const shown = {...view, status: 'succeeded' as const, message}
    return soon ? {durable: recordSoon(run, ev, shown)} : record(run, ev, shown)
  }
  if (x.interrupted) {
    const ev = {...base, type: 'interrupted' as const, error: 'stopped by Ctrl-C/SIGTERM while running'}
    return record(run, ev, {...view, status: 'interrupted', message: 'stopped while running'})
  }
  const message = retryIn !== undefined ? `retrying in ${retryIn} ms (attempt ${n} of ${of})` : undefined
  const ev = {...base, type: 'step-failed' as const, error: x.error, check: x.checkData, message}
  return record(run, ev, {...view, status: 'failed', message: x.error, retryInMs: retryIn})
}

/**
 * Runs one attempt-loop of a step's action (run/check/wait). Journals step-started / step-failed per attempt. With
 * `soon`, the success is journaled with recordSoon and the result carries its `durable` promise (the caller's next
 * act must be to journal an event, or to wait for it).
 */
export async function runStepAction(
  run: Run,
  w: AppWork,
  s: Step,
  at: StepAt,
  extraCheck?: Record<string, unknown>,
  soon = false,
): Promise<StepResult> {
  const retries = s.retries?.count ?? 0
  let a: Action
  try {
    a = renderAction(run, w, s)
  } catch (e) {
    const msg = run.R(e instanceof Error ? e.message : String(e))
    await record(
      run,
      {type: 'step-failed', app: w.name, step: s.id, attempt: 1, error: msg},
      {type: 'step-end', app: w.name, step: s.id, ...at, status: 'failed', attempt: 1, message: msg},
    )
    return {status: 'failed', error: msg, attempts: 1, durationMs: 0}
  }
  const detail = run.R(a.argv ? commandText(a.argv) : a.check ? describeCheck(a.check) : '')
  let lastError = ''
  let totalMs = 0
  for (let n = 1; n <= retries + 1; n++) {
    if (run.signal.aborted) {
      const error = 'interrupted before the attempt started'
      return {status: 'interrupted', error, attempts: n - 1, durationMs: totalMs, detail}
    }
    const started = {type: 'step-started' as const, app: w.name, step: s.id, attempt: n, argv: a.argv}
    await record(
      run,
      {...started, check: n === 1 ? extraCheck : undefined},
      {type: 'step-start', app: w.name, step: s.id, ...at, attempt: n, kind: stepKind(s), command: detail},
    )
    const t0 = performance.now()
    const x = a.argv
      ? await runAttempt(run, w, s, a.argv, a)
      : a.check
        ? await checkAttempt(run, s, a.check, a)
        : {ok: false, interrupted: false, error: ''}
    const ms = Math.round(performance.now() - t0)
    totalMs += ms
    lastError = x.error
    const retryIn = !x.ok && !x.interrupted && n <= retries && s.retries ? retryDelay(s.retries, n) : undefined
    const recorded = await recordAttempt(run, w, s, at, n, ms, x, retryIn, retries + 1, soon)
    if (x.ok) return {status: 'succeeded', attempts: n, durationMs: totalMs, detail, durable: recorded?.durable}
    if (x.interrupted)
      return {status: 'interrupted', error: 'interrupted while running', attempts: n, durationMs: totalMs, detail}
    if (retryIn !== undefined) await run.deps.sleep(retryIn, run.signal)
  }
  return {status: 'failed', error: lastError, attempts: retries + 1, durationMs: totalMs, detail}
}
