// Why src/io/yaml-read.ts refuses a document: YamlRefused (a located refusal), and js-yaml's errors worded as ours.
import {YAMLException} from './js-yaml.js'

/** A document this reader will not read, with the 0-based offset (into the text without its BOM) it points at. */
export class YamlRefused extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly code: YamlRefusalCode,
  ) {
    super(message)
    this.name = 'YamlRefused'
  }
}

export type YamlRefusalCode =
  | 'YAML_SYNTAX'
  | 'YAML_DUPLICATE_KEY'
  | 'YAML_UNSUPPORTED'
  | 'YAML_ALIAS_LIMIT'
  | 'YAML_TOO_DEEP'

/** How many nodes aliases may add to a document when expanded (each alias counts as the nodes it stands for). */
export const MAX_ALIAS_EXPANSION = 1_000_000
/** Collections nested deeper than this are refused (js-yaml's own guard, which keeps recursion bounded). */
export const MAX_DEPTH = 100

export const TABS = 'Tabs are not allowed as indentation (YAML indents with spaces only)'

/** js-yaml's error (or a stack overflow) as a YamlRefused; anything else is rethrown. */
export function refusal(error: unknown, text: string): YamlRefused {
  if (error instanceof YAMLException) {
    const reason = error.reason
    let offset = error.mark?.position ?? 0
    // js-yaml points inside a quoted key; yaml (and a reader) at its opening quote.
    if (offset > 0 && (text[offset - 1] === '"' || text[offset - 1] === "'")) offset--
    if (reason === 'duplicated mapping key')
      return new YamlRefused(
        `the key ${JSON.stringify(keyAt(text, offset))} appears twice in one mapping`,
        offset,
        'YAML_DUPLICATE_KEY',
      )
    if (reason.startsWith('nesting exceeded maxDepth'))
      return new YamlRefused(`collections are nested more than ${MAX_DEPTH} deep`, offset, 'YAML_TOO_DEEP')
    if (/explicit tag|unknown (?:scalar|sequence|mapping) tag/.test(reason))
      return new YamlRefused(
        `${reason.replace(/^cannot resolve a node with/, 'the')}: explicit tags other than !!str are not read`,
        offset,
        'YAML_UNSUPPORTED',
      )
    if (/complex keys|mapping key is empty|used as a key/.test(reason))
      return new YamlRefused(reason, offset, 'YAML_UNSUPPORTED')
    if (/recursive alias/.test(reason))
      return new YamlRefused('an alias refers to the anchor it is inside of', offset, 'YAML_ALIAS_LIMIT')
    if (/^tab characters must not be used in indentation/.test(reason))
      return new YamlRefused(TABS, offset, 'YAML_SYNTAX')
    return new YamlRefused(reason, offset, 'YAML_SYNTAX')
  }
  if (error instanceof RangeError)
    return new YamlRefused('the document is nested too deeply to read', 0, 'YAML_TOO_DEEP')
  throw error
}

/** The key text at `offset` (for a duplicate-key message), shortened. */
function keyAt(text: string, offset: number): string {
  const line = text.slice(offset, text.indexOf('\n', offset) < 0 ? undefined : text.indexOf('\n', offset))
  const m = /^\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|(.+?))\s*:(?:\s|$)/.exec(line)
  const key = m ? (m[1] ?? m[2]?.replaceAll("''", "'") ?? m[3]) : line
  return key.length > 60 ? `${key.slice(0, 57)}…` : key
}
