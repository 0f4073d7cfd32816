// The executor: runs the applications of a wave concurrently, each application's steps in order, with retries,
// timeouts, `when`, gates and finalize soaks; a failed step rolls that application's completed steps back in
// reverse. Every state change is journaled (fsynced) before the next action, so a rerun continues where a crash or
// Ctrl-C stopped. The engine only emits events: the commands decide how they look.
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, realpathSync, rmSync, statSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'
import {EXIT, MigrateError} from '../errors.js'
import {describeCheck, quoteArg, runCheck as defaultRunCheck} from '../health/index.js'
import type {CheckResult} from '../health/types.js'
import {PLAN_FILES} from '../paths.js'
import {evaluateWhen, redact, renderArgv, renderString, RenderError, type VarScope} from '../runbook/vars.js'
import {printable} from '../runbook/printable.js'
import {durationMs} from '../schema/common.js'
import type {HealthCheck, Step} from '../schema/template.js'
import {headFile, JournalWriter, readJournal, verifyJournal} from '../state/journal.js'
import {acquireLock, describeLock, type Lock} from '../state/lock.js'
import {findStepProcesses, procStartTime, sameProcessAlive, STEP_ENV} from '../state/proc.js'
import {applyEvent, appState, replay, type AppState, type Replay, type StepState} from '../state/status.js'
import {describeFailure, registerSecrets, runProcess} from './process.js'
import {
  barrierIndex,
  finalizeIndex,
  matchesStep,
  prepareWave,
  renderCheck,
  renderEnv,
  stepKind,
  whichProgram,
  type AppWork,
  type WavePrep,
} from './prepare.js'
import type {
  AppOutcome,
  AppReport,
  CommonOptions,
  ExecEvent,
  ExecuteOptions,
  ExecutorDeps,
  Finding,
  StepReport,
  WaveResult,
} from './types.js'

export const DEFAULT_CONCURRENCY = 4

/** The names a --approve/--skip-step/--retry-step APP/STEP may use for a unit: its own, and its application's. */
function refNames(w: AppWork): string[] {
  return w.group !== undefined ? [w.name, w.group] : [w.name]
}

export function newRunId(): string {
  return `${new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve()
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, {once: true})
  })
}

export function defaultDeps(partial: Partial<ExecutorDeps> = {}): ExecutorDeps {
  return {
    runCommand: runProcess,
    runCheck: defaultRunCheck,
    sleep: abortableSleep,
    which: (p) => whichProgram(p),
    ...partial,
  }
}

/** Throws a PREFLIGHT_BLOCKED error when any finding is a blocker. */
function stopOnBlockers(findings: Finding[], wave: number): void {
  const blockers = findings.filter((f) => f.severity === 'blocker')
  if (blockers.length === 0) return
  throw new MigrateError(
    `pre-flight found ${blockers.length} blocker${blockers.length === 1 ? '' : 's'}: wave ${wave} was not started, nothing was changed`,
    {
      code: 'PREFLIGHT_BLOCKED',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Fix the problems listed above and run again (`--dry-run` checks without running anything)',
      diagnostics: findings.map((f) => ({
        severity: f.severity === 'blocker' ? 'error' : f.severity,
        code: f.code,
        message: printable(`${f.app ? `${f.app}${f.step ? `/${f.step}` : ''}: ` : ''}${f.message}`),
        hint: f.hint,
        file: f.file,
        line: f.line,
        column: f.column,
      })),
      data: {preflight: findings},
    },
  )
}

function summarize(apps: AppReport[]): WaveResult['summary'] {
  const s: WaveResult['summary'] = {}
  for (const a of apps) s[a.outcome] = (s[a.outcome] ?? 0) + 1
  return s
}

/** The wave's exit code: the most serious application outcome decides. */
export function exitCodeFor(apps: AppReport[], interrupted: boolean): number {
  const has = (o: AppOutcome): boolean => apps.some((a) => a.outcome === o)
  if (interrupted || has('interrupted')) return EXIT.INTERRUPTED
  if (has('needs-operator') || has('waiting-gate')) return EXIT.NEEDS_OPERATOR
  if (has('failed') || has('rollback-failed') || has('finalized')) return EXIT.FAILURE
  if (has('rolled-back')) return EXIT.ROLLED_BACK
  if (has('held')) return EXIT.FAILURE
  return EXIT.OK
}

function commandText(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ')
}

/** For dry-runs: render with env values shown as <env.NAME>, never their content; captures not made yet as <steps.NAME>. */
function dryScope(scope: VarScope, t: {steps: Step[]}, st: AppState): VarScope {
  const values = new Map(scope.values)
  for (const s of t.steps) {
    if (!s.capture) continue
    const got = st.steps.find((x) => x.id === s.id)?.captured?.[s.capture]
    values.set(`steps.${s.capture}`, got ?? `<steps.${s.capture}>`)
  }
  return {values, secrets: new Set(), env: (n) => `<env.${n}>`}
}

/** Puts the values earlier runs captured ({{ steps.NAME }}) back into an application's scope. */
function restoreCaptures(w: AppWork, st: AppState): void {
  for (const s of w.template?.steps ?? []) {
    if (!s.capture) continue
    const got = st.steps.find(
      (x) =>
        x.id === s.id && (x.status === 'succeeded' || x.status === 'rolling-back' || x.status === 'rollback-failed'),
    )?.captured?.[s.capture]
    if (got !== undefined) w.scope.values.set(`steps.${s.capture}`, got)
  }
}

function describeStep(s: Step, scope: VarScope): string {
  try {
    if ('run' in s) return commandText(renderArgv(s.run, scope))
    if ('check' in s) return describeCheck(renderCheck(s.check, scope))
    if ('wait' in s)
      return `wait up to ${s.wait.deadline} (every ${s.wait.interval}) for ${describeCheck(renderCheck(s.wait.check, scope))}`
    return `gate: ${renderString(s.gate.message, scope)}`
  } catch (e) {
    return e instanceof RenderError ? `(cannot render: ${e.message})` : String(e)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dry-run

function dryRun(prep: WavePrep, opts: ExecuteOptions, runId: string, emit: (e: ExecEvent) => void): WaveResult {
  // A dry-run takes no lock: the journal as prepareWave read it is the one to show.
  const r = prep.journal
  const apps: AppReport[] = []
  let pending = 0
  for (const w of prep.apps) {
    const t = w.template
    if (!t) continue
    const st = appState(
      r,
      prep.wave.number,
      w.name,
      t.steps.map((s) => s.id),
    )
    const ds = dryScope(w.scope, t, st)
    const fresh = st.status === 'rolled-back'
    const steps: StepReport[] = []
    t.steps.forEach((s, i) => {
      const prev = st.steps.find((x) => x.id === s.id)
      const done = !fresh && (prev?.status === 'succeeded' || prev?.status === 'skipped')
      const when = s.when === undefined ? true : evaluateWhen(s.when, ds)
      const kind = stepKind(s)
      const detail = describeStep(s, ds)
      const rollback = s.rollback ? describeStep({id: s.id, run: s.rollback} as Step, ds) : undefined
      const needsGate = kind === 'gate' || s.finalize
      const approved = prev?.approved || matchesStep(opts.approve, refNames(w), s.id) || (!!opts.yes && !s.finalize)
      const status = done ? 'done' : !when ? 'skip' : needsGate && !approved ? 'gate' : 'pending'
      if (status === 'pending' || status === 'gate') pending++
      const own =
        status === 'skip'
          ? `when "${s.when}" is false`
          : status === 'gate'
            ? `needs approval: --approve ${s.id}${s.finalize ? ' (finalize: --yes does not approve it)' : ' or --yes'}`
            : s.finalize
              ? `finalize after a ${s.soak?.duration ?? '?'} soak`
              : undefined
      // The servers of a per-server runbook meet at two barriers: say where, so the plan's reviewer sees it.
      const servers = w.group !== undefined ? prep.apps.filter((x) => x.group === w.group).length : 0
      const barrier =
        w.group === undefined || done
          ? undefined
          : i === barrierIndex(t.steps)
            ? `barrier: the ${servers} server(s) of ${w.group} cut over together`
            : i === finalizeIndex(t.steps)
              ? `barrier: the servers of ${w.group} finalize only when all soaked and were approved`
              : undefined
      const note = [own, barrier].filter(Boolean).join('; ') || undefined
      emit({
        type: 'dry-step',
        app: w.name,
        step: s.id,
        index: i,
        total: t.steps.length,
        kind,
        status,
        detail: redact(detail, prep.secrets),
        rollback,
        note,
      })
      steps.push({
        id: s.id,
        kind,
        status:
          status === 'done'
            ? 'already-done'
            : status === 'skip'
              ? 'skipped'
              : status === 'gate'
                ? 'waiting-gate'
                : 'pending',
        detail: redact(detail, prep.secrets),
        rollback,
        note,
      })
    })
    const outcome: AppOutcome = steps.some((s) => s.status === 'pending' || s.status === 'waiting-gate')
      ? 'pending'
      : 'done'
    apps.push({app: w.name, template: w.templateName, outcome, steps})
  }
  const exitCode = pending > 0 && opts.detailedExitcode ? EXIT.PENDING : EXIT.OK
  return {
    wave: prep.wave.number,
    runId,
    mode: 'dry-run',
    planDir: prep.ctx.planDir,
    apps,
    preflight: prep.findings,
    pendingSteps: pending,
    exitCode,
    summary: summarize(apps),
    warnings: [],
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared run machinery (execute and rollback)

interface Run {
  prep: WavePrep
  opts: ExecuteOptions
  deps: ExecutorDeps
  journal: JournalWriter
  signal: AbortSignal
  emit: (e: ExecEvent) => void
  replayed: Replay
  R: (s: string) => string
  /** The answer for an application's servers, by APP/STEP: a per-server runbook asks once. */
  groupAsks: Map<string, Promise<boolean>>
}

/** Names this plan in step markers: the same plan directory gives the same key, wherever it is run from. */
export function planKey(planDir: string): string {
  let real = path.resolve(planDir)
  try {
    real = realpathSync(real)
  } catch {
    /* not there: the resolved path */
  }
  return createHash('sha256').update(real).digest('hex').slice(0, 16)
}

/** The MIGRATE_STEP marker of a step's processes: PLANKEY|UNIT|STEP[|rollback]. */
function stepMarker(run: Run, w: AppWork, step: string, mode?: 'rollback'): string {
  return `${planKey(run.prep.ctx.planDir)}|${w.name}|${step}${mode ? `|${mode}` : ''}`
}

/** Journals the pid and start time of a step's process (not awaited: the step runs meanwhile; order is kept). */
function journalProcess(run: Run, w: AppWork, step: string, mode?: 'rollback'): (pid: number) => void {
  return (pid) => {
    run.journal
      .append({
        type: 'step-process',
        wave: run.prep.wave.number,
        app: w.name,
        step,
        pid,
        startTime: procStartTime(pid),
        ...(mode ? {mode} : {}),
      })
      .catch(() => undefined)
  }
}

/**
 * Processes of this plan's steps that outlived a previous run (a kill -9 of the CLI leaves its step running): found
 * by their marker, and by the pid and start time the journal recorded. A resume waits for them (up to
 * MIGRATE_WAIT_FOR_STEPS seconds, 60 by default) and, if they are still there, stops naming them: a step must never
 * run twice at once, idempotent or not.
 */
async function awaitLeftoverSteps(
  planDir: string,
  journalFile: string,
  emit: (e: ExecEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const key = planKey(planDir)
  const recorded: {pid: number; startTime?: string; what: string}[] = []
  const r = replay(readJournal(journalFile).events)
  // A process a step left behind on purpose (a daemon it started) once the step is done is not a running step.
  const finished = new Set<string>()
  for (const [, apps] of r.waves) {
    for (const [, a] of apps) {
      for (const st of a.steps.values()) {
        if (st.status === 'succeeded' || st.status === 'skipped') finished.add(`${a.name}|${st.id}`)
        if (st.status === 'rolled-back') finished.add(`${a.name}|${st.id}|rollback`)
        if (st.status === 'rolled-back' || st.status === 'rolling-back' || st.status === 'rollback-failed')
          finished.add(`${a.name}|${st.id}`)
        if (
          st.process &&
          st.process.host === hostname() &&
          (st.status === 'running' || st.status === 'interrupted' || st.status === 'rolling-back')
        )
          recorded.push({pid: st.process.pid, startTime: st.process.startTime, what: `${a.name}/${st.id}`})
      }
    }
  }
  const find = (): {pid: number; what: string; command?: string; startTime?: string}[] => {
    const out: {pid: number; what: string; command?: string; startTime?: string}[] = findStepProcesses(`${key}|`)
      .filter((p) => !finished.has(p.marker.slice(key.length + 1)))
      .map((p) => ({
        pid: p.pid,
        what: p.marker.split('|').slice(1, 3).join('/') + (p.marker.endsWith('|rollback') ? ' (rollback)' : ''),
        command: p.command,
        startTime: p.startTime,
      }))
    for (const p of recorded) if (!out.some((o) => o.pid === p.pid) && sameProcessAlive(p.pid, p.startTime)) out.push(p)
    return out
  }
  let left = find()
  if (left.length === 0) return
  const waitS = Number(process.env.MIGRATE_WAIT_FOR_STEPS ?? 60)
  const name = (l: typeof left): string =>
    l.map((p) => `${p.what} (pid ${p.pid}${p.command ? `: ${printable(p.command).slice(0, 80)}` : ''})`).join(', ')
  emit({
    type: 'preflight',
    finding: {
      severity: 'warning',
      code: 'STEP_STILL_RUNNING',
      message: `${left.length} process(es) of steps of a previous run are still running: ${name(left)}; waiting up to ${waitS}s for them to finish before anything runs`,
    },
  })
  const until = performance.now() + waitS * 1000
  while (left.length > 0 && performance.now() < until && !signal.aborted) {
    await new Promise((res) => setTimeout(res, 100))
    left = find()
  }
  if (left.length === 0) return
  throw new MigrateError(
    `step processes of a previous run are still running: ${name(left)}; running anything now could run the same step twice at once`,
    {
      code: 'STEP_STILL_RUNNING',
      exitCode: EXIT.NEEDS_OPERATOR,
      hint: `Wait for them to finish, or stop them (\`kill -TERM ${left.map((p) => p.pid).join(' ')}\`), then run again; the journal then says whether each step needs --skip-step or --retry-step. Nothing was run`,
      data: {processes: left},
    },
  )
}

/**
 * Resuming means trusting the journal: which steps ran is read from it. One that does not verify (an edited or
 * removed event, lines cut from its end, two runs' events interleaved) is refused before anything runs.
 */
function refuseUntrustedJournal(file: string, operation: string): void {
  const v = verifyJournal(file)
  if (v.ok) return
  const first = v.problems[0]
  throw new MigrateError(
    `${operation} refused: the journal does not verify (${v.problems.length} problem${v.problems.length === 1 ? '' : 's'}, the first at ${file}:${first.line}: ${first.problem}); resuming from it could rerun a step that already ran or skip one that did not`,
    {
      code: 'JOURNAL_TAMPERED',
      exitCode: EXIT.FAILURE,
      hint:
        `\`migrate status --verify\` lists every problem. Restore ${path.basename(file)} and ${path.basename(headFile(file))} from a backup (or git) and run again; ` +
        `if there is none, move both aside, check on the systems which steps took effect, and rerun with --skip-step for those (nothing was run now)`,
      data: {problems: v.problems, file},
    },
  )
}

async function withLockAndJournal<T>(
  prep: WavePrep,
  opts: CommonOptions,
  operation: string,
  runId: string,
  fn: (journal: JournalWriter, lock: Lock) => Promise<T>,
): Promise<T> {
  const emit = opts.emit ?? (() => undefined)
  const lockFile = path.join(prep.ctx.planDir, PLAN_FILES.lock)
  const lock = acquireLock(lockFile, operation, {force: opts.forceUnlock})
  let journal: JournalWriter | undefined
  const journalFile = path.join(prep.ctx.planDir, PLAN_FILES.journal)
  const hadJournal = existsSync(journalFile)
  try {
    refuseUntrustedJournal(journalFile, operation)
    await awaitLeftoverSteps(prep.ctx.planDir, journalFile, emit, opts.signal ?? new AbortController().signal)
    journal = JournalWriter.open(journalFile, runId, (s) => redact(s, prep.secrets))
    if (lock.replaced) {
      const holder = lock.replaced.info ? describeLock(lock.replaced.info) : 'an unknown process'
      emit({
        type: 'preflight',
        finding:
          lock.replaced.reason === 'stale'
            ? {
                severity: 'info',
                code: 'STALE_LOCK',
                message: `took over the lock of ${holder}: that process is no longer running (a crash); resuming from the journal`,
              }
            : {
                severity: 'warning',
                code: 'LOCK_FORCED',
                message: `--force-unlock removed the lock of ${holder}: if that run is still alive, both runs execute the same steps and interleave the journal`,
              },
      })
      await journal.append({
        type: 'lock-forced',
        wave: prep.wave.number,
        message:
          lock.replaced.reason === 'stale'
            ? `took over a stale lock of ${lock.replaced.info ? describeLock(lock.replaced.info) : 'an unknown process'} (no longer running)`
            : `--force-unlock: removed the lock of ${lock.replaced.info ? describeLock(lock.replaced.info) : 'an unknown process'}; if it was still running, two runs overlapped`,
      })
    }
    return await fn(journal, lock)
  } finally {
    if (journal) await journal.close().catch(() => undefined)
    // A run that did nothing (a rollback with nothing to undo) leaves no empty journal behind.
    try {
      if (!hadJournal && statSync(journalFile).size === 0) {
        rmSync(journalFile)
        rmSync(headFile(journalFile), {force: true})
      }
    } catch {
      // Not there: nothing to tidy.
    }
    lock.release()
  }
}

/** Runs one attempt-loop of a step's action (run/check/wait). Journals step-started / step-failed per attempt. */
async function runStepAction(
  run: Run,
  w: AppWork,
  s: Step,
  index: number,
  total: number,
  extraCheck?: Record<string, unknown>,
): Promise<{
  status: 'succeeded' | 'failed' | 'interrupted'
  error?: string
  attempts: number
  durationMs: number
  detail?: string
}> {
  const {deps, journal, signal, emit, R} = run
  const wave = run.prep.wave.number
  const retries = s.retries?.count ?? 0
  let backoff = s.retries ? durationMs(s.retries.backoff) : 1000
  const factor = s.retries?.factor ?? 2
  const timeoutMs = s.timeout !== undefined ? durationMs(s.timeout) : undefined
  const kind = stepKind(s)
  let env: Record<string, string> | undefined
  let cwd: string | undefined
  let argv: string[] | undefined
  let check: HealthCheck | undefined
  try {
    env = {...renderEnv(s.env, w.scope), [STEP_ENV]: stepMarker(run, w, s.id)}
    cwd = s.cwd ? path.resolve(run.prep.ctx.planDir, renderString(s.cwd, w.scope)) : undefined
    if ('run' in s) argv = renderArgv(s.run, w.scope)
    if ('check' in s) check = renderCheck(s.check, w.scope)
    if ('wait' in s) check = renderCheck(s.wait.check, w.scope)
  } catch (e) {
    const msg = R(e instanceof Error ? e.message : String(e))
    await journal.append({type: 'step-failed', wave, app: w.name, step: s.id, attempt: 1, error: msg})
    emit({type: 'step-end', app: w.name, step: s.id, index, total, status: 'failed', attempt: 1, message: msg})
    return {status: 'failed', error: msg, attempts: 1, durationMs: 0}
  }
  const detail = R(argv ? commandText(argv) : check ? describeCheck(check) : '')
  let lastError = ''
  let total_ms = 0
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    if (signal.aborted)
      return {
        status: 'interrupted',
        error: 'interrupted before the attempt started',
        attempts: attempt - 1,
        durationMs: total_ms,
        detail,
      }
    await journal.append({
      type: 'step-started',
      wave,
      app: w.name,
      step: s.id,
      attempt,
      argv,
      check: attempt === 1 ? extraCheck : undefined,
    })
    emit({type: 'step-start', app: w.name, step: s.id, index, total, attempt, kind, command: detail})
    const t0 = performance.now()
    let ok = false
    let exitCode: number | undefined
    let output: string | undefined
    let checkData: Record<string, unknown> | undefined
    let captured: Record<string, string> | undefined
    let interrupted = false
    if (argv) {
      const r = await deps.runCommand(argv, {
        cwd,
        env,
        timeoutMs,
        signal,
        redact: R,
        onSpawn: journalProcess(run, w, s.id),
      })
      exitCode = r.exitCode
      output = r.output ? R(r.output) : undefined
      ok = r.exitCode === 0 && !r.canceled && !r.timedOut
      interrupted = r.canceled
      lastError = R(describeFailure(r, timeoutMs)) + (r.output && !ok ? `: ${lastLine(R(r.output))}` : '')
      if (ok && s.capture) {
        const value = capture(r.stdout, s.capturePattern)
        if (value === undefined) {
          ok = false
          lastError = `the output does not match capturePattern /${s.capturePattern}/: ${lastLine(R(r.stdout)) || '(no output)'}`
        } else captured = {[s.capture]: R(value)}
      }
    } else if (check && kind === 'check') {
      const r = await runOneCheck(run, check, signal, timeoutMs, env, cwd)
      ok = r.status === 'passed'
      interrupted = signal.aborted && !ok
      checkData = {status: r.status, message: R(r.message), ...(r.data ?? {})}
      lastError = R(r.message)
    } else if (check && 'wait' in s) {
      const r = await pollUntil(run, check, durationMs(s.wait.interval), durationMs(s.wait.deadline), env, cwd)
      ok = r.status === 'passed'
      interrupted = signal.aborted && !ok
      checkData = {status: r.status, message: R(r.message), polls: r.polls, ...(r.data ?? {})}
      lastError = R(r.message)
    }
    const ms = Math.round(performance.now() - t0)
    total_ms += ms
    if (ok) {
      if (captured && s.capture) w.scope.values.set(`steps.${s.capture}`, captured[s.capture])
      await journal.append({
        type: 'step-succeeded',
        wave,
        app: w.name,
        step: s.id,
        attempt,
        exitCode,
        durationMs: ms,
        output,
        check: checkData,
        captured,
      })
      emit({
        type: 'step-end',
        app: w.name,
        step: s.id,
        index,
        total,
        status: 'succeeded',
        attempt,
        durationMs: ms,
        message: checkData ? String(checkData.message) : undefined,
      })
      return {status: 'succeeded', attempts: attempt, durationMs: total_ms, detail}
    }
    if (interrupted) {
      await journal.append({
        type: 'interrupted',
        wave,
        app: w.name,
        step: s.id,
        attempt,
        exitCode,
        durationMs: ms,
        output,
        error: 'stopped by Ctrl-C/SIGTERM while running',
      })
      emit({
        type: 'step-end',
        app: w.name,
        step: s.id,
        index,
        total,
        status: 'interrupted',
        attempt,
        durationMs: ms,
        message: 'stopped while running',
      })
      return {
        status: 'interrupted',
        error: 'interrupted while running',
        attempts: attempt,
        durationMs: total_ms,
        detail,
      }
    }
    const retryIn = attempt <= retries ? backoff : undefined
    await journal.append({
      type: 'step-failed',
      wave,
      app: w.name,
      step: s.id,
      attempt,
      exitCode,
      durationMs: ms,
      output,
      error: lastError,
      check: checkData,
      message: retryIn !== undefined ? `retrying in ${retryIn} ms (attempt ${attempt} of ${retries + 1})` : undefined,
    })
    emit({
      type: 'step-end',
      app: w.name,
      step: s.id,
      index,
      total,
      status: 'failed',
      attempt,
      durationMs: ms,
      message: lastError,
      retryInMs: retryIn,
    })
    if (retryIn !== undefined) {
      await deps.sleep(retryIn, signal)
      backoff = Math.round(backoff * factor)
    }
  }
  return {status: 'failed', error: lastError, attempts: retries + 1, durationMs: total_ms, detail}
}

/** The captured value: trimmed stdout, or the first group (else the whole match) of the pattern. */
export function capture(stdout: string, pattern?: string): string | undefined {
  if (!pattern) return stdout.trim()
  const m = new RegExp(pattern, 'm').exec(stdout)
  return m ? (m[1] ?? m[0]) : undefined
}

function lastLine(s: string): string {
  const l = s.trim().split('\n')
  return (l[l.length - 1] ?? '').slice(0, 300)
}

async function runOneCheck(
  run: Run,
  check: HealthCheck,
  signal: AbortSignal,
  timeoutMs: number | undefined,
  env?: Record<string, string>,
  cwd?: string,
): Promise<CheckResult> {
  const c = timeoutMs !== undefined && check.timeout === undefined ? {...check, timeout: `${timeoutMs}ms`} : check
  return run.deps.runCheck(c as HealthCheck, signal, {env, cwd})
}

async function pollUntil(
  run: Run,
  check: HealthCheck,
  intervalMs: number,
  deadlineMs: number,
  env?: Record<string, string>,
  cwd?: string,
): Promise<CheckResult & {polls: number}> {
  const start = performance.now()
  let polls = 0
  let last: CheckResult = {status: 'failed', message: 'not checked', durationMs: 0}
  while (!run.signal.aborted) {
    polls++
    last = await run.deps.runCheck(check, run.signal, {env, cwd})
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

/** Soak: the check must pass at every interval for the whole duration. */
async function soak(
  run: Run,
  w: AppWork,
  s: Step,
): Promise<{ok: boolean; message: string; polls: number; durationMs: number}> {
  const spec = s.soak!
  const check = renderCheck(spec.check, w.scope)
  const total = durationMs(spec.duration)
  const interval = durationMs(spec.interval)
  const start = performance.now()
  let polls = 0
  for (;;) {
    if (run.signal.aborted)
      return {ok: false, message: 'soak stopped (interrupted)', polls, durationMs: performance.now() - start}
    polls++
    const r = await run.deps.runCheck(check, run.signal, {env: {[STEP_ENV]: stepMarker(run, w, s.id)}})
    if (r.status !== 'passed')
      return {
        ok: false,
        message: run.R(
          `soak check failed after ${Math.round((performance.now() - start) / 1000)}s (check ${polls}): ${r.message}`,
        ),
        polls,
        durationMs: performance.now() - start,
      }
    if (performance.now() - start >= total)
      return {
        ok: true,
        message: `healthy for ${spec.duration} (${polls} checks)`,
        polls,
        durationMs: performance.now() - start,
      }
    await run.deps.sleep(Math.min(interval, Math.max(0, total - (performance.now() - start))), run.signal)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rollback of one application's completed steps, newest first

async function rollbackApp(
  run: Run,
  w: AppWork,
  state: AppState,
  reason: string,
  quiet = false,
): Promise<{outcome: AppOutcome; message: string; steps: Map<string, StepReport['status']>}> {
  const {journal, R} = run
  const emit = (e: ExecEvent): void => {
    if (!(quiet && e.type === 'app-end')) run.emit(e)
  }
  const wave = run.prep.wave.number
  const t = w.template!
  const results = new Map<string, StepReport['status']>()
  const statusOf = (id: string): StepState | undefined => state.steps.find((x) => x.id === id)
  const todo = t.steps
    .map((s, i) => ({s, i, st: statusOf(s.id)}))
    .filter(
      ({st}) =>
        st &&
        (st.status === 'succeeded' ||
          st.status === 'rolling-back' ||
          st.status === 'rollback-failed' ||
          st.status === 'interrupted' ||
          st.status === 'running'),
    )
    .reverse()
  for (const {s, st} of todo) {
    // A compensation that was running when a previous run stopped: the same rules as a forward step.
    if (st!.status === 'rolling-back' && s.rollback && !st!.rollbackRetry) {
      const who = st!.lastActor
        ? ` (run ${st!.lastRun} by ${st!.lastActor.user}@${st!.lastActor.host} pid ${st!.lastActor.pid})`
        : ''
      if (matchesStep(run.opts.skipSteps, refNames(w), s.id)) {
        await journal.append({
          type: 'operator-skip',
          wave,
          app: w.name,
          step: s.id,
          mode: 'rollback',
          message: `--skip-step: the operator confirmed the interrupted rollback took effect${who}`,
        })
        results.set(s.id, 'rolled-back')
        emit({
          type: 'rollback-step',
          app: w.name,
          step: s.id,
          status: 'succeeded',
          message: 'confirmed by the operator (--skip-step)',
        })
        continue
      }
      const again = matchesStep(run.opts.retrySteps, refNames(w), s.id)
      if (!again && !(s.rollbackIdempotent ?? s.idempotent)) {
        const msg = `the rollback of ${s.id} was running when a previous run stopped${who} and is not idempotent: check whether it took effect, then rerun \`migrate rollback wave ${wave}\` with --skip-step ${w.name}/${s.id} (it did) or --retry-step ${w.name}/${s.id} (it did not)`
        return {outcome: 'needs-operator', message: msg, steps: results}
      }
      await journal.append({
        type: 'operator-retry',
        wave,
        app: w.name,
        step: s.id,
        mode: 'rollback',
        message: again
          ? `--retry-step: the operator confirmed the interrupted rollback did not take effect${who}`
          : `idempotent rollback interrupted${who}: running it again`,
      })
    }
    if (s.finalize && st!.status === 'succeeded') {
      const undone = [...results.values()].filter((x) => x === 'rolled-back').length
      const msg = `finalized (${s.id} is the point of no return, done ${st!.finishedAt ? `${st!.finishedAt.slice(0, 16).replace('T', ' ')} UTC` : 'earlier'}): it stays on the target${undone ? `; the ${undone} step(s) after ${s.id} were undone` : ' and nothing was changed'}. Moving it back is a new migration the other way`
      await journal.append({type: 'app-failed', wave, app: w.name, error: msg})
      emit({type: 'app-end', app: w.name, outcome: 'finalized', message: msg})
      return {outcome: 'finalized', message: msg, steps: results}
    }
    if (!s.rollback) {
      emit({
        type: 'rollback-step',
        app: w.name,
        step: s.id,
        status: 'none',
        message: 'no rollback command: nothing to undo',
      })
      continue
    }
    if (run.signal.aborted) {
      await journal.append({
        type: 'interrupted',
        wave,
        app: w.name,
        mode: 'rollback',
        error: 'interrupted during rollback',
      })
      return {
        outcome: 'interrupted',
        message: 'interrupted during rollback; rerun `migrate rollback` to continue',
        steps: results,
      }
    }
    let argv: string[]
    let env: Record<string, string> | undefined
    let cwd: string | undefined
    try {
      argv = renderArgv(s.rollback, w.scope)
      env = {...renderEnv(s.env, w.scope), [STEP_ENV]: stepMarker(run, w, s.id, 'rollback')}
      cwd = s.cwd ? path.resolve(run.prep.ctx.planDir, renderString(s.cwd, w.scope)) : undefined
    } catch (e) {
      const msg = R((e as Error).message)
      await journal.append({type: 'rollback-failed', wave, app: w.name, step: s.id, mode: 'rollback', error: msg})
      results.set(s.id, 'rollback-failed')
      emit({type: 'rollback-step', app: w.name, step: s.id, status: 'failed', message: msg})
      await journal.append({type: 'app-failed', wave, app: w.name, error: `rollback of ${s.id} failed: ${msg}`})
      return {outcome: 'rollback-failed', message: `rollback of ${s.id} failed: ${msg}`, steps: results}
    }
    const cmd = R(commandText(argv))
    await journal.append({
      type: 'rollback-started',
      wave,
      app: w.name,
      step: s.id,
      mode: 'rollback',
      argv,
      message: reason,
    })
    emit({type: 'rollback-step', app: w.name, step: s.id, status: 'started', command: cmd})
    const timeoutMs = s.timeout !== undefined ? durationMs(s.timeout) : undefined
    const onSpawn = journalProcess(run, w, s.id, 'rollback')
    let r = await run.deps.runCommand(argv, {cwd, env, timeoutMs, signal: run.signal, redact: R, onSpawn})
    for (let extra = 0; extra < (s.retries?.count ?? 0) && r.exitCode !== 0 && !r.canceled; extra++) {
      await run.deps.sleep(durationMs(s.retries!.backoff) * s.retries!.factor ** extra, run.signal)
      r = await run.deps.runCommand(argv, {cwd, env, timeoutMs, signal: run.signal, redact: R, onSpawn})
    }
    const out = r.output ? R(r.output) : undefined
    if (r.exitCode === 0 && !r.canceled && !r.timedOut) {
      await journal.append({
        type: 'rollback-succeeded',
        wave,
        app: w.name,
        step: s.id,
        mode: 'rollback',
        exitCode: 0,
        durationMs: Math.round(r.durationMs),
        output: out,
      })
      results.set(s.id, 'rolled-back')
      emit({type: 'rollback-step', app: w.name, step: s.id, status: 'succeeded'})
      continue
    }
    if (r.canceled) {
      await journal.append({
        type: 'interrupted',
        wave,
        app: w.name,
        step: s.id,
        mode: 'rollback',
        output: out,
        error: 'rollback stopped by Ctrl-C/SIGTERM',
      })
      return {
        outcome: 'interrupted',
        message: `interrupted while rolling back ${s.id}; rerun \`migrate rollback\` to continue`,
        steps: results,
      }
    }
    const msg = R(describeFailure(r, timeoutMs)) + (r.output ? `: ${lastLine(R(r.output))}` : '')
    await journal.append({
      type: 'rollback-failed',
      wave,
      app: w.name,
      step: s.id,
      mode: 'rollback',
      exitCode: r.exitCode,
      output: out,
      error: msg,
    })
    results.set(s.id, 'rollback-failed')
    emit({type: 'rollback-step', app: w.name, step: s.id, status: 'failed', message: msg})
    const m = `rollback of ${s.id} failed (${msg}); the steps before it were not rolled back. Fix the cause, then run \`migrate rollback wave ${wave} --app ${w.name}\``
    await journal.append({type: 'app-failed', wave, app: w.name, error: m})
    emit({type: 'app-end', app: w.name, outcome: 'rollback-failed', message: m})
    return {outcome: 'rollback-failed', message: m, steps: results}
  }
  await journal.append({type: 'app-rolled-back', wave, app: w.name, message: reason})
  return {outcome: 'rolled-back', message: reason, steps: results}
}

// ---------------------------------------------------------------------------------------------------------------
// Executing one application

/** How the group runner steers one server's runbook (see executeGroup). */
interface UnitControl {
  /** Stop before the first step still to do at or after this index (outcome 'held', no app-end): a barrier. */
  holdAt?: number
  /** At this finalize step: its soak and approval, then stop before its action (outcome 'held'). */
  holdAfterSoakAt?: number
  /** Soaks that passed in an earlier pass of this run, by step index: not soaked again. */
  soaked?: Map<number, Record<string, unknown>>
  /** Asked before each step and before each action: a reason to roll back instead (another server failed). */
  stop?: () => string | undefined
  /** Told first when this unit fails, before its rollback runs, so the others stop at their next step. */
  onFail?: (why: string) => void
  /** Going on after a barrier: the unit already started in this run. */
  continuing?: boolean
  /** No app-end event: the group sends it once the whole application is settled. */
  quiet?: boolean
}

async function executeApp(run: Run, w: AppWork, ctl: UnitControl = {}): Promise<AppReport> {
  const {journal, emit, opts, R} = run
  const wave = run.prep.wave.number
  const t = w.template!
  const total = t.steps.length
  const ids = t.steps.map((s) => s.id)
  let state = appState(run.replayed, wave, w.name, ids)
  const report: AppReport = {
    app: w.name,
    template: w.templateName,
    outcome: 'done',
    steps: t.steps.map((s) => ({id: s.id, kind: stepKind(s), status: 'not-run'})),
  }
  const rep = (id: string): StepReport => report.steps.find((x) => x.id === id)!
  const finish = (outcome: AppOutcome, message?: string): AppReport => {
    report.outcome = outcome
    report.message = message
    if (!ctl.quiet) emit({type: 'app-end', app: w.name, outcome, message})
    return report
  }
  const hold = (message: string): AppReport => {
    report.outcome = 'held'
    report.message = message
    return report
  }

  if (run.signal.aborted) return finish('interrupted', 'not started: Ctrl-C came first')
  if (state.status === 'rollback-incomplete') {
    return finish(
      'needs-operator',
      `a rollback of ${w.name} did not finish (${state.lastError ?? 'interrupted'}): run \`migrate rollback wave ${wave} --app ${w.name}\` first`,
    )
  }
  const fresh = state.status === 'rolled-back'
  if (!fresh) restoreCaptures(w, state)
  const stepState = (id: string): StepState | undefined => (fresh ? undefined : state.steps.find((x) => x.id === id))

  // Steps that were running when a previous run died (or were stopped) need a decision before anything else.
  for (const s of t.steps) {
    const st = stepState(s.id)
    if (!st || (st.status !== 'running' && st.status !== 'interrupted')) continue
    const who = st.lastActor
      ? ` (run ${st.lastRun} by ${st.lastActor.user}@${st.lastActor.host} pid ${st.lastActor.pid})`
      : ''
    if (matchesStep(opts.skipSteps, refNames(w), s.id)) {
      await journal.append({
        type: 'operator-skip',
        wave,
        app: w.name,
        step: s.id,
        message: `--skip-step: the operator confirmed the interrupted step took effect${who}`,
      })
    } else if (matchesStep(opts.retrySteps, refNames(w), s.id)) {
      await journal.append({
        type: 'operator-retry',
        wave,
        app: w.name,
        step: s.id,
        message: `--retry-step: the operator confirmed the interrupted step did not take effect${who}`,
      })
    } else if (s.idempotent) {
      await journal.append({
        type: 'operator-retry',
        wave,
        app: w.name,
        step: s.id,
        message: `idempotent step interrupted${who}: running it again`,
      })
    } else {
      return finish(
        'needs-operator',
        `step ${s.id} was running when a previous run stopped${who} and is not idempotent: check whether it took effect, then rerun with --skip-step ${w.name}/${s.id} (it did) or --retry-step ${w.name}/${s.id} (it did not)`,
      )
    }
  }
  // This application's state with the operator decisions applied (the replay follows every append).
  state = appState(run.replayed, wave, w.name, ids)
  const stAfter = (id: string): StepState | undefined => (fresh ? undefined : state.steps.find((x) => x.id === id))

  if (!fresh && state.status === 'done') {
    for (const s of t.steps) rep(s.id).status = 'already-done'
    return finish('done', 'already done (nothing to run)')
  }
  const firstTodo = t.steps.find((s) => {
    const st = stAfter(s.id)
    return !(st && (st.status === 'succeeded' || st.status === 'skipped'))
  })
  if (!ctl.continuing) {
    await journal.append({
      type: 'app-started',
      wave,
      app: w.name,
      message: firstTodo && firstTodo.id !== t.steps[0].id ? `resuming at ${firstTodo.id}` : undefined,
    })
    emit({
      type: 'app-start',
      app: w.name,
      steps: total,
      resumeAt: firstTodo && firstTodo.id !== t.steps[0].id ? firstTodo.id : undefined,
    })
  }

  for (let i = 0; i < total; i++) {
    const s = t.steps[i]
    const st = stAfter(s.id)
    if (st && (st.status === 'succeeded' || st.status === 'skipped')) {
      rep(s.id).status = 'already-done'
      emit({type: 'step-end', app: w.name, step: s.id, index: i, total, status: 'already-done'})
      continue
    }
    if (run.signal.aborted) {
      await journal.append({
        type: 'interrupted',
        wave,
        app: w.name,
        message: `stopped before ${s.id}: no new step starts after Ctrl-C`,
      })
      return finish('interrupted', `stopped before ${s.id}`)
    }
    if (ctl.holdAt !== undefined && i >= ctl.holdAt) return hold(`at the barrier before ${s.id}`)
    const stopWhy = ctl.stop?.()
    if (stopWhy)
      return failApp(run, w, report, finish, `stopped with the other servers of ${w.group ?? w.app}: ${stopWhy}`, ctl)
    if (
      matchesStep(opts.skipSteps, refNames(w), s.id) &&
      st &&
      (st.status === 'failed' || st.status === 'waiting-gate')
    ) {
      await journal.append({type: 'operator-skip', wave, app: w.name, step: s.id, message: '--skip-step'})
      rep(s.id).status = 'skipped'
      continue
    }
    if (s.when !== undefined && !evaluateWhen(s.when, w.scope)) {
      await journal.append({
        type: 'step-skipped',
        wave,
        app: w.name,
        step: s.id,
        message: R(`when "${s.when}" is false`),
      })
      emit({
        type: 'step-end',
        app: w.name,
        step: s.id,
        index: i,
        total,
        status: 'skipped',
        message: `when "${s.when}" is false`,
      })
      rep(s.id).status = 'skipped'
      continue
    }
    // Gates: gate steps and finalize steps need an approval. --yes approves gates, not finalize steps.
    const isGate = stepKind(s) === 'gate'
    let soakData: Record<string, unknown> | undefined
    if (isGate || s.finalize) {
      const flagApproved = matchesStep(opts.approve, refNames(w), s.id) || (!!opts.yes && !s.finalize) || !!st?.approved
      if (!flagApproved && !run.deps.confirm) {
        const msg = isGate
          ? renderString((s as Extract<Step, {gate: unknown}>).gate.message, w.scope)
          : `finalize step ${s.id} is a point of no return`
        await journal.append({type: 'gate-waiting', wave, app: w.name, step: s.id, message: R(msg)})
        emit({
          type: 'step-end',
          app: w.name,
          step: s.id,
          index: i,
          total,
          status: 'waiting-gate',
          message: R(`${msg} — approve with --approve ${w.name}/${s.id}`),
        })
        rep(s.id).status = 'waiting-gate'
        return finish(
          'waiting-gate',
          R(
            `waiting at ${s.id}: ${msg}${/[.?!]$/.test(msg) ? '' : '.'} Rerun with --approve ${s.id}${s.finalize ? '' : ' (or --yes)'} to continue`,
          ),
        )
      }
      let approvedBy = flagApproved
        ? st?.approved
          ? 'an earlier run'
          : opts.approve?.length
            ? '--approve'
            : '--yes'
        : ''
      // An approval given on the command line is journaled before the soak, so a Ctrl-C during the soak does not lose it.
      let approvalJournaled = !!st?.approved
      if (flagApproved && !approvalJournaled) {
        await journal.append({
          type: 'gate-approved',
          wave,
          app: w.name,
          step: s.id,
          message: `approved by ${journal.actor.user} via ${approvedBy}`,
        })
        approvalJournaled = true
      }
      soakData = ctl.soaked?.get(i)
      if (s.finalize && s.soak && soakData === undefined) {
        emit({
          type: 'step-start',
          app: w.name,
          step: s.id,
          index: i,
          total,
          attempt: 1,
          kind: stepKind(s),
          command: `soak ${s.soak.duration}: ${describeCheck(renderCheck(s.soak.check, w.scope))}`,
        })
        const sk = await soak(run, w, s)
        soakData = {soak: {ok: sk.ok, message: sk.message, polls: sk.polls, durationMs: Math.round(sk.durationMs)}}
        if (!sk.ok) {
          if (run.signal.aborted) {
            await journal.append({
              type: 'interrupted',
              wave,
              app: w.name,
              message: `stopped during the soak before ${s.id}`,
            })
            return finish('interrupted', `stopped during the soak before ${s.id}`)
          }
          await journal.append({
            type: 'step-failed',
            wave,
            app: w.name,
            step: s.id,
            attempt: 1,
            error: sk.message,
            check: soakData,
          })
          emit({type: 'step-end', app: w.name, step: s.id, index: i, total, status: 'failed', message: sk.message})
          rep(s.id).status = 'failed'
          rep(s.id).error = sk.message
          return failApp(run, w, report, finish, sk.message, ctl)
        }
      }
      if (!flagApproved && run.deps.confirm) {
        const msg = isGate
          ? renderString((s as Extract<Step, {gate: unknown}>).gate.message, w.scope)
          : `Run finalize step ${s.id} for ${w.name}${s.description ? ` (${renderString(s.description, w.scope)})` : ''}? It is a point of no return.`
        // The servers of a per-server runbook are asked once, for the whole application.
        const key = w.group !== undefined ? `${w.group}/${s.id}` : undefined
        let ask = key !== undefined ? run.groupAsks.get(key) : undefined
        if (!ask) {
          // The CLI gathers the questions of every unit and asks them together, once the running ones have settled.
          const units =
            w.group !== undefined ? run.prep.apps.filter((x) => x.group === w.group).map((x) => x.name) : [w.name]
          const who = w.group !== undefined ? `${w.group}, all ${units.length} server(s)` : w.name
          // The question holds values (owner, hostname): printable only, so no value can forge or erase the prompt.
          ask = run.deps.confirm!(printable(R(`[${who}] ${msg}`)), units)
          if (key !== undefined) run.groupAsks.set(key, ask)
        }
        const yes = await ask.catch(() => false)
        if (!yes) {
          await journal.append({
            type: 'gate-waiting',
            wave,
            app: w.name,
            step: s.id,
            message: R(`${msg} (declined at the prompt)`),
          })
          rep(s.id).status = 'waiting-gate'
          return finish('waiting-gate', `not approved at ${s.id}; rerun and approve to continue`)
        }
        approvedBy = 'interactive confirmation'
      }
      if (!approvalJournaled)
        await journal.append({
          type: 'gate-approved',
          wave,
          app: w.name,
          step: s.id,
          message: `approved by ${journal.actor.user} via ${approvedBy}`,
        })
      if (ctl.holdAfterSoakAt === i) {
        if (soakData) (ctl.soaked ??= new Map()).set(i, soakData)
        return hold(`soaked and approved, at the barrier before the action of ${s.id}`)
      }
      if (isGate) {
        await journal.append({
          type: 'step-succeeded',
          wave,
          app: w.name,
          step: s.id,
          attempt: 1,
          durationMs: 0,
          message: `approved via ${approvedBy}`,
        })
        emit({
          type: 'step-end',
          app: w.name,
          step: s.id,
          index: i,
          total,
          status: 'succeeded',
          message: `approved via ${approvedBy}`,
        })
        rep(s.id).status = 'succeeded'
        continue
      }
    }
    const lateStop = ctl.stop?.()
    if (lateStop)
      return failApp(run, w, report, finish, `stopped with the other servers of ${w.group ?? w.app}: ${lateStop}`, ctl)
    const r = await runStepAction(run, w, s, i, total, soakData)
    const sr = rep(s.id)
    sr.attempts = r.attempts
    sr.durationMs = r.durationMs
    sr.detail = r.detail
    if (r.status === 'succeeded') {
      sr.status = 'succeeded'
      continue
    }
    if (r.status === 'interrupted') {
      sr.status = 'interrupted'
      return finish('interrupted', `stopped while running ${s.id}`)
    }
    sr.status = 'failed'
    sr.error = r.error
    return failApp(run, w, report, finish, `${s.id} failed: ${r.error}`, ctl)
  }
  await journal.append({type: 'app-finished', wave, app: w.name})
  return finish('done')
}

/** Held servers, with why, in the journal: `migrate status` shows them as held rather than as in progress. */
async function journalHeld(run: Run, reports: AppReport[]): Promise<void> {
  for (const r of reports)
    if (r.outcome === 'held')
      await run.journal.append({type: 'app-held', wave: run.prep.wave.number, app: r.app, message: r.message})
}

const failedOutcome = (o: AppOutcome): boolean => o === 'rolled-back' || o === 'failed' || o === 'rollback-failed'

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
async function executeGroup(run: Run, group: string, members: AppWork[], limit: number): Promise<AppReport[]> {
  const indexed = members.map((w, i) => ({w, i}))
  // One control per member for the whole run: the soaks it passed stay known from one pass to the next.
  const ctls = members.map((): UnitControl => ({quiet: true, soaked: new Map()}))
  const settle = (reports: AppReport[]): AppReport[] => {
    for (const r of reports) run.emit({type: 'app-end', app: r.app, outcome: r.outcome, message: r.message})
    return reports
  }
  const cut = members.map((w) => barrierIndex(w.template!.steps))
  const fin = members.map((w) => finalizeIndex(w.template!.steps))

  // Pass 1: up to the cutover barrier.
  const first = await pool(indexed, limit, ({w, i}) => executeApp(run, w, {...ctls[i], holdAt: cut[i]}))
  const all = members[0].plan.servers.length
  const stuck = first.filter((r) => r.outcome !== 'held' && r.outcome !== 'done')
  if (stuck.length > 0 || (members.length < all && first.some((r) => r.outcome === 'held'))) {
    const why =
      stuck.length > 0
        ? stuck.map((r) => `${r.app} ${OUTCOME_TEXT[r.outcome] ?? r.outcome}`).join(', ')
        : `only ${members.length} of the ${all} servers of ${group} are in this run (--app); run \`--app ${group}\` to cut them over together`
    for (const r of first)
      if (r.outcome === 'held')
        r.message = `held before cutover: ${why}; the servers of ${group} cut over together — this server goes on from here in the next run`
    await journalHeld(run, first)
    return settle(first)
  }

  // Passes 2 and 3, with the group's failure shared: the first failure stops the others at their next step.
  let failure: string | undefined
  const shared = (i: number): UnitControl => ({
    ...ctls[i],
    continuing: true,
    stop: () => failure,
    onFail: (why) => (failure ??= why),
  })
  const merge = (before: AppReport, after: AppReport): AppReport => {
    for (const st of after.steps) {
      const b = before.steps.find((x) => x.id === st.id)
      if (st.status === 'already-done' && b && b.status !== 'not-run' && b.status !== 'already-done')
        Object.assign(st, b)
    }
    return after
  }
  const pass = async (prev: AppReport[], extra: (i: number) => UnitControl): Promise<AppReport[]> =>
    pool(indexed, limit, async ({w, i}) => {
      if (prev[i].outcome !== 'held' || failure) return prev[i]
      const r = merge(prev[i], await executeApp(run, w, {...shared(i), ...extra(i)}))
      if (failedOutcome(r.outcome)) failure ??= `${r.app} ${OUTCOME_TEXT[r.outcome] ?? r.outcome}`
      return r
    })
  const second = await pass(first, (i) => (fin[i] !== undefined ? {holdAt: undefined, holdAfterSoakAt: fin[i]} : {}))
  // Everyone soaked and approved at their finalize step (or finished): only then the finalize actions.
  const waiting = second.filter((r) => r.outcome !== 'held' && r.outcome !== 'done' && !failedOutcome(r.outcome))
  let reports = second
  if (failure === undefined && waiting.length === 0) reports = await pass(second, () => ({}))
  else if (failure === undefined) {
    const why = waiting.map((r) => `${r.app} ${OUTCOME_TEXT[r.outcome] ?? r.outcome}`).join(', ')
    for (const r of reports)
      if (r.outcome === 'held')
        r.message = `held before finalize: ${why}; the servers of ${group} finalize together — this server goes on from here in the next run`
    await journalHeld(run, reports)
  }
  if (failure === undefined || run.opts.noRollback) return settle(reports)

  // Roll back the members that got further than the failure: the application goes back to its source as a whole.
  const wave = run.prep.wave.number
  const back = await pool(indexed, limit, async ({w, i}) => {
    const r = reports[i]
    if (failedOutcome(r.outcome) || r.outcome === 'interrupted' || r.outcome === 'needs-operator') return r
    const st = appState(
      run.replayed,
      wave,
      w.name,
      w.template!.steps.map((s) => s.id),
    )
    restoreCaptures(w, st)
    const rb = await rollbackApp(run, w, st, `rolling back with the other servers of ${group}: ${failure}`, true)
    for (const [id, status] of rb.steps) {
      const x = r.steps.find((y) => y.id === id)
      if (x) x.rollbackStatus = status
    }
    r.outcome = rb.outcome
    r.message = rb.outcome === 'rolled-back' ? `rolled back with the other servers of ${group}: ${failure}` : rb.message
    return r
  })
  return settle(back)
}

const OUTCOME_TEXT: Partial<Record<AppOutcome, string>> = {
  failed: 'failed',
  'rolled-back': 'failed and was rolled back',
  'rollback-failed': 'failed and its rollback failed',
  'waiting-gate': 'waits for an approval',
  'needs-operator': 'needs an operator',
  interrupted: 'was interrupted',
}

/** Every unit of the wave, with at most `limit` applications at once; the servers of a per-server runbook as one. */
async function executeUnits(run: Run, units: AppWork[], limit: number): Promise<AppReport[]> {
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
  const done = await pool(jobs, limit, (job) =>
    job[0].group === undefined ? executeApp(run, job[0]).then((r) => [r]) : executeGroup(run, job[0].group, job, limit),
  )
  const reports = done.flat()
  const order = units.map((w) => w.name)
  return reports.sort((a, b) => order.indexOf(a.app) - order.indexOf(b.app))
}

async function failApp(
  run: Run,
  w: AppWork,
  report: AppReport,
  finish: (o: AppOutcome, m?: string) => AppReport,
  why: string,
  ctl: UnitControl = {},
): Promise<AppReport> {
  const wave = run.prep.wave.number
  ctl.onFail?.(`${w.name}: ${why}`)
  if (run.opts.noRollback) {
    await run.journal.append({
      type: 'app-failed',
      wave,
      app: w.name,
      error: why,
      message: '--no-rollback: completed steps were left in place',
    })
    return finish(
      'failed',
      `${why} (--no-rollback: nothing was rolled back; rerun to retry the failed step, or \`migrate rollback\`)`,
    )
  }
  const state = appState(
    run.replayed,
    wave,
    w.name,
    w.template!.steps.map((s) => s.id),
  )
  const rb = await rollbackApp(run, w, state, `rolling back after: ${why}`, ctl.quiet)
  for (const [id, st] of rb.steps) {
    const r = report.steps.find((x) => x.id === id)
    if (r) r.rollbackStatus = st
  }
  if (rb.outcome === 'rolled-back') return finish('rolled-back', `${why}; its completed steps were rolled back`)
  report.outcome = rb.outcome
  report.message = rb.message
  if (rb.outcome !== 'rollback-failed' && rb.outcome !== 'finalized' && !ctl.quiet)
    run.emit({type: 'app-end', app: w.name, outcome: rb.outcome, message: rb.message})
  return report
}

async function pool<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(n, items.length))}, worker))
  return out
}

/** Dynamic pre-flight: the template's own preflight checks, and reachability of tcp check targets. */
async function dynamicPreflight(prep: WavePrep, deps: ExecutorDeps, signal: AbortSignal): Promise<Finding[]> {
  const out: Finding[] = []
  const seen = new Set<string>()
  /** Renders a check and runs it, unless it does not render or the same rendered check already ran (for any app). */
  const runOnce = async (
    raw: HealthCheck,
    scope: VarScope,
  ): Promise<{check: HealthCheck; r: CheckResult} | undefined> => {
    let check: HealthCheck
    try {
      check = renderCheck(raw, scope)
    } catch {
      return undefined
    }
    const key = JSON.stringify(check)
    if (seen.has(key)) return undefined
    seen.add(key)
    return {check, r: await deps.runCheck(check, signal, {})}
  }
  await pool(prep.apps, 4, async (w) => {
    const t = w.template
    if (!t) return
    for (const p of t.preflight) {
      const ran = await runOnce(p.check, w.scope)
      if (ran && ran.r.status !== 'passed')
        out.push({
          severity: p.severity,
          code: 'PREFLIGHT_CHECK_FAILED',
          app: w.name,
          step: `preflight ${p.id}`,
          message: redact(`${p.description ?? p.id}: ${ran.r.message}`, prep.secrets),
          hint: `Template ${w.loaded.file}, preflight ${p.id}`,
        })
    }
    for (const s of t.steps) {
      if (!('check' in s) || s.check.type !== 'tcp') continue
      if (s.when !== undefined && !evaluateWhen(s.when, w.scope)) continue
      const ran = await runOnce(s.check, w.scope)
      if (ran && ran.r.status !== 'passed')
        out.push({
          severity: 'warning',
          code: 'TARGET_UNREACHABLE',
          app: w.name,
          step: s.id,
          message: redact(`${describeCheck(ran.check)}: ${ran.r.message}`, prep.secrets),
        })
    }
  })
  return out
}

export async function executeWave(opts: ExecuteOptions): Promise<WaveResult> {
  const emit = opts.emit ?? (() => undefined)
  const deps = defaultDeps(opts.deps)
  const signal = opts.signal ?? new AbortController().signal
  const runId = newRunId()
  const stepRefs = [...(opts.approve ?? []), ...(opts.retrySteps ?? []), ...(opts.skipSteps ?? [])]
  const prep = prepareWave({...opts, deps, stepRefs}, runId)
  registerSecrets(prep.secrets)
  if (opts.dryRun) {
    stopOnBlockers(prep.findings, prep.wave.number)
    emit({type: 'run-start', runId, wave: prep.wave.number, mode: 'dry-run', apps: prep.apps.map((a) => a.name)})
    const result = dryRun(prep, opts, runId, emit)
    emit({type: 'run-end', exitCode: result.exitCode})
    return result
  }
  stopOnBlockers(prep.findings, prep.wave.number)
  return withLockAndJournal(prep, opts, `execute wave ${prep.wave.number}`, runId, async (journal) => {
    const dyn = await dynamicPreflight(prep, deps, signal)
    prep.findings.push(...dyn)
    stopOnBlockers(prep.findings, prep.wave.number)
    for (const f of prep.findings) emit({type: 'preflight', finding: f})
    const run = newRun(prep, opts, deps, journal, signal, emit)
    await journal.append({
      type: 'run-started',
      wave: prep.wave.number,
      mode: 'execute',
      message: `execute wave ${prep.wave.number}${opts.apps?.length ? ` --app ${opts.apps.join(',')}` : ''}${opts.noRollback ? ' --no-rollback' : ''}`,
    })
    emit({type: 'run-start', runId, wave: prep.wave.number, mode: 'execute', apps: prep.apps.map((a) => a.name)})
    const apps = await executeUnits(run, prep.apps, opts.concurrency ?? DEFAULT_CONCURRENCY)
    const exitCode = exitCodeFor(apps, signal.aborted)
    if (signal.aborted)
      await journal.append({
        type: 'interrupted',
        wave: prep.wave.number,
        message: 'Ctrl-C/SIGTERM: no new step was started; running steps were stopped',
      })
    await journal.append({
      type: 'run-finished',
      wave: prep.wave.number,
      mode: 'execute',
      exitCode,
      message: Object.entries(summarize(apps))
        .map(([k, v]) => `${v} ${k}`)
        .join(', '),
    })
    emit({type: 'run-end', exitCode})
    return {
      wave: prep.wave.number,
      runId,
      mode: 'execute' as const,
      planDir: prep.ctx.planDir,
      apps,
      preflight: prep.findings,
      pendingSteps: 0,
      exitCode,
      summary: summarize(apps),
      warnings: [],
    }
  })
}

function newRun(
  prep: WavePrep,
  opts: ExecuteOptions,
  deps: ExecutorDeps,
  journal: JournalWriter,
  signal: AbortSignal,
  emit: (e: ExecEvent) => void,
): Run {
  const replayed = replay(readJournal(journal.file).events)
  journal.onAppend = (e) => applyEvent(replayed, e)
  return {prep, opts, deps, journal, signal, emit, replayed, R: (s) => redact(s, prep.secrets), groupAsks: new Map()}
}

// ---------------------------------------------------------------------------------------------------------------
// migrate rollback

export async function rollbackWave(opts: CommonOptions): Promise<WaveResult> {
  const emit = opts.emit ?? (() => undefined)
  const deps = defaultDeps(opts.deps)
  const signal = opts.signal ?? new AbortController().signal
  const runId = newRunId()
  const prep = prepareWave(
    {...opts, deps, dryRun: true, stepRefs: [...(opts.retrySteps ?? []), ...(opts.skipSteps ?? [])]},
    runId,
  )
  registerSecrets(prep.secrets)
  // A rollback only needs the rollback commands to render; missing programs of forward steps do not matter.
  const blockers = prep.findings.filter((f) => f.severity === 'blocker' && f.code !== 'PROGRAM_NOT_FOUND')
  stopOnBlockers(blockers, prep.wave.number)
  return withLockAndJournal(prep, opts, `rollback wave ${prep.wave.number}`, runId, async (journal) => {
    const run = newRun(prep, opts, deps, journal, signal, emit)
    const candidates = prep.apps.filter((w) => {
      if (!w.template) return false
      const st = appState(
        run.replayed,
        prep.wave.number,
        w.name,
        w.template.steps.map((s) => s.id),
      )
      return (
        st.steps.some((s) =>
          ['succeeded', 'rolling-back', 'rollback-failed', 'interrupted', 'running'].includes(s.status),
        ) && st.status !== 'rolled-back'
      )
    })
    const apps: AppReport[] = []
    for (const w of prep.apps) {
      if (!candidates.includes(w)) {
        const msg = `no step has run in wave ${prep.wave.number}${appState(run.replayed, prep.wave.number, w.name).status === 'rolled-back' ? ' since its last rollback' : ''}, so nothing to roll back`
        emit({type: 'app-end', app: w.name, outcome: 'nothing-to-do', message: msg})
        apps.push({app: w.name, template: w.templateName, outcome: 'nothing-to-do', message: msg, steps: []})
      }
    }
    if (candidates.length > 0) {
      await journal.append({
        type: 'run-started',
        wave: prep.wave.number,
        mode: 'rollback',
        message: `rollback wave ${prep.wave.number}${opts.apps?.length ? ` --app ${opts.apps.join(',')}` : ''}`,
      })
      emit({type: 'run-start', runId, wave: prep.wave.number, mode: 'rollback', apps: candidates.map((a) => a.name)})
      const done = await pool(candidates, opts.concurrency ?? DEFAULT_CONCURRENCY, async (w) => {
        const st = appState(
          run.replayed,
          prep.wave.number,
          w.name,
          w.template!.steps.map((s) => s.id),
        )
        restoreCaptures(w, st)
        const rb = await rollbackApp(run, w, st, 'migrate rollback')
        const n = [...rb.steps.values()].filter((x) => x === 'rolled-back').length
        const rep: AppReport = {
          app: w.name,
          template: w.templateName,
          outcome: rb.outcome,
          message: rb.outcome === 'rolled-back' ? `${n} compensating step${n === 1 ? '' : 's'} ran` : rb.message,
          steps: [...rb.steps].map(([id, status]) => ({id, kind: 'run' as const, status})),
        }
        if (rb.outcome === 'rolled-back' || rb.outcome === 'interrupted' || rb.outcome === 'needs-operator')
          emit({
            type: 'app-end',
            app: w.name,
            outcome: rb.outcome,
            message: rb.outcome === 'rolled-back' ? 'rolled back' : rb.message,
          })
        return rep
      })
      apps.push(...done)
    }
    const order = prep.apps.map((w) => w.name)
    apps.sort((a, b) => order.indexOf(a.app) - order.indexOf(b.app))
    const failed = apps.some((a) => a.outcome === 'rollback-failed')
    // An application past its finalize step is not a failed compensation: an operator decides what becomes of it.
    const finalized = apps.some((a) => a.outcome === 'finalized')
    const exitCode =
      signal.aborted || apps.some((a) => a.outcome === 'interrupted')
        ? EXIT.INTERRUPTED
        : apps.some((a) => a.outcome === 'needs-operator')
          ? EXIT.NEEDS_OPERATOR
          : failed
            ? EXIT.FAILURE
            : finalized
              ? EXIT.NEEDS_OPERATOR
              : EXIT.OK
    if (candidates.length > 0)
      await journal.append({
        type: 'run-finished',
        wave: prep.wave.number,
        mode: 'rollback',
        exitCode,
        message: Object.entries(summarize(apps))
          .map(([k, v]) => `${v} ${k}`)
          .join(', '),
      })
    emit({type: 'run-end', exitCode})
    return {
      wave: prep.wave.number,
      runId,
      mode: 'rollback' as const,
      planDir: prep.ctx.planDir,
      apps,
      preflight: prep.findings,
      pendingSteps: 0,
      exitCode,
      summary: summarize(apps),
      warnings: [],
    }
  })
}
