// CMDB exports as a discovery source: our own inventory YAML/JSON, or a CSV in one of the formats of
// src/discover/formats.ts (detected from its header, or named with --format). Problems come back as diagnostics
// with file:line:column; errors stop the run (all of them reported at once), warnings go on.
import path from 'node:path'
import {hasErrors, type Diagnostic} from '../diagnostics.js'
import {badInput} from '../errors.js'
import {readBytes} from '../io/documents.js'
import type {Inventory} from '../schema/inventory.js'
import {loadKind} from '../file-kinds.js'
import {decodeCsv, parseCsv} from '../discover/csv.js'
import type {DecimalMark} from '../discover/csv-numbers.js'
import {CSV_FORMATS, detectCsvFormat, FORMAT_TITLES, mapCsv, type CsvFormat} from '../discover/formats.js'
import {emptyResult, type DiscoverySource, type SourceResult} from '../discover/types.js'

export type FileFormat = 'auto' | 'inventory' | CsvFormat
export const FILE_FORMATS: readonly FileFormat[] = ['auto', 'inventory', ...CSV_FORMATS]

export interface FileOptions {
  files: string[]
  format?: FileFormat
  /** How the CSV files write decimals, when they do not show it themselves. */
  decimal?: DecimalMark
}

export const fileSource: DiscoverySource<FileOptions> = {
  kind: 'file',
  tasks: (o) => o.files.map((f) => `file ${f}`),
  async discover(o, emit) {
    const result = emptyResult('file', o.files)
    const errors: Diagnostic[] = []
    for (const file of o.files) {
      const task = `file ${file}`
      emit({task, status: 'start'})
      const r = readFile(file, o.format ?? 'auto', o.decimal)
      result.servers.push(...r.servers)
      result.databases.push(...r.databases)
      result.applications.push(...r.applications)
      result.dependencies.push(...r.dependencies)
      result.warnings.push(...r.diagnostics.filter((d) => d.severity !== 'error'))
      errors.push(...r.diagnostics.filter((d) => d.severity === 'error'))
      emit({
        task,
        status: hasErrors(r.diagnostics) ? 'failed' : 'done',
        message: `${r.servers.length} servers (${r.format})`,
      })
    }
    if (errors.length > 0) {
      throw badInput(
        `${errors.length} problem${errors.length === 1 ? '' : 's'} in ${[...new Set(errors.map((e) => e.file))].join(', ')}`,
        'FILE_INVALID',
        'Fix the rows and columns listed above, then run discover again',
        [...errors, ...result.warnings],
      )
    }
    return result
  },
}

export interface ReadFileResult extends Pick<SourceResult, 'servers' | 'databases' | 'applications' | 'dependencies'> {
  format: string
  diagnostics: Diagnostic[]
}

export function readFile(file: string, format: FileFormat, decimal?: DecimalMark): ReadFileResult {
  const ext = path.extname(file).toLowerCase()
  if (format === 'inventory' || (format === 'auto' && ['.yaml', '.yml', '.json'].includes(ext))) {
    const {value, warnings} = loadKind<Inventory>('inventory', file)
    const tagged = value.servers.map((s) => ({...s, source: {kind: 'file', ref: `${file}:${s.id}`}}))
    // Its databases name the file too: a later run of this file that no longer lists one removes it.
    const databases = value.databases.map((d) => ({...d, source: {kind: 'file', ref: `${file}:${d.id}`}}))
    return {
      format: 'inventory',
      servers: tagged,
      databases,
      applications: value.applications,
      dependencies: value.dependencies,
      diagnostics: warnings,
    }
  }
  const text = csvText(file)
  const table = parseCsv(text)
  const detected = format === 'auto' ? detectCsvFormat(table.header) : format
  if (!detected) {
    throw badInput(
      `${file}: cannot tell which CSV format this is from its header`,
      'FILE_UNKNOWN_FORMAT',
      `Pass --format (${CSV_FORMATS.join(', ')}); a generic CSV needs at least the columns name, vcpus, memory_mib. The header (line ${table.headerLine}) has: ${table.header.slice(0, 12).join(', ')}${table.header.length > 12 ? ', …' : ''}`,
      [
        {
          severity: 'error',
          code: 'FILE_UNKNOWN_FORMAT',
          message: 'unrecognised header',
          file,
          line: table.headerLine,
          column: 1,
        },
      ],
    )
  }
  const rows = mapCsv(file, table, detected, (line) => `${file}:${line}`, decimal)
  return {
    format: FORMAT_TITLES[detected],
    servers: rows.servers,
    applications: rows.applications,
    databases: [],
    dependencies: [],
    diagnostics: rows.diagnostics,
  }
}

/** A CSV export's text, decoded as src/discover/csv.ts decodeCsv says, or a located FILE_ENCODING error. */
function csvText(file: string): string {
  const decoded = decodeCsv(readBytes(file))
  if ('text' in decoded) return decoded.text
  throw badInput(`${file}: ${decoded.problem}`, 'FILE_ENCODING', decoded.hint, [
    {
      severity: 'error',
      code: 'FILE_ENCODING',
      message: decoded.problem,
      hint: decoded.hint,
      file,
      line: decoded.line,
      column: 1,
    },
  ])
}
