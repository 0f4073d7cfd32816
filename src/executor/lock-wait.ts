// --lock-timeout: a run that finds its plan (or, with a shared backend, one of its units) locked by another run waits
// for it, up to the time given, instead of exiting 4 at once, as `terraform apply -lock-timeout` does. It says once
// who holds it (and again when the holder changes), tries again once it looks free (checked every second), and stops
// waiting on Ctrl-C. With --force-unlock it waits too: for a holder alive on this host, whose lock is never forced.
import {EXIT, isMigrateError, MigrateError} from '../errors.js'
import type {StateBackend, UnitLease} from '../state/backend.js'
import {abortableSleep} from './run.js'
import type {ExecEvent} from './types.js'

const RETRY_MS = 1000

/** Takes the run's units, waiting up to timeoutMs while another run holds them. */
export async function lockWaiting(
  backend: StateBackend,
  units: string[],
  operation: string,
  opts: {force?: boolean; timeoutMs?: number; signal?: AbortSignal; emit: (e: ExecEvent) => void},
): Promise<UnitLease> {
  const timeoutMs = opts.timeoutMs ?? 0
  const started = performance.now()
  let told = ''
  for (;;) {
    try {
      return await backend.lock(units, operation, {force: opts.force})
    } catch (e) {
      const waited = performance.now() - started
      if (!isMigrateError(e) || e.code !== 'LOCKED' || timeoutMs <= 0) throw e
      if (waited >= timeoutMs) throw waitedFor(e, waited)
      if (opts.signal?.aborted) throw interrupted(e)
      if (e.message !== told) {
        told = e.message
        opts.emit({
          type: 'preflight',
          finding: {
            severity: 'info',
            code: 'LOCK_WAIT',
            message: `${e.message}; waiting up to ${Math.round((timeoutMs - waited) / 1000)} s more (--lock-timeout)`,
          },
        })
      }
      // Tried again only once none of the units looks held: taking the free ones and letting them go again every
      // second would make a third run find them locked by this one.
      const signal = opts.signal ?? new AbortController().signal
      do await abortableSleep(Math.min(RETRY_MS, timeoutMs - (performance.now() - started)), signal)
      while (!signal.aborted && performance.now() - started < timeoutMs && (await stillHeld(backend, units)))
      if (opts.signal?.aborted) throw interrupted(e)
    }
  }
}

function interrupted(e: MigrateError): MigrateError {
  return new MigrateError(`interrupted while waiting for the lock: ${e.message}`, {
    code: 'INTERRUPTED',
    exitCode: EXIT.INTERRUPTED,
    hint: 'Nothing was run: run the same command again',
    data: e.data,
    cause: e,
  })
}

/** Does a live run still hold the plan lock, or one of these units (as `status` shows holders)? */
async function stillHeld(backend: StateBackend, units: string[]): Promise<boolean> {
  try {
    return (await backend.holders()).some((h) => h.alive !== false && (h.unit === '*' || units.includes(h.unit)))
  } catch {
    return false // cannot tell: try the lock, which says
  }
}

/** The lock error, saying how long this run waited for it. */
function waitedFor(e: MigrateError, waitedMs: number): MigrateError {
  return new MigrateError(`${e.message} (still, after waiting ${Math.round(waitedMs / 1000)} s: --lock-timeout)`, {
    code: e.code,
    exitCode: e.exitCode,
    hint: e.hint,
    data: e.data,
    cause: e,
  })
}
