// Shapes shared by the engine helpers: pre-flight findings and verification results are values the commands
// render or return as --json; only the command decides that a blocker or a mismatch is an exit code.

export interface Finding {
  severity: 'blocker' | 'warning' | 'info'
  /** Stable code, e.g. PG_NO_REPLICA_IDENTITY, MARIADB_BINLOG_FORMAT. */
  code: string
  message: string
  /** What to do about it. */
  hint?: string
  /** Tables, slots, … the finding is about. */
  objects?: string[]
}

export interface PreflightResult {
  engine: string
  source: string
  target?: string
  version?: string
  findings: Finding[]
  blockers: number
  warnings: number
}

export interface TableCompare {
  table: string
  sourceRows: number
  targetRows: number
  sourceChecksum?: string
  targetChecksum?: string
  ok: boolean
}

export interface VerifyResult {
  engine: string
  source: string
  target: string
  tables: TableCompare[]
  mismatches: number
  ok: boolean
  durationMs: number
}

export function summarize(
  engine: string,
  source: string,
  target: string | undefined,
  version: string | undefined,
  findings: Finding[],
): PreflightResult {
  return {
    engine,
    source,
    target,
    version,
    findings,
    blockers: findings.filter((f) => f.severity === 'blocker').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  }
}
