// Reading YAML/JSON documents, with source positions for every schema or semantic problem (file:line:column). The
// value comes from src/io/yaml-read.ts (what the `yaml` library reads, or a located refusal); positions are looked up
// only when a diagnostic needs one (src/io/yaml-positions.ts).
import {readFileSync} from 'node:fs'
import type {z} from 'zod'
import type {Diagnostic} from '../diagnostics.js'
import {badInput} from '../errors.js'
import {knownKeys} from './known-keys.js'
import {didYouMean} from '../suggest.js'
import {readYaml, withoutBom, YamlRefused, type YamlRefusalCode} from './yaml-read.js'
import {buildPositions, lineColumn, lineStartsOf, nodeAt, type PositionNode} from './yaml-positions.js'

export interface SourceDocument {
  file: string
  /** The text as read, without a byte-order mark. */
  text: string
  /** The document's data (undefined when it could not be read). */
  value: unknown
  /** Built on first use by positionOf. */
  positions?: {root: PositionNode; lineStarts: number[]}
}

export type Path = (string | number)[]

export function readText(file: string): string {
  return readBytes(file).toString('utf8')
}

/** A file's bytes, or a BAD_INPUT error that names the file and what to do. */
export function readBytes(file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw badInput(
        `${file}: no such file`,
        'FILE_NOT_FOUND',
        'Check the path, or create it first (e.g. `migrate discover` writes inventory.yaml, `migrate plan` writes plan.yaml)',
      )
    if (code === 'EISDIR')
      throw badInput(`${file}: is a directory, expected a file`, 'FILE_IS_DIRECTORY', 'Name a file inside it')
    throw badInput(`${file}: cannot read (${code ?? String(error)})`, 'FILE_UNREADABLE', 'Check the permissions')
  }
}

/** Parses text as YAML (or JSON). A document that cannot be read comes back as one located diagnostic. */
export function parseSource(file: string, input: string): {source: SourceDocument; diagnostics: Diagnostic[]} {
  const text = withoutBom(input)
  const source: SourceDocument = {file, text, value: undefined}
  try {
    source.value = readYaml(text)
    return {source, diagnostics: []}
  } catch (error) {
    if (!(error instanceof YamlRefused)) throw error
    const pos = lineColumn(lineStartsOf(text), error.offset)
    return {
      source,
      diagnostics: [
        {
          severity: 'error',
          code: error.code,
          message: error.message,
          hint: yamlHint(error.code, error.message),
          file,
          line: pos.line,
          column: pos.column,
        },
      ],
    }
  }
}

function yamlHint(code: YamlRefusalCode, message: string): string {
  switch (code) {
    case 'YAML_DUPLICATE_KEY':
      return 'Remove or rename one of the two keys (YAML keeps neither silently)'
    case 'YAML_ALIAS_LIMIT':
      return 'Write the repeated data out, or use fewer aliases (*name) of large anchors (&name)'
    case 'YAML_TOO_DEEP':
      return 'Flatten the data: inventories and plans never nest this deep'
    case 'YAML_UNSUPPORTED':
      return 'Write it as a plain YAML 1.2 value: quote a value to make it a string, and give every key a name'
    default:
      if (/tab/.test(message)) return 'YAML indentation must use spaces, not tabs'
      if (/indentation|mapping entry|expected/.test(message))
        return 'Check the indentation: keys of one mapping must start in the same column, list items need "- ", and a value holding ": " must be quoted'
      return 'Fix the YAML syntax at this position'
  }
}

/** 1-based line/column of the value at `path` (or of its key with `preferKey`); a missing key points at its parent. */
export function positionOf(source: SourceDocument, path: Path, preferKey = false): {line: number; column: number} {
  source.positions ??= {root: buildPositions(source.text), lineStarts: lineStartsOf(source.text)}
  const {node, keyOffset} = nodeAt(source.positions.root, path)
  const offset = preferKey && keyOffset !== undefined ? keyOffset : node.offset
  return lineColumn(source.positions.lineStarts, offset)
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

/** Schema problems listed per file; a file with more (a 20 MB file of the wrong kind) gets one line for the rest. */
export const MAX_SCHEMA_DIAGNOSTICS = 200

/** Maps zod issues to positioned diagnostics, up to MAX_SCHEMA_DIAGNOSTICS of them. */
export function zodDiagnostics(source: SourceDocument, error: z.ZodError, schema?: z.ZodType): Diagnostic[] {
  const out = schemaDiagnostics(source, error, schema)
  if (out.length <= MAX_SCHEMA_DIAGNOSTICS) return out
  const total = error.issues.reduce((n, issue) => n + (issue.code === 'unrecognized_keys' ? issue.keys.length : 1), 0)
  const more = total - MAX_SCHEMA_DIAGNOSTICS
  return [
    ...out.slice(0, MAX_SCHEMA_DIAGNOSTICS),
    {
      severity: 'error',
      code: 'SCHEMA_MORE_PROBLEMS',
      message: `${more.toLocaleString('en')} more schema problems are not listed`,
      hint: 'Check that this is the kind of file you meant (`migrate schema` shows each kind), fix the problems above and validate again',
      file: source.file,
      line: 1,
      column: 1,
    },
  ]
}

function schemaDiagnostics(source: SourceDocument, error: z.ZodError, schema?: z.ZodType): Diagnostic[] {
  const out: Diagnostic[] = []
  for (const issue of error.issues) {
    if (out.length > MAX_SCHEMA_DIAGNOSTICS) break
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as Path
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys.slice(0, MAX_SCHEMA_DIAGNOSTICS + 1)) {
          const near = schema ? didYouMean(key, knownKeys(schema, path)) : ''
          out.push(
            diagnosticAt(
              source,
              [...path, key],
              {
                code: 'SCHEMA_UNKNOWN_FIELD',
                message: `unknown field "${key}"${near}`,
                hint: 'Remove it or check its spelling; `migrate schema` lists the fields',
              },
              true,
            ),
          )
        }
        break
      case 'invalid_type': {
        const missing = /received undefined$/.test(issue.message)
        out.push(
          diagnosticAt(source, path, {
            code: missing ? 'SCHEMA_MISSING_FIELD' : 'SCHEMA_INVALID_TYPE',
            message: missing
              ? `required field "${String(path.at(-1) ?? '')}" is missing`
              : `${issue.message.replace(/^Invalid input: /, '')}`,
            hint: missing
              ? `Add ${String(path.at(-1) ?? 'it')} (expected ${issue.expected})`
              : `Write ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected} here`,
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
        out.push(
          diagnosticAt(source, path, {
            code: 'SCHEMA_INVALID_VALUE',
            message: issue.message,
            hint: 'See `migrate schema` for the allowed shapes',
          }),
        )
        break
      default:
        out.push(diagnosticAt(source, path, {code: `SCHEMA_${issue.code.toUpperCase()}`, message: issue.message}))
    }
  }
  return out
}

function valueAt(source: SourceDocument, path: Path): unknown {
  let v: unknown = source.value
  for (const seg of path)
    v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined
  return v
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
  return checkSchema(source, schema)
}

/** Schema-check a document that was read. */
export function checkSchema<T>(source: SourceDocument, schema: z.ZodType<T>): Loaded<T> {
  const parsed = schema.safeParse(source.value)
  if (!parsed.success) return {source, value: undefined, diagnostics: zodDiagnostics(source, parsed.error, schema)}
  return {source, value: parsed.data, diagnostics: []}
}
