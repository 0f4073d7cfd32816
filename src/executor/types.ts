// The executor's contract with the commands: options in, events out (emit), a typed result back. The engine never
// prints; commands render these events with listr2, plain lines or NDJSON.
import type {CheckResult} from '../health/types.js'
import type {HealthCheck} from '../schema/template.js'
import type {ProcessOptions, ProcessResult} from '../process/run.js'

export type Severity = 'blocker' | 'warning' | 'info'

/** One pre-flight result. Blockers stop the wave before its first step. */
export interface Finding {
  severity: Severity
  code: string
  message: string
  hint?: string
  app?: string
  step?: string
  file?: string
  line?: number
  column?: number
}

export type StepKind = 'run' | 'check' | 'wait' | 'gate'

export type AppOutcome =
  | 'done'
  | 'failed'
  | 'rolled-back'
  | 'rollback-failed'
  | 'waiting-gate'
  | 'needs-operator'
  | 'interrupted'
  /** Dry-run: steps would run. */
  | 'pending'
  /** Rollback command: nothing had run. */
  | 'nothing-to-do'
  /** Rollback: past its finalize step (the point of no return), so left on the target; steps after it were undone. */
  | 'finalized'
  /** A server of a per-server runbook stopped before cutover because another server of its application did not get there. */
  | 'held'

export type ExecEvent =
  | {type: 'preflight'; finding: Finding}
  | {type: 'run-start'; runId: string; wave: number; mode: 'execute' | 'rollback' | 'dry-run'; apps: string[]}
  | {type: 'app-start'; app: string; steps: number; resumeAt?: string}
  | {
      type: 'step-start'
      app: string
      step: string
      index: number
      total: number
      attempt: number
      kind: StepKind
      command?: string
    }
  | {
      type: 'step-end'
      app: string
      step: string
      index: number
      total: number
      status: 'succeeded' | 'failed' | 'skipped' | 'waiting-gate' | 'interrupted' | 'already-done'
      attempt?: number
      durationMs?: number
      message?: string
      retryInMs?: number
    }
  | {
      type: 'rollback-step'
      app: string
      step: string
      status: 'started' | 'succeeded' | 'failed' | 'none'
      message?: string
      command?: string
    }
  | {type: 'app-end'; app: string; outcome: AppOutcome; message?: string}
  | {
      type: 'dry-step'
      app: string
      step: string
      index: number
      total: number
      kind: StepKind
      status: 'done' | 'pending' | 'skip' | 'gate'
      detail: string
      rollback?: string
      note?: string
    }
  | {type: 'run-end'; exitCode: number}

export interface StepReport {
  id: string
  kind: StepKind
  status:
    | 'succeeded'
    | 'failed'
    | 'skipped'
    | 'waiting-gate'
    | 'interrupted'
    | 'pending'
    | 'rolled-back'
    | 'rollback-failed'
    | 'already-done'
    | 'not-run'
  attempts?: number
  durationMs?: number
  error?: string
  /** Resolved command (secrets redacted) or check description. */
  detail?: string
  /** Dry-run: the resolved rollback command. */
  rollback?: string
  /** Why a step is skipped or waits (dry-run). */
  note?: string
  /** Execute: what happened to this step's rollback. */
  rollbackStatus?: 'rolled-back' | 'rollback-failed' | StepReport['status']
}

export interface AppReport {
  app: string
  template: string
  outcome: AppOutcome
  message?: string
  steps: StepReport[]
}

export interface WaveResult {
  wave: number
  runId: string
  mode: 'execute' | 'rollback' | 'dry-run'
  planDir: string
  apps: AppReport[]
  preflight: Finding[]
  /** Dry-run: steps that would run. */
  pendingSteps: number
  exitCode: number
  summary: Partial<Record<AppOutcome, number>>
  warnings: string[]
}

export interface ExecutorDeps {
  runCommand(argv: readonly string[], opts: ProcessOptions): Promise<ProcessResult>
  runCheck(
    check: HealthCheck,
    signal: AbortSignal,
    ctx: {env?: Record<string, string>; cwd?: string},
  ): Promise<CheckResult>
  /** Interactive approval of a gate (a terminal); absent when nobody can answer. */
  /** Asks an operator; `units` are the units (applications, or the servers of one) that wait for the answer. */
  confirm?: (question: string, units: string[]) => Promise<boolean>
  sleep(ms: number, signal: AbortSignal): Promise<void>
  /** Is this program runnable (on PATH, or an existing executable path)? */
  which(program: string): boolean
}

export interface CommonOptions {
  planDir: string
  wave: number
  apps?: string[]
  concurrency?: number
  allowStale?: boolean
  forceUnlock?: boolean
  /** Wait up to this long for a locked plan or unit (default 0: refuse at once, exit 4). */
  lockTimeoutMs?: number
  signal?: AbortSignal
  emit?: (e: ExecEvent) => void
  deps?: Partial<ExecutorDeps>
  /** Environment variables for {{ env.* }} (process.env by default). */
  env?: (name: string) => string | undefined
  /** STEP or APP/STEP: an interrupted step (or compensation) took effect. */
  skipSteps?: string[]
  /** STEP or APP/STEP: an interrupted step (or compensation) did not take effect: run it again. */
  retrySteps?: string[]
  /** The state backend: postgres://… or file (default: $MIGRATE_STATE, the plan's settings.state, else the file). */
  state?: string
}

export interface ExecuteOptions extends CommonOptions {
  dryRun?: boolean
  /** Dry-run: exit 2 when steps are pending (terraform plan -detailed-exitcode). */
  detailedExitcode?: boolean
  yes?: boolean
  approve?: string[]
  noRollback?: boolean
}
