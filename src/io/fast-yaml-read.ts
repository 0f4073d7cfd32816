// A fast reader for the block-style YAML subset the tool itself writes (fast-yaml.ts / toYaml): maps, sequences,
// plain / double- / single-quoted scalars, [] and {}, literal block scalars, comments. A 10,000-server inventory
// reads in ~100 ms instead of ~10 s through the yaml library's document model. Anything outside the subset (anchors,
// tags, flow collections, folded or multi-line plain scalars, tabs, duplicate keys) throws Unsupported, and callers
// fall back to the yaml library, which also reports errors with positions.

export class Unsupported extends Error {}

const INT = /^[-+]?[0-9]+$/
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/

function plain(text: string): unknown {
  if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null
  if (text === 'true' || text === 'True' || text === 'TRUE') return true
  if (text === 'false' || text === 'False' || text === 'FALSE') return false
  const c = text.charCodeAt(0)
  if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46) {
    if (INT.test(text) || FLOAT.test(text)) return Number(text)
    if (/^0o[0-7]+$/.test(text)) return Number.parseInt(text.slice(2), 8)
    if (/^0x[0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16)
    if (/^[-+]?\.(?:inf|Inf|INF)$/.test(text)) return text.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
    if (/^\.(?:nan|NaN|NAN)$/.test(text)) return Number.NaN
  }
  if (/^[&*!|>%@`{[\]},?:#'"]/.test(text) || /^-(\s|$)/.test(text) || text.includes(': ') || /[\t]/.test(text)) throw new Unsupported(`plain scalar ${text}`)
  return text
}

const ESC: Record<string, string> = {'0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029'}

/** A quoted or plain scalar that fills the rest of a line (a trailing comment allowed); [] and {} too. */
function scalar(text: string): unknown {
  const t = text.trimEnd()
  if (t === '[]') return []
  if (t === '{}') return {}
  if (t.startsWith('"')) {
    let out = ''
    let i = 1
    for (;;) {
      if (i >= t.length) throw new Unsupported('unterminated double-quoted scalar')
      const ch = t[i]
      if (ch === '"') break
      if (ch === '\\') {
        const e = t[i + 1]
        if (e === 'x' || e === 'u' || e === 'U') {
          const n = e === 'x' ? 2 : e === 'u' ? 4 : 8
          const hex = t.slice(i + 2, i + 2 + n)
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) throw new Unsupported('bad escape')
          out += String.fromCodePoint(Number.parseInt(hex, 16))
          i += 2 + n
          continue
        }
        if (!(e in ESC)) throw new Unsupported('bad escape')
        out += ESC[e]
        i += 2
        continue
      }
      out += ch
      i++
    }
    const rest = t.slice(i + 1)
    if (rest !== '' && !/^\s+#/.test(rest)) throw new Unsupported('text after a quoted scalar')
    return out
  }
  if (t.startsWith("'")) {
    let out = ''
    let i = 1
    for (;;) {
      if (i >= t.length) throw new Unsupported('unterminated single-quoted scalar')
      if (t[i] === "'") {
        if (t[i + 1] === "'") {
          out += "'"
          i += 2
          continue
        }
        break
      }
      out += t[i]
      i++
    }
    const rest = t.slice(i + 1)
    if (rest !== '' && !/^\s+#/.test(rest)) throw new Unsupported('text after a quoted scalar')
    return out
  }
  const hash = t.search(/\s#/)
  return plain(hash >= 0 ? t.slice(0, hash).trimEnd() : t)
}

interface Cursor {
  lines: string[]
  i: number
}

function indentOf(line: string): number {
  let n = 0
  while (line.charCodeAt(n) === 32) n++
  if (line.charCodeAt(n) === 9) throw new Unsupported('tab indentation')
  return n
}

function skipEmpty(c: Cursor): void {
  while (c.i < c.lines.length) {
    const line = c.lines[c.i]
    let k = 0
    while (line.charCodeAt(k) === 32) k++
    // Past the end (NaN) means a blank line; 35 is '#'.
    const ch = line.charCodeAt(k)
    if (Number.isNaN(ch) || ch === 35 || line.slice(k).trim() === '') c.i++
    else return
  }
}

/** Splits "key: value" / "key:" into the key and the rest, or undefined when the text is not a map entry. */
const keyMemo = new Map<string, string | null>()

function splitKey(text: string): {key: string; rest: string} | undefined {
  if (text.startsWith('"') || text.startsWith("'")) {
    const q = text[0]
    let i = 1
    while (i < text.length) {
      if (text[i] === '\\' && q === '"') i += 2
      else if (text[i] === q && q === "'" && text[i + 1] === "'") i += 2
      else if (text[i] === q) break
      else i++
    }
    const after = text.slice(i + 1)
    if (after === ':' || after.startsWith(': ')) return {key: String(scalar(text.slice(0, i + 1))), rest: after.slice(1).trimStart()}
    return undefined
  }
  const sep = text.indexOf(': ')
  const end = sep >= 0 ? sep : text.endsWith(':') ? text.length - 1 : -1
  if (end <= 0) return undefined
  const raw = text.slice(0, end)
  let key = keyMemo.get(raw)
  if (key === undefined) {
    if (/^[\s#?&*!|>%@`{[\]},]/.test(raw) || /^-(\s|$)/.test(raw) || raw.includes(' #')) key = null
    else {
      const v = plain(raw)
      if (typeof v !== 'string') throw new Unsupported(`non-string key ${raw}`)
      key = v
    }
    if (keyMemo.size < 100_000) keyMemo.set(raw, key)
  }
  if (key === null) return undefined
  return {key, rest: sep >= 0 ? text.slice(sep + 2) : ''}
}

function blockScalar(c: Cursor, header: string, parentIndent: number): string {
  const m = /^\|([-+]?)\s*(#.*)?$/.exec(header)
  if (!m) throw new Unsupported(`block scalar header ${header}`)
  c.i++
  const body: string[] = []
  let blockIndent = -1
  while (c.i < c.lines.length) {
    const line = c.lines[c.i]
    if (line.trim() === '') {
      body.push('')
      c.i++
      continue
    }
    const ind = indentOf(line)
    if (blockIndent < 0) {
      if (ind <= parentIndent) break
      blockIndent = ind
    }
    if (ind < blockIndent) break
    body.push(line.slice(blockIndent))
    c.i++
  }
  // Trailing blank lines belong to the scalar only for keep chomping; give them back otherwise.
  let trailing = 0
  while (body.length > 0 && body[body.length - 1] === '') {
    body.pop()
    trailing++
  }
  const text = body.join('\n')
  if (m[1] === '-') return text
  if (m[1] === '+') return text + '\n'.repeat(trailing + 1)
  return text === '' ? '' : text + '\n'
}

function value(c: Cursor, rest: string, ownIndent: number): unknown {
  if (rest === '' || rest.startsWith('#')) {
    c.i++
    skipEmpty(c)
    if (c.i >= c.lines.length) return null
    const line = c.lines[c.i]
    const ind = indentOf(line)
    const t = line.slice(ind)
    if (ind > ownIndent) return node(c, ind)
    if (ind === ownIndent && (t.startsWith('- ') || t === '-')) return seq(c, ind)
    return null
  }
  if (rest.startsWith('|')) return blockScalar(c, rest, ownIndent)
  if (rest.startsWith('>') || rest.startsWith('&') || rest.startsWith('*') || rest.startsWith('!')) throw new Unsupported(rest)
  if ((rest.startsWith('[') && rest.trimEnd() !== '[]') || (rest.startsWith('{') && rest.trimEnd() !== '{}')) throw new Unsupported('flow collection')
  const v = scalar(rest)
  c.i++
  // A plain scalar continued on the next, deeper line is a multi-line scalar: not in the subset.
  if (c.i < c.lines.length && typeof v === 'string' && !rest.startsWith('"') && !rest.startsWith("'")) {
    const next = c.lines[c.i]
    if (next.trim() !== '' && !next.trim().startsWith('#') && indentOf(next) > ownIndent) throw new Unsupported('multi-line plain scalar')
  }
  return v
}

function node(c: Cursor, ind: number): unknown {
  const t = c.lines[c.i].slice(ind)
  if (t.startsWith('- ') || t === '-') return seq(c, ind)
  return map(c, ind)
}

/** The next non-empty line of the block at indentation `ind`, without it; undefined where the block ends. */
function blockLine(c: Cursor, ind: number): string | undefined {
  skipEmpty(c)
  if (c.i >= c.lines.length) return undefined
  const line = c.lines[c.i]
  const li = indentOf(line)
  if (li < ind) return undefined
  if (li > ind) throw new Unsupported('unexpected indentation')
  return line.slice(li)
}

function seq(c: Cursor, ind: number): unknown[] {
  const out: unknown[] = []
  for (;;) {
    const t = blockLine(c, ind)
    if (t === undefined) return out
    if (!(t.startsWith('- ') || t === '-')) return out
    if (t === '-') {
      out.push(value(c, '', ind))
      continue
    }
    const content = t.slice(2).replace(/^ +/, '')
    const inner = ind + (t.length - content.length)
    if (content.startsWith('- ') || content === '-') {
      c.lines[c.i] = ' '.repeat(inner) + content
      out.push(seq(c, inner))
    } else if (splitKey(content)) {
      c.lines[c.i] = ' '.repeat(inner) + content
      out.push(map(c, inner))
    } else {
      out.push(value(c, content, ind))
    }
  }
}

function map(c: Cursor, ind: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (;;) {
    const t = blockLine(c, ind)
    if (t === undefined) return out
    if (t.startsWith('- ') || t === '-') return out
    if (t.startsWith('---') || t.startsWith('...')) throw new Unsupported('document marker')
    const kv = splitKey(t)
    if (!kv) throw new Unsupported(`not a map entry: ${t}`)
    if (Object.hasOwn(out, kv.key) || kv.key === '__proto__') throw new Unsupported('duplicate or reserved key')
    out[kv.key] = value(c, kv.rest, ind)
  }
}

/** Parses text in the subset; throws Unsupported for anything else (then use the yaml library). */
export function parseYamlFast(text: string): unknown {
  const lines = text.replace(/\r\n/g, '\n').split('\n')
  if (lines.some((l) => /^(---|\.\.\.)(\s|$)/.test(l) || /^%/.test(l))) throw new Unsupported('directives or document markers')
  const c: Cursor = {lines, i: 0}
  skipEmpty(c)
  if (c.i >= lines.length) return null
  const ind = indentOf(lines[c.i])
  const t = lines[c.i].slice(ind)
  const result = t.startsWith('- ') || t === '-' || splitKey(t) ? node(c, ind) : value(c, t, -1)
  skipEmpty(c)
  if (c.i < lines.length) throw new Unsupported(`unexpected content at line ${c.i + 1}`)
  return result
}

/**
 * JSON, or the YAML subset above: the fast way to read what the tool wrote. Undefined when the text is neither (or
 * broken); then the caller uses the positioned loader (src/io/documents.ts), which reports every problem.
 */
export function parseFast(text: string): unknown {
  try {
    return /^\s*\{/.test(text) ? JSON.parse(text) : parseYamlFast(text)
  } catch {
    return undefined
  }
}
