// Every file kind the tool reads and writes, in one registry: its zod schema (the source of truth), its title and
// how to recognise it. `migrate schema` is driven by this table. The semantic checkers of each kind, which know the
// planner, the inventory and the runbooks, are registered above them all, in src/file-kinds.ts (with validateFile and
// loadKind); this layer stays a leaf.
import path from 'node:path'
import {z} from 'zod'
import type {Diagnostic} from '../diagnostics.js'
import type {SourceDocument} from '../io/documents.js'
import {Inventory} from './inventory.js'
import {Plan, SettingsFile} from './plan.js'
import {JournalEvent} from './state.js'
import {RunbookTemplate} from './template.js'

export interface FileKind<T = unknown> {
  name: KindName
  /** The `kind:` value inside the document. */
  docKind: string
  title: string
  schema: z.ZodType<T>
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
  },
  plan: {name: 'plan', docKind: 'Plan', title: 'migrate plan', schema: Plan},
  settings: {
    name: 'settings',
    docKind: 'PlanSettings',
    title: 'migrate plan settings',
    schema: SettingsFile,
  },
  template: {
    name: 'template',
    docKind: 'RunbookTemplate',
    title: 'migrate runbook template',
    schema: RunbookTemplate,
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

/** JSON Schema for editors, generated from the zod schema. */
export function jsonSchemaOf(kind: KindName): Record<string, unknown> {
  const schema = z.toJSONSchema(KINDS[kind].schema, {io: 'input', unrepresentable: 'any'}) as Record<string, unknown>
  return {$id: `https://migrate.dev/schemas/${kind}.schema.json`, title: KINDS[kind].title, ...schema}
}
