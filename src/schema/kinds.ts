// Every file kind the tool reads and writes, in one registry: its zod schema (the source of truth), its semantic
// checker, and how to recognise it. `migrate validate` and `migrate schema` are driven by this table.
import path from 'node:path'
import {z} from 'zod'
import type {Diagnostic} from '../diagnostics.js'
import {badInput} from '../errors.js'
import {checkSchema, diagnosticAt, parseSource, readText, type SourceDocument} from '../io/documents.js'
import {checkInventory} from '../inventory/check.js'
import {checkPlan} from '../planner/check.js'
import {checkSettings} from '../planner/check-calendar.js'
import {checkTemplate} from '../runbook/check.js'
import {Inventory} from './inventory.js'
import type {PathIssue} from './issues.js'
import {Plan, SettingsFile} from './plan.js'
import {JournalEvent} from './state.js'
import {RunbookTemplate} from './template.js'

export interface FileKind<T = unknown> {
  name: KindName
  /** The `kind:` value inside the document. */
  docKind: string
  title: string
  schema: z.ZodType<T>
  check?: (value: T, file: string) => PathIssue[]
}

export const KIND_NAMES = ['inventory', 'plan', 'settings', 'template', 'state'] as const
export type KindName = (typeof KIND_NAMES)[number]

// biome-ignore lint/suspicious/noExplicitAny: rows/values of any shape, narrowed by the caller
export const KINDS: Record<KindName, FileKind<any>> = {
  inventory: {
    name: 'inventory',
    docKind: 'Inventory',
    title: 'migrate inventory',
    schema: Inventory,
    check: (v) => checkInventory(v),
  },
  plan: {name: 'plan', docKind: 'Plan', title: 'migrate plan', schema: Plan, check: (v, file) => checkPlan(v, file)},
  settings: {
    name: 'settings',
    docKind: 'PlanSettings',
    title: 'migrate plan settings',
    schema: SettingsFile,
    check: (v) => checkSettings(v.settings, ['settings']).issues,
  },
  template: {
    name: 'template',
    docKind: 'RunbookTemplate',
    title: 'migrate runbook template',
    schema: RunbookTemplate,
    check: (v) => checkTemplate(v),
  },
  state: {
    name: 'state',
    docKind: 'JournalEvent',
    title: 'migrate state journal event (one per line)',
    schema: JournalEvent,
  },
}

/** Recognise a file's kind from its `kind:` field, falling back to its name. */
export function detectKind(file: string, source?: SourceDocument): KindName | undefined {
  if (file.endsWith('.journal') || file.endsWith('.jsonl')) return 'state'
  const value = source?.value
  const docKind = value !== null && typeof value === 'object' ? (value as {kind?: unknown}).kind : undefined
  if (typeof docKind === 'string') {
    const found = KIND_NAMES.find((k) => KINDS[k].docKind === docKind)
    if (found) return found
  }
  const base = path.basename(file).replace(/\.(ya?ml|json)$/, '')
  if (base === 'inventory' || base.endsWith('.inventory')) return 'inventory'
  if (base === 'plan') return 'plan'
  if (base === 'settings') return 'settings'
  if (file.includes(`templates${path.sep}`)) return 'template'
  return undefined
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
  const check = KINDS[kind].check
  if (check && loaded.value !== undefined) out.push(...issuesToDiagnostics(loaded.source, check(loaded.value, file)))
  else if (check) {
    // Report reference problems too, not just the first layer: run the checker on the raw document, best effort
    // (it may meet shapes the schema rejected), keeping only problems at paths the schema did not already flag.
    try {
      const flagged = new Set(out.map((d) => JSON.stringify(d.path ?? [])))
      const raw = withArrayDefaults(loaded.source.value)
      for (const d of issuesToDiagnostics(loaded.source, check(raw, file)))
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

/** Journal files are JSON lines; a torn last line (a crash mid-append) is a warning, not an error. */
export function validateJournalText(file: string, text: string): Diagnostic[] {
  const out: Diagnostic[] = []
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    if (line.trim() === '') return
    const last = i === lines.length - 1 || lines.slice(i + 1).every((l) => l.trim() === '')
    let raw: unknown
    try {
      raw = JSON.parse(line)
    } catch {
      out.push({
        severity: last ? 'warning' : 'error',
        code: last ? 'JOURNAL_TORN_LINE' : 'JOURNAL_BAD_LINE',
        message: last
          ? 'the last line is incomplete (a crash during an append); it is ignored'
          : 'this line is not valid JSON',
        hint: last ? undefined : 'The journal was edited by hand or corrupted; restore it from git or a backup',
        file,
        line: i + 1,
        column: 1,
      })
      return
    }
    const r = JournalEvent.safeParse(raw)
    if (!r.success)
      for (const issue of r.error.issues)
        out.push({
          severity: 'error',
          code: 'SCHEMA_INVALID',
          message: `${issue.path.join('.') || 'event'}: ${issue.message}`,
          file,
          line: i + 1,
          column: 1,
        })
  })
  return out
}

/** Load a file of a known kind or throw a BAD_INPUT error listing every problem. */
export function loadKind<T>(
  kind: KindName,
  file: string,
  text?: string,
): {value: T; source?: SourceDocument; warnings: Diagnostic[]} {
  const r = validateFile<T>(file, kind, text)
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

/** JSON Schema for editors, generated from the zod schema. */
export function jsonSchemaOf(kind: KindName): Record<string, unknown> {
  const schema = z.toJSONSchema(KINDS[kind].schema, {io: 'input', unrepresentable: 'any'}) as Record<string, unknown>
  return {$id: `https://migrate.dev/schemas/${kind}.schema.json`, title: KINDS[kind].title, ...schema}
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
