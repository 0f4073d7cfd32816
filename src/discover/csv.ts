// A small RFC 4180 CSV reader: quoted fields ("" escapes a quote, newlines allowed inside quotes), CRLF or LF line
// ends, a UTF-8 byte-order mark, and comma / semicolon / tab delimiters (sniffed from the header line, as Excel in
// many locales writes semicolons). Every record keeps the line it starts on, for file:line diagnostics.

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
  const records: CsvRecord[] = []
  const problems: CsvProblem[] = []
  let fields: string[] = []
  let field = ''
  let line = 1
  let recordLine = 1
  let col = 1
  let i = 0
  let quoted = false
  let quoteStart = {line: 1, column: 1}
  let afterQuote = false
  const endField = () => {
    fields.push(field)
    field = ''
    afterQuote = false
  }
  const endRecord = () => {
    endField()
    if (!(fields.length === 1 && fields[0] === '')) records.push({line: recordLine, fields})
    fields = []
  }
  while (i < text.length) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i += 2
          col += 2
          continue
        }
        quoted = false
        afterQuote = true
        i++
        col++
        continue
      }
      if (ch === '\n') {
        line++
        col = 0
      }
      if (!(ch === '\r' && text[i + 1] === '\n')) field += ch
      i++
      col++
      continue
    }
    if (field === '' && !afterQuote && ch !== '"' && ch !== d && ch !== '\r' && ch !== '\n') {
      // An unquoted field: take it in one slice up to the next delimiter or line end.
      let j = i
      while (j < text.length) {
        const c = text[j]
        if (c === d || c === '\r' || c === '\n') break
        j++
      }
      field = text.slice(i, j)
      col += j - i
      i = j
      continue
    }
    if (ch === '"' && field === '' && !afterQuote) {
      quoted = true
      quoteStart = {line, column: col}
      i++
      col++
      continue
    }
    if (ch === d) {
      endField()
      i++
      col++
      continue
    }
    if (ch === '\r' || ch === '\n') {
      endRecord()
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1
      line++
      col = 1
      recordLine = line
      continue
    }
    if (afterQuote) {
      problems.push({line, column: col, message: `unexpected character ${JSON.stringify(ch)} after a closing quote`})
      afterQuote = false
    }
    field += ch
    i++
    col++
  }
  if (quoted) problems.push({line: quoteStart.line, column: quoteStart.column, message: 'a quoted field is never closed'})
  if (field !== '' || fields.length > 0) endRecord()
  const [head, ...rest] = records
  return {delimiter: d, header: head ? head.fields.map((h) => h.trim()) : [], headerLine: head?.line ?? 1, records: rest, problems}
}
