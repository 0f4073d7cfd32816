// Writing the YAML files people review in git: a schema header for editors, stable key order, no line folding,
// written atomically so a crash never leaves half a file.
import path from 'node:path'
import {stringify} from 'yaml'
import {SCHEMAS_DIR} from '../paths.js'
import {writeFileAtomic} from './atomic.js'

export function schemaHeader(kind: string, file: string): string {
  let rel = path.relative(path.dirname(path.resolve(file)), path.join(SCHEMAS_DIR, `${kind}.schema.json`))
  if (!rel.startsWith('.')) rel = `./${rel}`
  return `# yaml-language-server: $schema=${rel.split(path.sep).join('/')}\n`
}

export function toYaml(value: unknown): string {
  return stringify(value, {lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false, indentSeq: true})
}

/** Serialises `value` with the schema header and writes it atomically. Returns the text written. */
export function writeYamlFile(file: string, kind: string, value: unknown, comment?: string): string {
  const text = schemaHeader(kind, file) + (comment ? comment.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n') + '\n' : '') + toYaml(value)
  writeFileAtomic(file, text)
  return text
}
