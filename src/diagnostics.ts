// Diagnostics are values, accumulated and reported all at once (tfdiags / zod issues style), each with the
// file, line and column a person opens in an editor, and what would be right.

export type Severity = 'error' | 'warning' | 'info'

export interface Diagnostic {
  severity: Severity
  /** Stable code, e.g. SCHEMA_INVALID_TYPE, UNKNOWN_APP, YAML_SYNTAX. */
  code: string
  message: string
  /** What would be right / how to fix it. */
  hint?: string
  file?: string
  /** 1-based. */
  line?: number
  /** 1-based. */
  column?: number
  /** Path into the document, e.g. ['applications', 3, 'strategy']. */
  path?: (string | number)[]
}

export function formatPath(path: readonly (string | number)[] | undefined): string {
  if (!path || path.length === 0) return '(document)'
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : String(p)
  return out
}

/** `file:line:column: error CODE: message (at path). hint` — one line per problem, as compilers print them. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}:${d.column ?? 1}` : ''}: ` : ''
  const at = d.path && d.path.length > 0 ? ` (at ${formatPath(d.path)})` : ''
  const hint = d.hint ? ` ${/[.?!]$/.test(d.hint) ? d.hint : d.hint + '.'}` : ''
  return `${where}${d.severity} ${d.code}: ${d.message}${at}.${hint}`.replace(/\.\.(\s|$)/g, '.$1')
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error')
}

/** Stable ordering: by file, line, column, then code. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      a.code.localeCompare(b.code),
  )
}
