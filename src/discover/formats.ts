// CMDB exports people already have, read into servers: our generic CSV, the AWS Migration Hub / Application
// Discovery Service import template, the Azure Migrate server-import CSV, an RVTools vInfo export and the Cloud
// Migration Factory intake form. Each format (src/discover/formats/*) is a set of recognised columns (compared case-
// and punctuation-blind, units in parentheses ignored) and a row mapper; they share one row reader that records
// each problem with its line and column. Unknown and missing columns are reported by name and line.
import type {Diagnostic} from '../diagnostics.js'
import type {Application, Server} from '../schema/inventory.js'
import {slug} from './app-tags.js'
import type {CsvTable} from './csv.js'
import {numberLocaleOf, type DecimalMark} from './csv-numbers.js'
import {adsCsv} from './formats/ads.js'
import {azureCsv} from './formats/azure.js'
import {cmfCsv} from './formats/cmf.js'
import {genericCsv} from './formats/generic.js'
import {numericCells} from './formats/numeric.js'
import {type CsvFormatDef, type MappedRow, RowReader, type TableContext} from './formats/row.js'
import {rvtoolsCsv} from './formats/rvtools.js'

export {sizeFromInstanceType} from './formats/cmf.js'

export type CsvFormat = 'csv' | 'ads' | 'azure' | 'rvtools' | 'cmf'
export const CSV_FORMATS: readonly CsvFormat[] = ['csv', 'ads', 'azure', 'rvtools', 'cmf']
const FORMATS: Record<CsvFormat, CsvFormatDef> = {
  csv: genericCsv,
  ads: adsCsv,
  azure: azureCsv,
  rvtools: rvtoolsCsv,
  cmf: cmfCsv,
}
export const FORMAT_TITLES = Object.fromEntries(CSV_FORMATS.map((f) => [f, FORMATS[f].title])) as Record<
  CsvFormat,
  string
>

/** Lower case, no punctuation, no "(In MB)"-style units: "Memory (In MB)" and "memory_mb" compare as memory / memorymb. */
export const norm = (h: string): string =>
  h
    .toLowerCase()
    .replace(/\(.*?\)/g, '')
    .replace(/[^a-z0-9]/g, '')

/** Picks the format whose signature columns are present (vendor formats first; generic CSV last). */
export function detectCsvFormat(header: string[]): CsvFormat | undefined {
  const cols = new Set(header.map(norm))
  return (['ads', 'rvtools', 'azure', 'cmf', 'csv'] as const).find((f) => FORMATS[f].detect(cols))
}

export interface FileRows {
  servers: Server[]
  applications: Application[]
  diagnostics: Diagnostic[]
}

/** Syntax problems, missing required columns (errors) and unknown columns (warnings, or RVTools attributes). */
function checkHeader(ctx: TableContext, format: CsvFormat): void {
  const {table, cols, index, diagnostics, file} = ctx
  const spec = FORMATS[format]
  const hl = table.headerLine
  for (const p of table.problems) {
    const hint = 'Quote fields that contain the delimiter, quotes (doubled) or line breaks'
    diagnostics.push({severity: 'error', code: 'CSV_SYNTAX', message: p.message, hint, file, ...at(p.line, p.column)})
  }
  for (const g of spec.required) {
    if (!g.any.some((a) => index.has(a)))
      diagnostics.push({
        severity: 'error',
        code: 'CSV_MISSING_COLUMN',
        message: `missing column "${g.label}" for the ${spec.title}`,
        hint: `Add the column to the header (line ${hl}); the header has: ${table.header.join(', ')}`,
        file,
        ...at(hl, 1),
      })
  }
  const known = new Set(spec.known)
  const colOf = (i: number) => 1 + table.header.slice(0, i).reduce((n, h) => n + h.length + 1, 0)
  cols.forEach((c, i) => {
    if (c === '' || known.has(c) || (spec.knownPrefixes ?? []).some((p) => c.startsWith(p))) return
    ctx.unknownColumns.push(table.header[i])
    // RVTools exports vCenter custom attributes as extra columns: they become tags, not warnings.
    if (format === 'rvtools') return
    diagnostics.push({
      severity: 'warning',
      code: 'CSV_UNKNOWN_COLUMN',
      message: `unknown column "${table.header[i]}" is ignored`,
      hint:
        format === 'csv'
          ? `Rename it to a known column, or to tag:${table.header[i]} to keep it as a tag`
          : `Not part of the ${spec.title}`,
      file,
      ...at(hl, colOf(i)),
    })
  })
}

const at = (line: number, column: number) => ({line, column})

/** Builds the application of a row's server the first time its name is seen. */
function applicationOf(row: MappedRow, name: string, environment: Server['environment']): Application {
  const crit = (row.criticality ?? '').toLowerCase()
  return {
    name,
    ...(row.owner ? {owner: row.owner} : {}),
    criticality: crit === 'low' || crit === 'medium' || crit === 'high' || crit === 'critical' ? crit : 'medium',
    environment: environment ?? 'prod',
    complexity: 'medium',
    ...(row.strategy ? {strategyHint: row.strategy} : {}),
    tags: {},
  }
}

/** The rows' servers and applications: each row mapped, then checked for a name, sizes and a unique id. */
function mapRows(ctx: TableContext, format: CsvFormat, ref: (line: number) => string): FileRows {
  const {table} = ctx
  const servers: Server[] = []
  const apps = new Map<string, Application>()
  const seen = new Map<string, number>()
  const brokenFrom = Math.min(
    ...table.problems.filter((p) => p.message.includes('never closed')).map((p) => p.line),
    Number.POSITIVE_INFINITY,
  )
  for (const rec of table.records) {
    if (rec.line >= brokenFrom) break
    const row = new RowReader(ctx, rec)
    if (rec.fields.length !== table.header.length && rec.fields.length > 1)
      row.report(
        'warning',
        'CSV_FIELD_COUNT',
        `this row has ${rec.fields.length} fields, the header has ${table.header.length}`,
        'Check for an unquoted delimiter in a value',
      )
    const mapped = FORMATS[format].mapRow(row)
    if (!mapped) continue
    const s = mapped.server
    if (!s.name) {
      row.report('error', 'CSV_MISSING_VALUE', 'the server name is empty', 'Every row needs a name')
      continue
    }
    if (s.vcpus === undefined || s.memoryMiB === undefined) continue
    const id = slug(s.id ?? s.name) || `row-${rec.line}`
    if (seen.has(id)) {
      const message = `server "${id}" is listed twice (also line ${seen.get(id)})`
      row.report('error', 'CSV_DUPLICATE', message, 'Remove one row, or give them distinct ids/names')
      continue
    }
    seen.set(id, rec.line)
    if (mapped.sizingUnknown) {
      s.tags['migrate/sizing'] = 'unknown'
      row.report(
        'warning',
        'CSV_NO_SIZE',
        `no CPU/memory for "${s.name}" (the intake form has none); recorded as 1 vCPU / 1 GiB`,
        'Add cpu and memory_mb columns, set instanceType, or probe the host with `migrate discover ssh`',
      )
    }
    if (mapped.appName) {
      s.application = slug(mapped.appName)
      if (!apps.has(s.application)) apps.set(s.application, applicationOf(mapped, s.application, s.environment))
    }
    if (s.role === undefined) delete s.role
    if (s.environment === undefined) delete s.environment
    for (const k of ['region', 'zone', 'hostname', 'instanceType'] as const) if (s[k] === undefined) delete s[k]
    servers.push({...(s as Server), id, source: {kind: 'file', ref: ref(rec.line)}})
  }
  for (const sv of servers) {
    sv.vcpus = Math.max(1, Math.round(sv.vcpus))
    sv.memoryMiB = Math.max(1, Math.round(sv.memoryMiB))
  }
  return {servers, applications: [...apps.values()], diagnostics: ctx.diagnostics}
}

/** Maps the rows of a CSV table in format `format` to servers and applications, with every problem positioned. */
export function mapCsv(
  file: string,
  table: CsvTable,
  format: CsvFormat,
  ref: (line: number) => string,
  decimal?: DecimalMark,
): FileRows {
  const cols = table.header.map(norm)
  const index = new Map<string, number>()
  cols.forEach((c, i) => {
    if (!index.has(c)) index.set(c, i)
  })
  const locale = numberLocaleOf(numericCells(table, cols), table.delimiter, decimal)
  const ctx: TableContext = {file, table, cols, index, locale, unknownColumns: [], diagnostics: []}
  checkHeader(ctx, format)
  if (ctx.diagnostics.some((d) => d.severity === 'error' && d.code === 'CSV_MISSING_COLUMN'))
    return {servers: [], applications: [], diagnostics: ctx.diagnostics}
  return mapRows(ctx, format, ref)
}
