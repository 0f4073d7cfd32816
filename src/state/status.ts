// The status of every wave, application and step, derived from the journal alone (replay, latest event wins).
// Both `migrate status` and the executor's resume logic read it, so what a person sees is what a rerun does.
import type {JournalEvent} from '../schema/state.js'

export type StepStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'waiting-gate'
  | 'interrupted'
  | 'rolling-back'
  | 'rolled-back'
  | 'rollback-failed'

export type AppStatus =
  | 'pending'
  | 'running'
  | 'in-progress'
  | 'done'
  | 'failed'
  | 'rolled-back'
  | 'rollback-incomplete'
  | 'waiting-gate'
  | 'interrupted'
  | 'held'

export interface StepState {
  id: string
  status: StepStatus
  attempts: number
  startedAt?: string
  finishedAt?: string
  durationMs?: number
  exitCode?: number
  error?: string
  message?: string
  /** The run (runId) and actor of the last event: who to ask about an interrupted step. */
  lastRun?: string
  lastActor?: {user: string; host: string; pid: number}
  /** A gate (or finalize step) was approved. */
  approved?: boolean
  /** Values captured from its stdout ({{ steps.NAME }}). */
  captured?: Record<string, string>
  /** Succeeded by the operator's word (--skip-step of an interrupted step): it took effect. */
  confirmed?: boolean
  /** Its interrupted compensation may run again (--retry-step, or an idempotent rollback). */
  rollbackRetry?: boolean
  /** The process its last attempt (or compensation) ran as: found again after a crash if it outlived the CLI. */
  process?: {pid: number; startTime?: string; host: string}
}

export interface AppState {
  name: string
  wave: number
  status: AppStatus
  steps: StepState[]
  startedAt?: string
  finishedAt?: string
  lastError?: string
  /** Step ids waiting for a gate. */
  waitingFor?: string
  /** Why a server of a per-server runbook stopped at a barrier (another server of its application did not get there). */
  heldBecause?: string
}

export interface WaveState {
  number: number
  apps: AppState[]
}

interface AppAcc {
  name: string
  wave: number
  steps: Map<string, StepState>
  lastAppEvent?: JournalEvent['type']
  startedAt?: string
  finishedAt?: string
  lastError?: string
  heldBecause?: string
}

export interface Replay {
  waves: Map<number, Map<string, AppAcc>>
  /** Events of the last run-started … run-finished bracket: a run without run-finished was interrupted or crashed. */
  lastRun?: {runId: string; finished: boolean; startedAt: string; message?: string}
}

/** Replays the journal into per-app step states. */
export function replay(events: readonly JournalEvent[]): Replay {
  const r: Replay = {waves: new Map()}
  for (const e of events) applyEvent(r, e)
  return r
}

/** Applies one event to a replay (the executor keeps its replay current this way as it appends). */
export function applyEvent(r: Replay, e: JournalEvent): void {
  if (e.type === 'run-started') r.lastRun = {runId: e.runId, finished: false, startedAt: e.time, message: e.message}
  if (e.type === 'run-finished' && r.lastRun && r.lastRun.runId === e.runId) r.lastRun.finished = true
  if (e.wave === undefined || e.app === undefined) return
  let w = r.waves.get(e.wave)
  if (!w) r.waves.set(e.wave, (w = new Map()))
  let a = w.get(e.app)
  if (!a) w.set(e.app, (a = {name: e.app, wave: e.wave, steps: new Map()}))
  if (e.step === undefined) {
    applyAppEvent(a, e)
    return
  }
  let s = a.steps.get(e.step)
  if (!s) a.steps.set(e.step, (s = {id: e.step, status: 'pending', attempts: 0}))
  s.lastRun = e.runId
  s.lastActor = e.actor
  applyAttempt(a, s, e) || applyOperatorWord(s, e) || applyCompensation(a, s, e)
}

/** An event of the application as a whole: started, held, finished, failed or rolled back. */
function applyAppEvent(a: AppAcc, e: JournalEvent): void {
  if (e.type === 'app-started') {
    a.startedAt = e.time
    a.finishedAt = undefined
    a.lastAppEvent = e.type
  } else if (e.type === 'app-held') {
    a.lastAppEvent = e.type
    a.heldBecause = e.message
  } else if (e.type === 'app-finished' || e.type === 'app-failed' || e.type === 'app-rolled-back') {
    a.lastAppEvent = e.type
    a.finishedAt = e.time
    if (e.type === 'app-failed' && e.error) a.lastError = e.error
    if (e.type === 'app-rolled-back') {
      // The application is back where it started. Steps that ran are rolled back (undone, or nothing to undo); steps
      // that never ran (not reached, waiting for approval, skipped by their `when`) stay not run.
      for (const s of a.steps.values())
        s.status =
          s.status === 'pending' || s.status === 'waiting-gate' || s.status === 'skipped' ? 'pending' : 'rolled-back'
    }
  }
}

/** A step's attempt: its process, start and outcome. False when the event is none of these. */
function applyAttempt(a: AppAcc, s: StepState, e: JournalEvent): boolean {
  switch (e.type) {
    case 'step-process':
      if (e.pid !== undefined) s.process = {pid: e.pid, startTime: e.startTime, host: e.actor.host}
      return true
    case 'step-started':
      s.status = 'running'
      s.attempts = e.attempt ?? s.attempts + 1
      s.startedAt = e.time
      s.finishedAt = undefined
      s.error = undefined
      return true
    case 'step-succeeded':
      s.status = 'succeeded'
      s.finishedAt = e.time
      s.durationMs = e.durationMs
      s.exitCode = e.exitCode
      s.message = e.message
      if (e.captured) s.captured = e.captured
      return true
    case 'step-failed':
      s.status = 'failed'
      s.finishedAt = e.time
      s.durationMs = e.durationMs
      s.exitCode = e.exitCode
      s.error = e.error
      a.lastError = `${e.step}: ${e.error ?? 'failed'}`
      return true
    case 'step-skipped':
      s.status = 'skipped'
      s.finishedAt = e.time
      s.message = e.message
      return true
    default:
      return false
  }
}

/** The operator's word on a step: skip, retry, a gate waiting or approved. False when the event is none of these. */
function applyOperatorWord(s: StepState, e: JournalEvent): boolean {
  switch (e.type) {
    case 'operator-skip':
      // Of a compensation that was running: the operator confirmed the undo took effect.
      if (e.mode === 'rollback') s.status = 'rolled-back'
      // Of a step that was running: the operator confirmed it took effect. It is done, and a rollback undoes it.
      else if (s.status === 'running' || s.status === 'interrupted') {
        s.status = 'succeeded'
        s.confirmed = true
      } else s.status = 'skipped'
      s.finishedAt = e.time
      s.message = e.message
      return true
    case 'operator-retry':
      // A compensation to run again stays rolling-back (what the rollback resumes); a step to run again is pending.
      if (e.mode === 'rollback') s.rollbackRetry = true
      else s.status = 'pending'
      s.message = e.message
      return true
    case 'gate-waiting':
      s.status = 'waiting-gate'
      s.message = e.message
      return true
    case 'gate-approved':
      s.approved = true
      s.message = e.message
      return true
    default:
      return false
  }
}

/** An interruption, and a step's compensation (rollback) starting and ending. False when the event is none of these. */
function applyCompensation(a: AppAcc, s: StepState, e: JournalEvent): boolean {
  switch (e.type) {
    case 'interrupted':
      // A compensation stopped while it ran is in an unknown state: rolling-back, as after a crash.
      if (e.mode === 'rollback') s.status = 'rolling-back'
      else s.status = 'interrupted'
      s.finishedAt = e.time
      s.error = e.error ?? 'interrupted'
      return true
    case 'rollback-started':
      s.status = 'rolling-back'
      s.rollbackRetry = false
      return true
    case 'rollback-succeeded':
      s.status = 'rolled-back'
      s.message = e.message
      return true
    case 'rollback-failed':
      s.rollbackRetry = false
      s.status = 'rollback-failed'
      s.error = e.error
      a.lastError = `rollback of ${e.step}: ${e.error ?? 'failed'}`
      return true
    default:
      return false
  }
}

/** The state of one application, with `stepOrder` (the template's step ids) listing steps not yet seen as pending. */
export function appState(r: Replay, wave: number, app: string, stepOrder?: readonly string[], live = false): AppState {
  const acc = r.waves.get(wave)?.get(app)
  const seen = acc?.steps ?? new Map<string, StepState>()
  const ids = stepOrder ? [...stepOrder, ...[...seen.keys()].filter((k) => !stepOrder.includes(k))] : [...seen.keys()]
  const steps = ids.map((id) => seen.get(id) ?? {id, status: 'pending' as const, attempts: 0})
  const st = (x: StepStatus): boolean => steps.some((s) => s.status === x)
  let status: AppStatus
  if (!acc || steps.every((s) => s.status === 'pending')) status = 'pending'
  else if (st('running')) status = live ? 'running' : 'interrupted'
  else if (st('interrupted')) status = 'interrupted'
  else if (st('rolling-back') || st('rollback-failed')) status = 'rollback-incomplete'
  else if (
    acc.lastAppEvent === 'app-rolled-back' ||
    (steps.length > 0 && steps.every((s) => s.status === 'rolled-back' || s.status === 'pending') && st('rolled-back'))
  )
    status = 'rolled-back'
  else if (st('waiting-gate')) status = 'waiting-gate'
  else if (st('failed')) status = 'failed'
  else if (steps.length > 0 && steps.every((s) => s.status === 'succeeded' || s.status === 'skipped')) status = 'done'
  else if (acc.lastAppEvent === 'app-held') status = 'held'
  else status = 'in-progress'
  return {
    name: app,
    wave,
    status,
    steps,
    startedAt: acc?.startedAt,
    finishedAt: acc?.finishedAt,
    lastError: acc?.lastError,
    waitingFor: steps.find((s) => s.status === 'waiting-gate')?.id,
    ...(status === 'held' && acc?.heldBecause ? {heldBecause: acc.heldBecause} : {}),
  }
}
