// Reading a YAML (or JSON) document into plain data, exactly as the `yaml` library reads it under the YAML 1.2 core
// schema, or refusing it with the offset of the problem.
//
// The `yaml` library's document model takes seconds for a 10,000-server inventory, so the text is parsed by js-yaml 5
// (a maintained parser that, like `yaml`, passes the whole YAML test suite) into events, and turned into values with
// a schema whose scalar rules are `yaml`'s own core-schema rules (the same patterns and the same conversions, from
// yaml/dist/schema/core and schema/common/null). Whatever the two libraries could read differently is refused
// instead of guessed: explicit tags other than !!str/!!seq/!!map, %YAML or %TAG directives, null, empty or
// collection keys, keys that repeat (also 1 beside "1"), several documents, and aliases that refer into their own
// anchor or expand the document by more than MAX_ALIAS_EXPANSION nodes (billion laughs). test/foundation/
// yaml-read.test.ts compares this reader with `yaml` on a corpus of hand edits and on generated documents.
import {constructFromEvents, parseEvents, type Event} from 'js-yaml'
import {checkAliasExpansion} from './yaml-aliases.js'
import {SCHEMA} from './yaml-core-schema.js'
import {checkEvents, checkTabAfterIndicator, checkTabLinesNearExplicitKeys} from './yaml-event-checks.js'
import {MAX_DEPTH, refusal} from './yaml-refusal.js'

export {resolvePlain} from './yaml-core-schema.js'
export {MAX_ALIAS_EXPANSION, MAX_DEPTH, YamlRefused, type YamlRefusalCode} from './yaml-refusal.js'

/** The text without a leading byte-order mark (offsets of YamlRefused and of the position index are into this). */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

/**
 * The value of a YAML or JSON text, as yaml's `parseDocument(text).toJS()` gives it (an empty document is null), or a
 * YamlRefused. `text` must be without its BOM (withoutBom).
 */
export function readYaml(text: string): unknown {
  let events: Event[]
  try {
    events = parseEvents(text, {maxDepth: MAX_DEPTH})
  } catch (error) {
    throw refusal(error, text)
  }
  if (text.includes('\t')) {
    checkTabLinesNearExplicitKeys(text)
    checkTabAfterIndicator(text)
  }
  const shape = checkEvents(events, text)
  if (shape.documents === 0) return null
  let value: unknown
  try {
    value = constructFromEvents(events, {source: text, schema: SCHEMA, json: false, maxTotalMergeKeys: 0})[0]
  } catch (error) {
    throw refusal(error, text)
  }
  if (shape.aliases > 0) checkAliasExpansion(value, shape.firstAlias)
  return value
}
