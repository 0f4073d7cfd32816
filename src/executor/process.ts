// Running one external program as an argv list (never a shell string), in its own process group so a timeout or
// Ctrl-C stops the whole tree it started (SIGTERM, then SIGKILL after a grace period). Failures are values.
import {execa} from 'execa'
import path from 'node:path'
import {PACKAGE_ROOT} from '../paths.js'
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
}

export function tail(text: string, maxLines = 20, maxChars = 2000): string {
  let t = text.replace(/\s+$/, '')
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
  if (argv[0] === 'migrate' && !whichProgram('migrate')) return [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'run.js'), ...argv.slice(1)]
  return argv
}

export async function runProcess(argvIn: readonly string[], opts: ProcessOptions = {}): Promise<ProcessResult> {
  const argv = resolveArgv(argvIn)
  const started = performance.now()
  if (opts.signal?.aborted) return {exitCode: undefined, output: '', stdout: '', timedOut: false, canceled: true, durationMs: 0}
  const child = execa(argv[0], argv.slice(1), {
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
  let timedOut = false
  let canceled = false
  let killTimer: NodeJS.Timeout | undefined
  const killTree = (): void => {
    const pid = child.pid
    if (pid === undefined) return
    try {
      process.kill(-pid, 'SIGTERM')
    } catch {
      /* already gone */
    }
    killTimer ??= setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }, opts.killAfterMs ?? 3000)
    killTimer.unref?.()
  }
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true
        killTree()
      }, opts.timeoutMs)
    : undefined
  const onAbort = (): void => {
    canceled = true
    killTree()
  }
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  try {
    const r = await child
    const all = typeof r.all === 'string' ? r.all : ''
    const stdout = typeof r.stdout === 'string' ? r.stdout : ''
    const spawnError = r.failed && r.exitCode === undefined && !r.signal && !timedOut && !canceled ? r.originalMessage || r.shortMessage : undefined
    return {
      exitCode: r.exitCode,
      output: tail(all),
      stdout,
      timedOut,
      canceled,
      signal: r.signal,
      spawnError,
      durationMs: performance.now() - started,
    }
  } finally {
    if (timer) clearTimeout(timer)
    if (killTimer) clearTimeout(killTimer)
    opts.signal?.removeEventListener('abort', onAbort)
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
