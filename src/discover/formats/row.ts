// The row reader every format's mapper shares: reads cells by their normalised column names, reads numbers in the
// file's locale, and records each problem with the row's line and the cell's column.
import type {Diagnostic} from '../../diagnostics.js'
import type {Server} from '../../schema/inventory.js'
import type {Strategy} from '../../schema/common.js'
import type {CsvRecord, CsvTable} from '../csv.js'
import {NOT_A_NUMBER, readNumber, type NumberLocale, type NumberReading} from '../csv-numbers.js'

/** Which columns a format requires and knows (names normalised, see `norm`). */
export interface HeaderSpec {
  /** Groups of alternatives; each group must be present. */
  required: {label: string; any: string[]}[]
  /** Columns read or deliberately ignored (normalised). */
  known: string[]
  /** Column prefixes (normalised) that are known too (disk1size…, cpuusagepct…). */
  knownPrefixes?: string[]
}

/** What a row mapper makes of one row; the caller checks name and sizes, gives the id and builds the application. */
export interface MappedRow {
  server: Partial<Server> & {tags: Record<string, string>}
  appName?: string
  strategy?: Strategy
  owner?: string
  criticality?: string
  /** The form has no sizes: the server is recorded as 1 vCPU / 1 GiB with a warning. */
  sizingUnknown?: boolean
}

/** A CMDB format: its header spec, the columns that identify it, and its row mapper (undefined skips the row). */
export interface CsvFormatDef extends HeaderSpec {
  title: string
  /** True when the (normalised) header is this format's. */
  detect(cols: Set<string>): boolean
  mapRow(row: RowReader): MappedRow | undefined
}

/** What every row of one table shares. */
export interface TableContext {
  file: string
  table: CsvTable
  /** The header, normalised. */
  cols: string[]
  /** Normalised column name → its first index. */
  index: Map<string, number>
  locale: NumberLocale
  /** Header names no spec knows (RVTools' vCenter custom attributes). */
  unknownColumns: string[]
  diagnostics: Diagnostic[]
}

export class RowReader {
  constructor(
    readonly ctx: TableContext,
    readonly rec: CsvRecord,
  ) {}

  get line(): number {
    return this.rec.line
  }

  /** The first non-empty cell of the named columns, trimmed. */
  get(...names: string[]): string | undefined {
    for (const n of names) {
      const i = this.ctx.index.get(n)
      const v = i === undefined ? undefined : this.rec.fields[i]
      if (v !== undefined && v.trim() !== '') return v.trim()
    }
    return undefined
  }

  /** The 1-based column where the first present one of the named columns starts on this row. */
  column(names: string[]): number {
    const i = names.map((n) => this.ctx.index.get(n)).find((x) => x !== undefined)
    return i === undefined ? 1 : 1 + this.rec.fields.slice(0, i).reduce((n, f) => n + f.length + 1, 0)
  }

  report(severity: Diagnostic['severity'], code: string, message: string, hint: string, column = 1): void {
    this.ctx.diagnostics.push({severity, code, message, hint, file: this.ctx.file, line: this.rec.line, column})
  }

  /** A raw cell read as a number in the file's locale. */
  read(raw: string | undefined): NumberReading {
    return readNumber(raw, this.ctx.locale)
  }

  /** The number in the named columns; an error (and undefined) when it is required and empty, or not a number. */
  num(label: string, names: string[], opts: {required?: boolean; positive?: boolean} = {}): number | undefined {
    const raw = this.get(...names)
    const n = this.read(raw)
    if (n === undefined) {
      if (opts.required)
        this.report(
          'error',
          'CSV_MISSING_VALUE',
          `${label} is empty`,
          `Fill in ${label} on this row`,
          this.column(names),
        )
      return undefined
    }
    if ('problem' in n && n.problem !== NOT_A_NUMBER) {
      this.report('error', 'CSV_BAD_NUMBER', `${label} ${JSON.stringify(raw)} ${n.problem}`, n.hint, this.column(names))
      return undefined
    }
    if ('problem' in n || (opts.positive && n.value <= 0)) {
      const what = `is not a ${opts.positive ? 'positive ' : ''}number`
      this.report(
        'error',
        'CSV_BAD_NUMBER',
        `${label} ${JSON.stringify(raw)} ${what}`,
        `Write ${label} as a number, e.g. 4`,
        this.column(names),
      )
      return undefined
    }
    return n.value
  }
}
