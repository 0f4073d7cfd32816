// Before execute or rollback acts: the plan's lock, a journal that verifies, and no step process of a previous run
// still running. The journal is opened for the run and closed (and the lock released) however the run ends.
import {existsSync, rmSync, statSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'
import {EXIT, MigrateError} from '../errors.js'
import {PLAN_FILES} from '../paths.js'
import {printable} from '../runbook/printable.js'
import {redact} from '../runbook/vars.js'
import type {JournalEvent} from '../schema/state.js'
import type {JournalAppender, SharedBarrier, StateBackend, UnitLease} from '../state/backend.js'
import {headFile, type VerifyResult} from '../state/journal.js'
import {describeLock} from '../state/lock.js'
import {openPlanBackend} from '../plan-backend.js'
import {findStepProcesses, sameProcessAlive} from '../state/proc.js'
import {type Replay, replay} from '../state/status.js'
import {lockWaiting} from './lock-wait.js'
import type {WavePrep} from './prepare.js'
import {planKey} from './run.js'
import type {CommonOptions, ExecEvent} from './types.js'

interface Leftover {
  pid: number
  /** UNIT|STEP, or UNIT|STEP|rollback for a compensation. */
  step: string
  what: string
  command?: string
  startTime?: string
}

/**
 * What the journal says of step processes: those whose step is finished (a daemon a step left behind on purpose is
 * not a running step), as UNIT|STEP[|rollback], and the pids recorded for steps still open on this host.
 */
function journaledProcesses(r: Replay): {finished: Set<string>; recorded: Leftover[]} {
  const finished = new Set<string>()
  const recorded: Leftover[] = []
  for (const [, apps] of r.waves) {
    for (const [, a] of apps) {
      for (const st of a.steps.values()) {
        if (st.status === 'succeeded' || st.status === 'skipped') finished.add(`${a.name}|${st.id}`)
        if (st.status === 'rolled-back') finished.add(`${a.name}|${st.id}|rollback`)
        if (st.status === 'rolled-back' || st.status === 'rolling-back' || st.status === 'rollback-failed')
          finished.add(`${a.name}|${st.id}`)
        const open = st.status === 'running' || st.status === 'interrupted' || st.status === 'rolling-back'
        if (st.process && st.process.host === hostname() && open)
          recorded.push({
            pid: st.process.pid,
            startTime: st.process.startTime,
            step: `${a.name}|${st.id}${st.status === 'rolling-back' ? '|rollback' : ''}`,
            what: `${a.name}/${st.id}`,
          })
      }
    }
  }
  return {finished, recorded}
}

/** Step processes of this plan alive now: found by their marker, and by the pid and start time the journal recorded. */
function liveLeftovers(key: string, finished: Set<string>, recorded: Leftover[]): Leftover[] {
  const out: Leftover[] = findStepProcesses(`${key}|`)
    .filter((p) => !finished.has(p.marker.slice(key.length + 1)))
    .map((p) => ({
      pid: p.pid,
      step: p.marker.slice(key.length + 1),
      what: p.marker.split('|').slice(1, 3).join('/') + (p.marker.endsWith('|rollback') ? ' (rollback)' : ''),
      command: p.command,
      startTime: p.startTime,
    }))
  for (const p of recorded) if (!out.some((o) => o.pid === p.pid) && sameProcessAlive(p.pid, p.startTime)) out.push(p)
  return out
}

function nameLeftovers(l: Leftover[]): string {
  return l.map((p) => `${p.what} (pid ${p.pid}${p.command ? `: ${printable(p.command).slice(0, 80)}` : ''})`).join(', ')
}

/**
 * Processes of this plan's steps that outlived a previous run (a kill -9 of the CLI leaves its step running). A
 * resume waits for them (up to MIGRATE_WAIT_FOR_STEPS seconds, 60 by default) and, if they are still there, stops
 * naming them: a step must never run twice at once, idempotent or not. Returns the steps it waited for
 * (UNIT|STEP[|rollback]): an operator's --skip-step/--retry-step about one of them was decided while it still ran.
 */
async function awaitLeftoverSteps(
  planDir: string,
  events: readonly JournalEvent[],
  emit: (e: ExecEvent) => void,
  signal: AbortSignal,
  units?: ReadonlySet<string>,
): Promise<Set<string>> {
  const key = planKey(planDir)
  const {finished, recorded} = journaledProcesses(replay(events))
  // With a shared backend, other runners on this host run other units of the plan: only this run's units count.
  const ours = (l: Leftover[]): Leftover[] => (units ? l.filter((p) => units.has(p.what.split('/')[0])) : l)
  let left = ours(liveLeftovers(key, finished, recorded))
  const stillRan = new Set(left.map((l) => l.step))
  if (left.length === 0) return stillRan
  const waitS = Number(process.env.MIGRATE_WAIT_FOR_STEPS ?? 60)
  emit({
    type: 'preflight',
    finding: {
      severity: 'warning',
      code: 'STEP_STILL_RUNNING',
      message: `${left.length} process(es) of steps of a previous run are still running: ${nameLeftovers(left)}; waiting up to ${waitS}s for them to finish before anything runs`,
    },
  })
  const until = performance.now() + waitS * 1000
  while (left.length > 0 && performance.now() < until && !signal.aborted) {
    await new Promise((res) => setTimeout(res, 100))
    left = ours(liveLeftovers(key, finished, recorded))
    for (const l of left) stillRan.add(l.step)
  }
  if (left.length === 0) return stillRan
  throw new MigrateError(
    `step processes of a previous run are still running: ${nameLeftovers(left)}; running anything now could run the same step twice at once`,
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
function refuseUntrustedJournal(v: VerifyResult, backend: StateBackend, operation: string): void {
  if (v.ok) return
  const file = backend.where
  const first = v.problems[0]
  const restore =
    backend.kind === 'file'
      ? `Restore ${path.basename(file)} and ${path.basename(headFile(file))} from a backup (or git) and run again; if there is none, move both aside`
      : `Restore the plan's rows of migrate_state.events and migrate_state.plans from a backup of the database and run again; if there is none, move the plan aside (another plan id)`
  throw new MigrateError(
    `${operation} refused: the journal does not verify (${v.problems.length} problem${v.problems.length === 1 ? '' : 's'}, the first at ${file}:${first.line}: ${first.problem}); resuming from it could rerun a step that already ran or skip one that did not`,
    {
      code: 'JOURNAL_TAMPERED',
      exitCode: EXIT.FAILURE,
      hint:
        `\`migrate status --verify\` lists every problem. ${restore}, ` +
        'check on the systems which steps took effect, and rerun with --skip-step for those (nothing was run now)',
      data: {problems: v.problems, file},
    },
  )
}

/** Says (and journals) that this run took over a stale lock or forced one. */
async function noteReplacedLock(
  lock: UnitLease,
  journal: JournalAppender,
  wave: number,
  emit: (e: ExecEvent) => void,
): Promise<void> {
  if (!lock.replaced) return
  const holder = lock.replaced.info ? describeLock(lock.replaced.info) : 'an unknown process'
  const stale = lock.replaced.reason === 'stale'
  emit({
    type: 'preflight',
    finding: stale
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
    wave,
    message: stale
      ? `took over a stale lock of ${holder} (no longer running)`
      : `--force-unlock: removed the lock of ${holder}; if it was still running, two runs overlapped`,
  })
}

/** A run that did nothing (a rollback with nothing to undo) leaves no empty journal behind. */
function removeIfEmpty(journalFile: string): void {
  try {
    if (statSync(journalFile).size === 0) {
      rmSync(journalFile)
      rmSync(headFile(journalFile), {force: true})
    }
  } catch {
    // Not there: nothing to tidy.
  }
}

/** What a run learns from the backend once it holds its units: the journal then, and its signal to stop on. */
export interface Held {
  events: readonly JournalEvent[]
  /** Aborted by Ctrl-C/SIGTERM, or when the backend's session (and with it the units' locks) is lost. */
  signal: AbortSignal
  /** A shared backend's barriers, for the servers of an application that other runners drive. */
  barrier?: SharedBarrier
  /**
   * Steps (UNIT|STEP, UNIT|STEP|rollback) whose process from a previous run was still running when this run started:
   * it waited for them, so a decision about one on the command line was made before it ended.
   */
  stillRan: ReadonlySet<string>
}

/**
 * Takes the run's units (the plan lock with the journal file; one session lock per unit with a shared backend),
 * checks the journal verifies and no step process of a previous run is left, and opens the journal for the run.
 */
export async function withLockAndJournal<T>(
  prep: WavePrep,
  opts: CommonOptions,
  backend: StateBackend,
  operation: string,
  runId: string,
  fn: (journal: JournalAppender, held: Held) => Promise<T>,
): Promise<T> {
  const emit = opts.emit ?? (() => undefined)
  const units = prep.apps.map((w) => w.name)
  const lease = await lockWaiting(backend, units, operation, {
    force: opts.forceUnlock,
    timeoutMs: opts.lockTimeoutMs,
    signal: opts.signal,
    emit,
  })
  const stop = new AbortController()
  opts.signal?.addEventListener('abort', () => stop.abort(), {once: true})
  if (opts.signal?.aborted) stop.abort()
  backend.onLost(() => stop.abort())
  let journal: JournalAppender | undefined
  const journalFile = path.join(prep.ctx.planDir, PLAN_FILES.journal)
  const hadJournal = existsSync(journalFile)
  try {
    refuseUntrustedJournal(await backend.verify(), backend, operation)
    const {events} = await backend.read()
    const mine = backend.kind === 'file' ? undefined : new Set(units)
    const stillRan = await awaitLeftoverSteps(prep.ctx.planDir, events, emit, stop.signal, mine)
    journal = await backend.openJournal(runId, (s) => redact(s, prep.secrets))
    await noteReplacedLock(lease, journal, prep.wave.number, emit)
    return await fn(journal, {events, signal: stop.signal, barrier: backend.barrier, stillRan})
  } finally {
    if (journal) await journal.close().catch(() => undefined)
    if (!hadJournal && backend.kind === 'file') removeIfEmpty(journalFile)
    await lease.release()
  }
}

/**
 * Opens the plan's state backend for a run (closed however it ends); with a shared backend, its journal is what the
 * wave is prepared from.
 */
export async function withBackend<T>(
  opts: CommonOptions,
  fn: (backend: StateBackend, events: readonly JournalEvent[] | undefined) => Promise<T>,
): Promise<T> {
  const backend = await openPlanBackend(opts.planDir, opts.state)
  try {
    return await fn(backend, backend.kind === 'file' ? undefined : (await backend.read()).events)
  } finally {
    await backend.close()
  }
}
