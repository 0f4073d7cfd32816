// A fast block-style YAML writer for inventories (the yaml library's document model is many times slower on a
// 10,000-server inventory; figures: bench/README.md). It writes exactly what src/io/write-yaml.ts's toYaml() writes — a test compares
// the two on the example estate and on generated data — by handling the common shapes itself (maps, sequences,
// numbers, booleans, strings that are plainly safe) and asking the yaml library for anything else.
import {toYaml} from './write-yaml.js'

// Strings that stay plain scalars and read back as strings: start with a letter, digit or one of _ / . (; only
// "quiet" characters after that (':' and '#' too, but no ': ' or ' #'); no trailing space or colon.
const SAFE = /^[A-Za-z0-9_/.(][A-Za-z0-9 _./@()+,=;~'"#:-]*$/
const UNSAFE_INSIDE = /: |:$| #| $|^\.\.\./
// YAML 1.2 core schema scalars that would not read back as strings.
const NUMBER_LIKE =
  /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/
const KEYWORD = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$/

// Keys and many values repeat thousands of times (field names, states, regions): decide each text once.
const memo = new Map<string, string | null>()

function scalarString(s: string): string | undefined {
  if (s === '') return '""'
  let r = memo.get(s)
  if (r === undefined) {
    r = !SAFE.test(s) || UNSAFE_INSIDE.test(s) ? null : NUMBER_LIKE.test(s) || KEYWORD.test(s) ? JSON.stringify(s) : s
    if (s.length <= 64 && memo.size < 200_000) memo.set(s, r)
  }
  return r ?? undefined
}

function scalar(v: unknown): string | undefined {
  if (v === null) return 'null'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'number')
    return Number.isFinite(v) && !Object.is(v, -0) && Math.abs(v) < 1e21 && (Number.isInteger(v) || Math.abs(v) >= 1e-6)
      ? String(v)
      : undefined
  if (typeof v === 'string') return scalarString(v)
  return undefined
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The library's rendering of a one-key map, re-indented: for keys or values this writer does not handle. */
function viaLibrary(key: string, value: unknown, indent: string, out: string[]): void {
  const text = toYaml({[key]: value}).replace(/\n$/, '')
  for (const line of text.split('\n')) out.push(line === '' ? line : indent + line)
}

/** `sink`, given only for the top-level mapping, receives the finished lines between the items of its sequences. */
function writeMap(
  obj: Record<string, unknown>,
  indent: string,
  out: string[],
  firstPrefix?: string,
  sink?: (chunk: string) => void,
): void {
  let first = true
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue
    const lead = first && firstPrefix !== undefined ? firstPrefix : indent
    const key = scalarString(k)
    if (key === undefined || key === '""') {
      if (first && firstPrefix !== undefined) {
        // A hard key as the first entry of a sequence item: let the library render the whole item.
        throw new NeedsLibrary()
      }
      viaLibrary(k, v, indent, out)
      first = false
      continue
    }
    first = false
    if (Array.isArray(v)) {
      if (v.length === 0) out.push(`${lead}${key}: []`)
      else {
        out.push(`${lead}${key}:`)
        writeSeq(v, indent + '  ', out, sink)
      }
    } else if (isPlainObject(v)) {
      if (Object.values(v).every((x) => x === undefined)) out.push(`${lead}${key}: {}`)
      else {
        out.push(`${lead}${key}:`)
        writeMap(v, indent + '  ', out)
      }
    } else {
      const s = scalar(v)
      if (s === undefined) {
        if (lead !== indent) throw new NeedsLibrary()
        viaLibrary(k, v, indent, out)
      } else out.push(`${lead}${key}: ${s}`)
    }
  }
  if (first && firstPrefix !== undefined) out.push(`${firstPrefix}{}`)
}

function writeSeq(arr: unknown[], indent: string, out: string[], sink?: (chunk: string) => void): void {
  for (const item of arr) {
    // Between the items of a top-level sequence (servers, databases, …) nothing is open, so the lines so far can go.
    if (sink !== undefined && out.length >= 4096) {
      sink(out.join('\n') + '\n')
      out.length = 0
    }
    if (isPlainObject(item)) {
      const mark = out.length
      try {
        writeMap(item, indent + '  ', out, `${indent}- `)
      } catch (error) {
        if (!(error instanceof NeedsLibrary)) throw error
        out.length = mark
        const text = toYaml([item]).replace(/\n$/, '')
        for (const line of text.split('\n')) out.push(line === '' ? line : indent + line)
      }
    } else if (Array.isArray(item) || item === undefined) {
      const text = toYaml([item]).replace(/\n$/, '')
      for (const line of text.split('\n')) out.push(line === '' ? line : indent + line)
    } else {
      const s = scalar(item)
      if (s !== undefined) out.push(`${indent}- ${s}`)
      else {
        const text = toYaml([item]).replace(/\n$/, '')
        for (const line of text.split('\n')) out.push(line === '' ? line : indent + line)
      }
    }
  }
}

class NeedsLibrary extends Error {}

/** Same text as toYaml(value) for a top-level mapping. */
export function toYamlFast(value: Record<string, unknown>): string {
  const out: string[] = []
  writeMap(value, '', out)
  return out.join('\n') + '\n'
}

/**
 * The text of toYamlFast(value), handed to `write` in pieces of a few thousand lines as it is made, so a 10,000-server
 * inventory never exists as one string (or one array of its 300,000 lines) in memory.
 */
export function toYamlChunks(value: Record<string, unknown>, write: (chunk: string) => void): void {
  const out: string[] = []
  writeMap(value, '', out, undefined, write)
  write(out.join('\n') + '\n')
}
