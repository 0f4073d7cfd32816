// Reading YAML/JSON documents with source positions, so every schema or semantic problem can be reported as
// file:line:column. JSON is parsed by the YAML parser too (YAML 1.2 is a superset), which gives it positions.
import {readFileSync} from 'node:fs'
import {isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node} from 'yaml'
import type {z} from 'zod'
import type {Diagnostic} from '../diagnostics.js'
import {badInput} from '../errors.js'
import {knownKeys} from '../schema/known-keys.js'
import {didYouMean} from '../suggest.js'

export interface SourceDocument {
  file: string
  text: string
  doc: Document.Parsed
  lines: LineCounter
}

export type Path = (string | number)[]

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw badInput(`${file}: no such file`, 'FILE_NOT_FOUND', 'Check the path, or create it first (e.g. `migrate discover` writes inventory.yaml, `migrate plan` writes plan.yaml)')
    if (code === 'EISDIR') throw badInput(`${file}: is a directory, expected a file`, 'FILE_IS_DIRECTORY', 'Name a file inside it')
    throw badInput(`${file}: cannot read (${code ?? String(error)})`, 'FILE_UNREADABLE', 'Check the permissions')
  }
}

/** Parses text as YAML (or JSON). Syntax errors come back as diagnostics with positions, all of them. */
export function parseSource(file: string, text: string): {source: SourceDocument; diagnostics: Diagnostic[]} {
  const lines = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true})
  const diagnostics: Diagnostic[] = []
  for (const {e, followOn} of withoutCascade(doc.errors)) {
    const pos = lines.linePos(e.pos[0])
    diagnostics.push({
      severity: 'error',
      code: 'YAML_SYNTAX',
      message: firstLine(e.message) + (followOn ? ` (and ${followOn} more syntax error${followOn === 1 ? '' : 's'} after it, most likely caused by this one)` : ''),
      hint: yamlHint(e.code),
      file,
      line: pos.line,
      column: pos.col,
    })
  }
  for (const w of doc.warnings) {
    const pos = lines.linePos(w.pos[0])
    diagnostics.push({severity: 'warning', code: 'YAML_WARNING', message: firstLine(w.message), file, line: pos.line, column: pos.col})
  }
  return {source: {file, text, doc, lines}, diagnostics}
}

/**
 * The parser's errors without the cascade that follows a broken structure: after a tab used as indentation or a bad
 * indent it reports the lines below again and again (one tab gave 21 errors). The first structural error is kept,
 * with the number of those after it; errors that do not derail the parse (a duplicate key, an alias) are all kept.
 */
function withoutCascade<E extends {code: string}>(errors: E[]): {e: E; followOn: number}[] {
  const standalone = new Set(['DUPLICATE_KEY', 'BAD_ALIAS', 'DUPLICATE_ANCHOR'])
  const out: {e: E; followOn: number}[] = []
  let first: {e: E; followOn: number} | undefined
  for (const e of errors) {
    if (standalone.has(e.code)) out.push({e, followOn: 0})
    else if (!first) out.push((first = {e, followOn: 0}))
    else first.followOn++
  }
  return out
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').trim()
}

function yamlHint(code: string): string {
  switch (code) {
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return 'Check the indentation: keys of one mapping must start in the same column, and list items need "- "'
    case 'DUPLICATE_KEY':
      return 'Remove or rename one of the two keys'
    case 'TAB_AS_INDENT':
      return 'YAML indentation must use spaces, not tabs'
    default:
      return 'Fix the YAML syntax at this position'
  }
}

/** The node at a path, or the deepest existing ancestor (a missing key points at its parent mapping). */
function nodeAt(doc: Document.Parsed, path: Path): {node: Node | null; keyNode: Node | null; exact: boolean} {
  let node: unknown = doc.contents
  let keyNode: Node | null = null
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg))
      if (!pair) return {node: node as Node, keyNode, exact: false}
      keyNode = (pair.key as Node) ?? null
      if (pair.value === null || pair.value === undefined) return {node: keyNode, keyNode, exact: i === path.length - 1}
      node = pair.value
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg]
      if (item === undefined || item === null) return {node: node as Node, keyNode, exact: false}
      keyNode = null
      node = item
    } else {
      return {node: (node as Node) ?? null, keyNode, exact: false}
    }
  }
  return {node: (node as Node) ?? null, keyNode, exact: true}
}

/** 1-based line/column of the value at `path` (or of its key with `preferKey`). */
export function positionOf(source: SourceDocument, path: Path, preferKey = false): {line: number; column: number} {
  const {node, keyNode} = nodeAt(source.doc, path)
  const target = preferKey && keyNode ? keyNode : node
  const offset = target?.range?.[0] ?? 0
  const pos = source.lines.linePos(offset)
  return {line: pos.line, column: pos.col}
}

export function diagnosticAt(
  source: SourceDocument,
  path: Path,
  d: Omit<Diagnostic, 'file' | 'line' | 'column' | 'path' | 'severity'> & {severity?: Diagnostic['severity']},
  preferKey = false,
): Diagnostic {
  const pos = positionOf(source, path, preferKey)
  return {severity: d.severity ?? 'error', ...d, file: source.file, line: pos.line, column: pos.column, path}
}

/** Maps zod issues to positioned diagnostics, every one of them. */
export function zodDiagnostics(source: SourceDocument, error: z.ZodError, schema?: z.ZodType): Diagnostic[] {
  const out: Diagnostic[] = []
  for (const issue of error.issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as Path
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const near = schema ? didYouMean(key, knownKeys(schema, path)) : ''
          out.push(diagnosticAt(source, [...path, key], {code: 'SCHEMA_UNKNOWN_FIELD', message: `unknown field "${key}"${near}`, hint: 'Remove it or check its spelling; `migrate schema` lists the fields'}, true))
        }
        break
      case 'invalid_type': {
        const missing = /received undefined$/.test(issue.message)
        out.push(
          diagnosticAt(source, path, {
            code: missing ? 'SCHEMA_MISSING_FIELD' : 'SCHEMA_INVALID_TYPE',
            message: missing ? `required field "${String(path.at(-1) ?? '')}" is missing` : `${issue.message.replace(/^Invalid input: /, '')}`,
            hint: missing ? `Add ${String(path.at(-1) ?? 'it')} (expected ${issue.expected})` : `Write ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected} here`,
          }),
        )
        break
      }
      case 'invalid_value':
        out.push(
          diagnosticAt(source, path, {
            code: 'SCHEMA_INVALID_VALUE',
            message: `${JSON.stringify(valueAt(source, path))} is not allowed`,
            hint: `Use one of: ${issue.values.map((v) => String(v)).join(', ')}`,
          }),
        )
        break
      case 'invalid_union':
        out.push(diagnosticAt(source, path, {code: 'SCHEMA_INVALID_VALUE', message: issue.message, hint: 'See `migrate schema` for the allowed shapes'}))
        break
      default:
        out.push(diagnosticAt(source, path, {code: `SCHEMA_${issue.code.toUpperCase()}`, message: issue.message}))
    }
  }
  return out
}

function valueAt(source: SourceDocument, path: Path): unknown {
  const n = source.doc.getIn(path, false)
  return n
}

export interface Loaded<T> {
  source: SourceDocument
  value: T | undefined
  diagnostics: Diagnostic[]
}

/** Parse + schema-check. Never throws on bad content: problems come back as diagnostics. */
export function loadWithSchema<T>(file: string, schema: z.ZodType<T>, text = readText(file)): Loaded<T> {
  const {source, diagnostics} = parseSource(file, text)
  if (diagnostics.some((d) => d.severity === 'error')) return {source, value: undefined, diagnostics}
  const raw = source.doc.toJS({maxAliasCount: 1000})
  const parsed = schema.safeParse(raw)
  if (!parsed.success) return {source, value: undefined, diagnostics: [...diagnostics, ...zodDiagnostics(source, parsed.error, schema)]}
  return {source, value: parsed.data, diagnostics}
}
