// One error module for the whole engine: stable codes, exit codes, and the remedy a person can act on.
// The engine throws MigrateError for expected failures; anything else is a bug (InternalError at the edge).
import type {Diagnostic} from './diagnostics.js'

/** Exit codes of every command. Documented in README.md; keep them stable: CI scripts branch on them. */
export const EXIT = {
  /** Everything asked for was done (or, in a dry-run, nothing is pending). */
  OK: 0,
  /** A failure that is not one of the more specific ones below. */
  FAILURE: 1,
  /** A dry-run (or `plan --diff`) with `--detailed-exitcode` found work pending, as `terraform plan -detailed-exitcode`. */
  PENDING: 2,
  /** A health check or step failed and the affected applications were rolled back. */
  ROLLED_BACK: 3,
  /** The plan is locked by another execute/rollback. */
  LOCKED: 4,
  /** The plan no longer matches its inventory or state (re-plan, or pass --allow-stale). */
  STALE_PLAN: 5,
  /** An operator must decide: an interrupted non-idempotent step, or a gate waiting for approval. */
  NEEDS_OPERATOR: 6,
  /** Partly done: discover wrote what it could read, but some targets (hosts, databases) could not be read. */
  PARTIAL: 7,
  /** Bad input or usage: broken YAML, a schema violation, a dependency cycle, unknown flag, missing credentials. */
  BAD_INPUT: 64,
  /** The machine refused: the plan directory is read-only, a state file cannot be created (sysexits EX_CANTCREAT). */
  ENVIRONMENT: 73,
  /** Interrupted by Ctrl-C / SIGTERM; state says where it stopped. */
  INTERRUPTED: 130,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export interface MigrateErrorOptions {
  /** Stable SCREAMING_SNAKE code, part of the --json contract. */
  code: string
  exitCode?: ExitCode
  /** What the user can do about it; printed after the message. */
  hint?: string
  /** Problems with file positions, for validation failures. */
  diagnostics?: Diagnostic[]
  /** Extra machine-readable data for the --json envelope. Never secrets. */
  data?: Record<string, unknown>
  cause?: unknown
}

export class MigrateError extends Error {
  readonly code: string
  readonly exitCode: ExitCode
  readonly hint?: string
  readonly diagnostics: Diagnostic[]
  readonly data?: Record<string, unknown>

  constructor(message: string, options: MigrateErrorOptions) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'MigrateError'
    this.code = options.code
    this.exitCode = options.exitCode ?? EXIT.FAILURE
    this.hint = options.hint
    this.diagnostics = options.diagnostics ?? []
    this.data = options.data
  }
}

/** Input that a person must fix: exit 64. */
export function badInput(message: string, code: string, hint?: string, diagnostics?: Diagnostic[]): MigrateError {
  return new MigrateError(message, {code, exitCode: EXIT.BAD_INPUT, hint, diagnostics})
}

export function isMigrateError(e: unknown): e is MigrateError {
  return (
    e instanceof MigrateError || (typeof e === 'object' && e !== null && (e as {name?: string}).name === 'MigrateError')
  )
}

/** The OS error codes that mean "this machine does not let us write here", not a bug. */
const ENV_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOENT', 'ENOTDIR'])

/**
 * An OS error while creating or writing a state file, as a person can act on it: which file, what the OS said, what
 * to do. Anything that is not such an error is returned as it is (a bug stays a bug).
 */
export function environmentError(e: unknown, file: string, what: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  if (!code || !ENV_CODES.has(code)) return e
  const why =
    code === 'EROFS'
      ? 'the file system is read-only'
      : code === 'ENOSPC' || code === 'EDQUOT'
        ? 'the disk is full'
        : code === 'ENOENT' || code === 'ENOTDIR'
          ? 'its directory does not exist'
          : 'permission denied'
  return new MigrateError(`cannot ${what} ${file}: ${why} (${code})`, {
    code: 'STATE_NOT_WRITABLE',
    exitCode: EXIT.ENVIRONMENT,
    hint: 'execute and rollback write the lock and the journal next to plan.yaml: run from a copy of the plan in a writable directory, or fix the permissions (nothing was run)',
    data: {file, errno: code},
    cause: e,
  })
}
