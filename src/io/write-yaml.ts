// Writing the YAML files people review in git: a schema header for editors, stable key order, no line folding,
// written atomically so a crash never leaves half a file.
import path from 'node:path'
import {Document, parse, Scalar, stringify, visit} from 'yaml'
import {SCHEMAS_DIR} from '../paths.js'
import {writeFileAtomic} from './atomic.js'

export function schemaHeader(kind: string, file: string): string {
  let rel = path.relative(path.dirname(path.resolve(file)), path.join(SCHEMAS_DIR, `${kind}.schema.json`))
  if (!rel.startsWith('.')) rel = `./${rel}`
  return `# yaml-language-server: $schema=${rel.split(path.sep).join('/')}\n`
}

const OPTIONS = {lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false, indentSeq: true} as const

export function toYaml(value: unknown): string {
  if (!hasLossyString(value)) return stringify(value, OPTIONS)
  // Some multi-line strings (whitespace-only lines, say) do not survive yaml's block style: write those double-quoted.
  const doc = new Document(value, OPTIONS)
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && blockIsLossy(node.value)) node.type = Scalar.QUOTE_DOUBLE
    },
  })
  return doc.toString(OPTIONS)
}

const lossy = new Map<string, boolean>()

/** Whether yaml's block style would read `s` back as something else. */
function blockIsLossy(s: string): boolean {
  if (!s.includes('\n')) return false
  let r = lossy.get(s)
  if (r === undefined) {
    r = (parse(stringify({s}, OPTIONS)) as {s: unknown}).s !== s
    if (lossy.size < 10_000) lossy.set(s, r)
  }
  return r
}

function hasLossyString(value: unknown): boolean {
  if (typeof value === 'string') return blockIsLossy(value)
  if (value === null || typeof value !== 'object') return false
  for (const [k, v] of Object.entries(value)) if (blockIsLossy(k) || hasLossyString(v)) return true
  return false
}

/** Serialises `value` with the schema header and writes it atomically. Returns the text written. */
export function writeYamlFile(file: string, kind: string, value: unknown, comment?: string): string {
  const text =
    schemaHeader(kind, file) +
    (comment
      ? comment
          .split('\n')
          .map((l) => `# ${l}`.trimEnd())
          .join('\n') + '\n'
      : '') +
    toYaml(value)
  writeFileAtomic(file, text)
  return text
}
