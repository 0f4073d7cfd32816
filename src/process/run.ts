// Running one external program as an argv list (never a shell string), in its own session and process group, with a
// marker in its environment that everything it starts inherits, so a timeout or Ctrl-C stops the whole tree it
// started — also what moved to another group or session — with SIGTERM, then SIGKILL after a grace period, and
// returns only once all of it is gone. Failures are values.
import {execa} from 'execa'
import path from 'node:path'
import {PACKAGE_ROOT} from '../paths.js'
import {redact} from '../runbook/vars.js'
import {findStepProcesses, pidAlive, STEP_ENV} from '../state/proc.js'
import {whichProgram} from './which.js'

export interface ProcessResult {
  exitCode: number | undefined
  /** Last lines of stdout+stderr interleaved. */
  output: string
  /** Full stdout, for checks that look at output. */
  stdout: string
  timedOut: boolean
  canceled: boolean
  signal?: string
  /** The program could not be started (not found, not executable). */
  spawnError?: string
  durationMs: number
}

export interface ProcessOptions {
  cwd?: string
  env?: Record<string, string>
  timeoutMs?: number
  signal?: AbortSignal
  /** Grace period between SIGTERM and SIGKILL. */
  killAfterMs?: number
  /** Told the pid of the step's process once it started (journaled with its start time). */
  onSpawn?: (pid: number) => void
  /** Hides secrets in the output before it is cut to its last lines (a cut must never leave part of a secret). */
  redact?: (s: string) => string
}

/**
 * Secret values of the runs in this process: every output is redacted with them before it is cut to its last lines,
 * so a cut never leaves part of a secret (also for health checks, which call runProcess themselves).
 */
const secretSets = new Set<ReadonlySet<string>>()
export function registerSecrets(secrets: ReadonlySet<string>): void {
  secretSets.add(secrets)
}

function redactRegistered(text: string): string {
  const all = new Set<string>()
  for (const set of secretSets) for (const x of set) all.add(x)
  return all.size === 0 ? text : redact(text, all)
}

export function tail(text: string, maxLines = 20, maxChars = 2000, redactFn: (s: string) => string = (x) => x): string {
  let t = redactFn(redactRegistered(text)).replace(/\s+$/, '')
  const lines = t.split('\n')
  if (lines.length > maxLines) t = lines.slice(-maxLines).join('\n')
  if (t.length > maxChars) t = '…' + t.slice(-maxChars)
  return t
}

/**
 * Templates call this tool as `migrate …` (e.g. `migrate db pg-wait-lag`). When no `migrate` is on PATH (running from
 * a checkout), that is this very CLI: run it with the same node.
 */
export function resolveArgv(argv: readonly string[]): readonly string[] {
  if (argv[0] === 'migrate' && !whichProgram('migrate'))
    return [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'run.js'), ...argv.slice(1)]
  return argv
}

/** Sends a signal to a process group and to each process, ignoring those already gone. */
function signalAll(groups: Iterable<number>, pids: Iterable<number>, sig: NodeJS.Signals): void {
  for (const g of groups) {
    try {
      process.kill(-g, sig)
    } catch {
      /* gone */
    }
  }
  for (const p of pids) {
    try {
      process.kill(p, sig)
    } catch {
      /* gone */
    }
  }
}

/** The processes of a step still running: its process group's leader, and every process carrying its marker. */
function stepProcesses(pid: number | undefined, marker: string | undefined): number[] {
  const found = marker
    ? findStepProcesses(marker)
        .filter((p) => p.marker === marker)
        .map((p) => p.pid)
    : []
  if (pid !== undefined && pidAlive(pid) && !found.includes(pid)) found.push(pid)
  return found
}

/** Steps running in this process, by marker: a second Ctrl-C kills them all before the CLI exits. */
const running = new Map<number, string | undefined>()

/**
 * Kills every step process this CLI started, and everything carrying their markers (whatever group or session it
 * moved to), with SIGKILL: for a second Ctrl-C, which quits at once.
 */
export function killAllSteps(): number {
  let n = 0
  for (const [pid, marker] of running) {
    const all = stepProcesses(pid, marker)
    signalAll([pid, ...all], all, 'SIGKILL')
    n += all.length
  }
  return n
}

export async function runProcess(argvIn: readonly string[], opts: ProcessOptions = {}): Promise<ProcessResult> {
  const argv = resolveArgv(argvIn)
  const started = performance.now()
  if (opts.signal?.aborted)
    return {exitCode: undefined, output: '', stdout: '', timedOut: false, canceled: true, durationMs: 0}
  // The marker every process of the step inherits (see proc.ts): how its processes are found and stopped when they
  // left its process group or session (setsid, daemonising), and found again after a crash of this CLI.
  const marker = opts.env?.[STEP_ENV]
  const child = spawnStep(argv, opts)
  if (child.pid !== undefined) {
    running.set(child.pid, marker)
    opts.onSpawn?.(child.pid)
  }
  const state = {timedOut: false, canceled: false}
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => (stopping ??= stopStep(child.pid, marker, opts.killAfterMs ?? 3000))
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        state.timedOut = true
        void stop()
      }, opts.timeoutMs)
    : undefined
  const onAbort = (): void => {
    state.canceled = true
    void stop()
  }
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  try {
    const r = await child
    // The child exited; what it started may not have: a stopped step is over only when all of it is gone.
    if (stopping) await stopping
    return processResult(r, state, started, opts.redact)
  } finally {
    if (timer) clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
    if (child.pid !== undefined) running.delete(child.pid)
  }
}

/** The step's process: detached (a session leader, so its group can be signalled), output kept, never rejecting. */
function spawnStep(argv: readonly string[], opts: ProcessOptions) {
  return execa(argv[0], argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: true,
    detached: true,
    reject: false,
    all: true,
    stdin: 'ignore',
    stripFinalNewline: false,
    maxBuffer: 16 * 1024 * 1024,
  })
}

/**
 * Stops a step for real: SIGTERM to its process group (its session: the child is a session leader) and to every
 * process with its marker, then SIGKILL to whatever is left after the grace period; resolves when none is left.
 */
async function stopStep(pid: number | undefined, marker: string | undefined, grace: number): Promise<void> {
  if (pid === undefined) return
  signalAll([pid], stepProcesses(pid, marker), 'SIGTERM')
  const t0 = performance.now()
  let killed = false
  for (;;) {
    await new Promise((r) => setTimeout(r, 50))
    const left = stepProcesses(pid, marker)
    if (left.length === 0) return
    if (!killed && performance.now() - t0 >= grace) {
      killed = true
      signalAll([pid], left, 'SIGKILL')
    }
    // SIGKILL cannot be ignored; a process in uninterruptible sleep is given a few seconds more, then left named.
    if (killed && performance.now() - t0 >= grace + 5000) return
  }
}

/** What the finished step comes to: its exit, the tail of its output, and why it stopped. */
function processResult(
  r: Awaited<ReturnType<typeof spawnStep>>,
  {timedOut, canceled}: {timedOut: boolean; canceled: boolean},
  started: number,
  secrets: ProcessOptions['redact'],
): ProcessResult {
  const all = typeof r.all === 'string' ? r.all : ''
  const stdout = typeof r.stdout === 'string' ? r.stdout : ''
  const spawnError =
    r.failed && r.exitCode === undefined && !r.signal && !timedOut && !canceled
      ? r.originalMessage || r.shortMessage
      : undefined
  return {
    exitCode: r.exitCode,
    output: tail(all, 20, 2000, secrets),
    stdout,
    timedOut,
    canceled,
    signal: r.signal,
    spawnError,
    durationMs: performance.now() - started,
  }
}

/** A one-line description of why a process failed. */
export function describeFailure(r: ProcessResult, timeoutMs?: number): string {
  if (r.spawnError) return `could not start: ${r.spawnError}`
  if (r.timedOut) return `timed out after ${Math.round((timeoutMs ?? 0) / 1000)}s (process tree stopped)`
  if (r.canceled) return 'stopped (interrupted)'
  if (r.signal) return `killed by ${r.signal}`
  return `exit code ${r.exitCode}`
}
