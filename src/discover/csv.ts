// A small RFC 4180 CSV reader: quoted fields ("" escapes a quote, newlines allowed inside quotes), CRLF or LF line
// ends, a UTF-8 byte-order mark, and comma / semicolon / tab delimiters (sniffed from the header line, as Excel in
// many locales writes semicolons). Every record keeps the line it starts on, for file:line diagnostics.
// Hand-made on purpose: csv-parse (the maintained candidate, measured on these fixtures) reports a record by the line
// it ends on, counts a CRLF inside quotes as two lines, and reports an unclosed quote at the end of the file rather
// than where it opened; all three are what a person fixing an export needs. A property test checks it against RFC
// 4180 quoting (test/discover/file.test.ts).

/** The bytes of an export as text: UTF-8 with or without a byte-order mark, UTF-16 LE/BE with one. */
export function decodeCsv(bytes: Buffer): {text: string} | {problem: string; hint: string; line: number} {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return utf8(bytes.subarray(3))
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    const body = Buffer.from(bytes.subarray(2))
    if (body.length % 2 !== 0)
      return {
        problem: 'is UTF-16 (it starts with a byte-order mark) but has an odd number of bytes: the file is cut short',
        hint: 'Export it again',
        line: 1,
      }
    if (bytes[0] === 0xfe) body.swap16()
    return {text: body.toString('utf16le')}
  }
  // UTF-16 without a mark shows as a NUL byte beside every ASCII character.
  const head = bytes.subarray(0, 2048)
  if (head.length >= 4 && head.filter((b) => b === 0).length * 3 > head.length) {
    return {
      problem:
        'looks like UTF-16 text without a byte-order mark, which cannot be told apart from other encodings for sure',
      hint: 'Save it as "CSV UTF-8" (or as Unicode text, which writes the mark)',
      line: 1,
    }
  }
  return utf8(bytes)
}

function utf8(bytes: Buffer): {text: string} | {problem: string; hint: string; line: number} {
  try {
    return {text: new TextDecoder('utf-8', {fatal: true}).decode(bytes)}
  } catch {
    const loose = bytes.toString('utf8')
    const at = loose.indexOf('\uFFFD')
    return {
      problem: 'is not UTF-8 (Excel\'s plain "CSV" format writes the Windows code page)',
      hint: 'Save it as "CSV UTF-8 (Comma delimited)" or as "Unicode Text", then run discover again',
      line: loose.slice(0, Math.max(0, at)).split('\n').length,
    }
  }
}

export interface CsvRecord {
  /** 1-based line of the record's first character. */
  line: number
  fields: string[]
}

export interface CsvProblem {
  line: number
  column: number
  message: string
}

export interface CsvTable {
  delimiter: string
  header: string[]
  headerLine: number
  records: CsvRecord[]
  problems: CsvProblem[]
}

export function sniffDelimiter(text: string): string {
  const first = text.slice(0, Math.max(0, text.search(/\r?\n/)) || text.length)
  let best = ','
  let bestCount = -1
  for (const d of [',', ';', '\t', '|']) {
    let n = 0
    let quoted = false
    for (const ch of first) {
      if (ch === '"') quoted = !quoted
      else if (ch === d && !quoted) n++
    }
    if (n > bestCount) {
      best = d
      bestCount = n
    }
  }
  return best
}

export function parseCsv(input: string, delimiter?: string): CsvTable {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  const d = delimiter ?? sniffDelimiter(text)
  const r = new CsvReader(text, d)
  while (r.i < text.length) {
    if (r.quoted) r.quotedChar()
    else r.plainChar()
  }
  if (r.quoted)
    r.problems.push({line: r.quoteStart.line, column: r.quoteStart.column, message: 'a quoted field is never closed'})
  if (r.field !== '' || r.fields.length > 0) r.endRecord()
  const [head, ...rest] = r.records
  return {
    delimiter: d,
    header: head ? head.fields.map((h) => h.trim()) : [],
    headerLine: head?.line ?? 1,
    records: rest,
    problems: r.problems,
  }
}

/** parseCsv's state: where it is in the text, the record and field being read, and what it found. */
class CsvReader {
  readonly records: CsvRecord[] = []
  readonly problems: CsvProblem[] = []
  fields: string[] = []
  field = ''
  line = 1
  recordLine = 1
  col = 1
  i = 0
  quoted = false
  quoteStart = {line: 1, column: 1}
  afterQuote = false

  constructor(
    readonly text: string,
    readonly d: string,
  ) {}

  endField(): void {
    this.fields.push(this.field)
    this.field = ''
    this.afterQuote = false
  }

  endRecord(): void {
    this.endField()
    if (!(this.fields.length === 1 && this.fields[0] === ''))
      this.records.push({line: this.recordLine, fields: this.fields})
    this.fields = []
  }

  /** One character inside quotes: "" is a quote, a lone " closes the field; CRLF is kept as LF. */
  quotedChar(): void {
    const {text, i} = this
    const ch = text[i]
    if (ch === '"') {
      if (text[i + 1] === '"') {
        this.field += '"'
        this.i += 2
        this.col += 2
        return
      }
      this.quoted = false
      this.afterQuote = true
      this.i++
      this.col++
      return
    }
    if (ch === '\n') {
      this.line++
      this.col = 0
    }
    if (!(ch === '\r' && text[i + 1] === '\n')) this.field += ch
    this.i++
    this.col++
  }

  /** Outside quotes: an unquoted field in one slice, an opening quote, a delimiter, a line end or a stray character. */
  plainChar(): void {
    const {text, i, d} = this
    const ch = text[i]
    if (this.field === '' && !this.afterQuote && ch !== '"' && ch !== d && ch !== '\r' && ch !== '\n') {
      // An unquoted field: take it in one slice up to the next delimiter or line end.
      let j = i
      while (j < text.length) {
        const c = text[j]
        if (c === d || c === '\r' || c === '\n') break
        j++
      }
      this.field = text.slice(i, j)
      this.col += j - i
      this.i = j
      return
    }
    if (ch === '"' && this.field === '' && !this.afterQuote) {
      this.quoted = true
      this.quoteStart = {line: this.line, column: this.col}
      this.i++
      this.col++
      return
    }
    if (ch === d) {
      this.endField()
      this.i++
      this.col++
      return
    }
    if (ch === '\r' || ch === '\n') {
      this.endRecord()
      this.i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1
      this.line++
      this.col = 1
      this.recordLine = this.line
      return
    }
    if (this.afterQuote) {
      this.problems.push({
        line: this.line,
        column: this.col,
        message: `unexpected character ${JSON.stringify(ch)} after a closing quote`,
      })
      this.afterQuote = false
    }
    this.field += ch
    this.i++
    this.col++
  }
}
