// Loading and checking any file the tool reads: parse, check against the kind's zod schema (src/schema/kinds.ts),
// then run the kind's semantic checker. The registry of semantic checkers lives here, above the planner, the
// inventory and the runbooks it calls, beside `migrate validate` (src/validate.ts), so the schema layer stays a leaf.
import type {Diagnostic} from './diagnostics.js'
import {badInput} from './errors.js'
import {checkInventory} from './inventory/check.js'
import {checkSchema, diagnosticAt, parseSource, readText, type SourceDocument} from './io/documents.js'
import {checkPlan} from './plan-check.js'
import {checkSettings} from './planner/check-calendar.js'
import {checkTemplate} from './runbook/check.js'
import {detectKind, KIND_NAMES, KINDS, type KindName, validateJournalText} from './schema/kinds.js'
import type {PathIssue} from './schema/issues.js'

/** What a file's checks need from outside the file. */
export interface CheckContext {
  /** A plan's started waves as its state backend says (a shared backend: the journal file beside it knows none). */
  startedWaves?: readonly number[]
}

/** The semantic checker of each kind that has one: problems the schema cannot see (references, dates, templates). */
// biome-ignore lint/suspicious/noExplicitAny: values of any shape, narrowed by each checker's kind
export const CHECKERS: Partial<Record<KindName, (value: any, file: string, ctx: CheckContext) => PathIssue[]>> = {
  inventory: (v) => checkInventory(v),
  plan: (v, file, ctx) => checkPlan(v, file, ctx.startedWaves),
  settings: (v) => checkSettings(v.settings, ['settings']).issues,
  template: (v) => checkTemplate(v),
}

export function issuesToDiagnostics(source: SourceDocument, issues: PathIssue[]): Diagnostic[] {
  return issues.map((i) =>
    diagnosticAt(
      source,
      i.path,
      {code: i.code, message: i.message, hint: i.hint, severity: i.severity ?? 'error'},
      i.atKey,
    ),
  )
}

export interface ValidatedFile<T = unknown> {
  file: string
  kind: KindName | undefined
  value: T | undefined
  source?: SourceDocument
  diagnostics: Diagnostic[]
}

/** Load, schema-check and semantically check one file. Never throws on bad content. */
export function validateFile<T = unknown>(
  file: string,
  kindOverride?: KindName,
  text = readText(file),
  ctx: CheckContext = {},
): ValidatedFile<T> {
  if (kindOverride === 'state' || (!kindOverride && detectKind(file) === 'state'))
    return {file, kind: 'state', value: undefined, diagnostics: validateJournalText(file, text)}
  const {source, diagnostics} = parseSource(file, text)
  const kind = kindOverride ?? detectKind(file, source)
  // A file that is not readable YAML has no kind to tell; its YAML problem is the one to report.
  if (!kind && diagnostics.some((d) => d.severity === 'error'))
    return {file, kind, value: undefined, source, diagnostics}
  if (!kind) {
    return {
      file,
      kind,
      value: undefined,
      source,
      diagnostics: [
        ...diagnostics,
        {
          severity: 'error',
          code: 'UNKNOWN_KIND',
          message: 'cannot tell what kind of file this is',
          hint: `Add "kind: Inventory|Plan|PlanSettings|RunbookTemplate" at the top, or pass --kind (${KIND_NAMES.join(', ')})`,
          file,
          line: 1,
          column: 1,
        },
      ],
    }
  }
  if (diagnostics.some((d) => d.severity === 'error')) return {file, kind, value: undefined, source, diagnostics}
  const loaded = checkSchema(source, KINDS[kind].schema)
  const out: Diagnostic[] = loaded.diagnostics
  const check = CHECKERS[kind]
  if (check && loaded.value !== undefined)
    out.push(...issuesToDiagnostics(loaded.source, check(loaded.value, file, ctx)))
  else if (check) {
    // Report reference problems too, not just the first layer: run the checker on the raw document, best effort
    // (it may meet shapes the schema rejected), keeping only problems at paths the schema did not already flag.
    try {
      const flagged = new Set(out.map((d) => JSON.stringify(d.path ?? [])))
      const raw = withArrayDefaults(loaded.source.value)
      for (const d of issuesToDiagnostics(loaded.source, check(raw, file, ctx)))
        if (!flagged.has(JSON.stringify(d.path ?? []))) out.push(d)
    } catch {
      // The document is too broken for semantic checks; the schema errors above say why.
    }
  }
  return {
    file,
    kind,
    value: out.some((d) => d.severity === 'error') ? undefined : (loaded.value as T),
    source: loaded.source,
    diagnostics: out,
  }
}

/** Load a file of a known kind or throw a BAD_INPUT error listing every problem. */
export function loadKind<T>(
  kind: KindName,
  file: string,
  text?: string,
  ctx?: CheckContext,
): {value: T; source?: SourceDocument; warnings: Diagnostic[]} {
  const r = validateFile<T>(file, kind, text, ctx)
  const errors = r.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length > 0 || r.value === undefined) {
    throw badInput(
      `${file}: ${errors.length} problem${errors.length === 1 ? '' : 's'} in this ${KINDS[kind].title} file`,
      'INVALID_FILE',
      `Fix the problems listed above, then run \`migrate validate ${file}\``,
      r.diagnostics,
    )
  }
  return {value: r.value, source: r.source, warnings: r.diagnostics.filter((d) => d.severity !== 'error')}
}

/** Top-level lists default to [] so checkers can walk a raw document. */
function withArrayDefaults(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw
  const o = {...(raw as Record<string, unknown>)}
  for (const k of ['applications', 'servers', 'databases', 'dependencies', 'unassigned', 'waves', 'steps'])
    if (o[k] === undefined || o[k] === null) o[k] = []
  for (const k of ['servers', 'databases', 'applications'])
    if (Array.isArray(o[k])) o[k] = (o[k] as unknown[]).filter((x) => x && typeof x === 'object')
  return o
}
