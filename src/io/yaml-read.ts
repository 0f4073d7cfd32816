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
//
// A long document is read piece by piece where it can be (src/io/yaml-pieces.ts), so that its events never all exist
// at once; each piece is checked and made into values as the whole document's events would be.
import {
  COLLECTION_STYLE,
  constructFromEvents,
  EVENT_ID,
  parseEvents,
  SCALAR_STYLE,
  YAMLException,
  type Event,
} from './js-yaml.js'
import {checkAliasExpansion} from './yaml-aliases.js'
import {SCHEMA, setEntry} from './yaml-core-schema.js'
import {checkEvents, checkTabAfterIndicator, checkTabLinesNearExplicitKeys} from './yaml-event-checks.js'
import {type Entry, PIECES_FROM, piecesOf} from './yaml-pieces.js'
import {MAX_DEPTH, refusal, YamlRefused} from './yaml-refusal.js'

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
  const read = text.length >= PIECES_FROM ? readInPieces(text) : undefined
  return read ? read.value : readWhole(text)
}

/** The value of the text read as one piece (what readYaml does for a short text; tests compare the two). */
export function readWhole(text: string): unknown {
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

/**
 * The value of a document read piece by piece, or undefined when it is not of the shape src/io/yaml-pieces.ts reads
 * so, or a piece is refused or could only be read with the others (an alias, a key repeated across pieces): the whole
 * document is then read, which words any refusal. `batchSize` for tests.
 */
export function readInPieces(text: string, batchSize?: number): {value: unknown} | undefined {
  const entries = piecesOf(text, batchSize)
  if (!entries) return undefined
  const root: Record<string, unknown> = {}
  try {
    for (const entry of entries) {
      const read = entry.batches ? readListEntry(text, entry, entry.batches) : readEntry(text, entry)
      if (!read || Object.hasOwn(root, read.key)) return undefined
      setEntry(root, read.key, read.value)
    }
  } catch (error) {
    if (error instanceof YamlRefused || error instanceof YAMLException || error instanceof RangeError) return undefined
    throw error
  }
  return {value: root}
}

type Read = {key: string; value: unknown} | undefined

/** A top-level entry read alone: a block mapping at the start of its line with one key. */
function readEntry(text: string, entry: Entry): Read {
  const events = pieceEvents(text, entry.start, entry.end, MAX_DEPTH)
  const root = events[1]
  if (root?.type !== EVENT_ID.MAPPING || root.style !== COLLECTION_STYLE.BLOCK || !lineStartsAt(text, root.start))
    return undefined
  const value = pieceValue(text, events)?.value
  const keys = isMapping(value) ? Object.keys(value) : []
  return isMapping(value) && keys.length === 1 ? {key: keys[0], value: value[keys[0]]} : undefined
}

/** A top-level key alone on its line, then its block sequence's items in batches. */
function readListEntry(text: string, entry: Entry, batches: number[]): Read {
  const events = pieceEvents(text, entry.start, batches[0], MAX_DEPTH)
  const [, root, key, value] = events
  if (
    events.length !== 6 ||
    root.type !== EVENT_ID.MAPPING ||
    root.style !== COLLECTION_STYLE.BLOCK ||
    !lineStartsAt(text, root.start) ||
    text[root.start] === '?' ||
    key.type !== EVENT_ID.SCALAR ||
    value.type !== EVENT_ID.SCALAR ||
    value.style !== SCALAR_STYLE.PLAIN ||
    value.valueStart !== -1 ||
    value.anchorStart !== -1 ||
    value.tagStart !== -1
  )
    return undefined
  const keyed = pieceValue(text, events)
  if (!isMapping(keyed?.value)) return undefined
  const items: unknown[] = []
  for (const [i, start] of batches.entries()) {
    // Read alone, the items' sequence is the root: one level less deep than in the document.
    const batch = pieceEvents(text, start, batches[i + 1] ?? entry.end, MAX_DEPTH - 1)
    const list = batch[1]
    if (list?.type !== EVENT_ID.SEQUENCE || list.style !== COLLECTION_STYLE.BLOCK) return undefined
    if (text[list.start] !== '-' || !/^ *$/.test(text.slice(start, list.start))) return undefined
    const value = pieceValue(text, batch)?.value
    if (!Array.isArray(value)) return undefined
    for (const item of value) items.push(item)
  }
  return {key: Object.keys(keyed.value)[0], value: items}
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const lineStartsAt = (text: string, offset: number): boolean => offset === 0 || text[offset - 1] === '\n'

/** js-yaml's events for text[start, end), with offsets into the whole text. */
function pieceEvents(text: string, start: number, end: number, maxDepth: number): Event[] {
  const events = parseEvents(text.slice(start, end), {maxDepth})
  for (let i = 0; i < events.length; i++) {
    const e = events[i]
    if (e.type === EVENT_ID.SCALAR) {
      if (e.valueStart !== -1) e.valueStart += start
      if (e.valueEnd !== -1) e.valueEnd += start
    }
    if (e.type === EVENT_ID.SEQUENCE || e.type === EVENT_ID.MAPPING) e.start += start
    if (e.type === EVENT_ID.SCALAR || e.type === EVENT_ID.SEQUENCE || e.type === EVENT_ID.MAPPING) {
      if (e.tagStart !== -1) e.tagStart += start
      if (e.tagEnd !== -1) e.tagEnd += start
    }
    if (e.type !== EVENT_ID.DOCUMENT && e.type !== EVENT_ID.POP) {
      if (e.anchorStart !== -1) e.anchorStart += start
      if (e.anchorEnd !== -1) e.anchorEnd += start
    }
  }
  return events
}

/**
 * The value of one piece's events, checked as the whole document's events would be; undefined unless they are one
 * document without aliases (an alias may stand for another piece's anchor).
 */
function pieceValue(text: string, events: Event[]): {value: unknown} | undefined {
  const shape = checkEvents(events, text, false)
  if (shape.documents !== 1 || shape.aliases > 0) return undefined
  return {value: constructFromEvents(events, {source: text, schema: SCHEMA, json: false, maxTotalMergeKeys: 0})[0]}
}
