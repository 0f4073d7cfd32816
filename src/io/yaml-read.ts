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
import {
  constructFromEvents,
  defineMappingTag,
  defineScalarTag,
  EVENT_ID,
  NOT_RESOLVED,
  SCALAR_STYLE,
  parseEvents,
  Schema,
  seqTag,
  strTag,
  YAMLException,
  getScalarValue,
  type Event,
  type ScalarEvent,
} from 'js-yaml'
import {CST} from 'yaml'

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

// yaml's core schema, tag by tag (yaml/dist/schema/core/{bool,int,float}.js, schema/common/null.js). Only plain
// scalars are resolved; an explicit !!int/!!float/!!bool/!!null tag is refused (yaml's rules for those differ by
// version and are not worth matching for hand-written files: quote the value or drop the tag).
const NULL = /^(?:~|[Nn]ull|NULL)?$/
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/
const INT_OCT = /^0o[0-7]+$/
const INT = /^[-+]?[0-9]+$/
const INT_HEX = /^0x[0-9a-fA-F]+$/
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/

/** The value of a plain (unquoted, untagged) scalar under yaml's core schema. */
export function resolvePlain(source: string): unknown {
  if (NULL.test(source)) return null
  if (BOOL.test(source)) return source[0] === 't' || source[0] === 'T'
  if (INT_OCT.test(source)) return Number.parseInt(source.slice(2), 8)
  if (INT.test(source)) return Number.parseInt(source, 10)
  if (INT_HEX.test(source)) return Number.parseInt(source.slice(2), 16)
  if (FLOAT_NAN.test(source))
    return source.slice(-3).toLowerCase() === 'nan'
      ? Number.NaN
      : source[0] === '-'
        ? Number.NEGATIVE_INFINITY
        : Number.POSITIVE_INFINITY
  if (FLOAT_EXP.test(source) || FLOAT.test(source)) return Number.parseFloat(source)
  return source
}

const implicitOnly =
  (test: (s: string) => boolean) =>
  (source: string, isExplicit: boolean): unknown =>
    !isExplicit && test(source) ? resolvePlain(source) : NOT_RESOLVED

const nullTag = defineScalarTag('tag:yaml.org,2002:null', {
  implicit: true,
  implicitFirstChars: ['', '~', 'n', 'N'],
  resolve: implicitOnly((s) => NULL.test(s)),
  identify: (v) => v === null,
})
const boolTag = defineScalarTag('tag:yaml.org,2002:bool', {
  implicit: true,
  implicitFirstChars: ['t', 'T', 'f', 'F'],
  resolve: implicitOnly((s) => BOOL.test(s)),
  identify: (v) => typeof v === 'boolean',
})
const intTag = defineScalarTag('tag:yaml.org,2002:int', {
  implicit: true,
  implicitFirstChars: ['-', '+', ...'0123456789'],
  resolve: implicitOnly((s) => INT_OCT.test(s) || INT.test(s) || INT_HEX.test(s)),
  identify: (v) => Number.isInteger(v),
})
const floatTag = defineScalarTag('tag:yaml.org,2002:float', {
  implicit: true,
  implicitFirstChars: ['-', '+', '.', ...'0123456789'],
  resolve: implicitOnly((s) => FLOAT_NAN.test(s) || FLOAT_EXP.test(s) || FLOAT.test(s)),
  identify: (v) => typeof v === 'number',
})

/**
 * Mappings as plain objects, keyed as yaml's toJS keys them (String(key); an inherited name such as "toString" or
 * "__proto__" becomes an own property). Keys yaml would turn into something else are refused: null (yaml makes it
 * ""), and collections (yaml writes them out as flow YAML).
 */
const mapTag = defineMappingTag<Record<string, unknown>>('tag:yaml.org,2002:map', {
  create: () => ({}),
  addPair: (map, key, value) => {
    if (key === null)
      return 'a mapping key is empty (null or ~); name the key, or quote it ("~") if it is meant literally'
    if (typeof key === 'object') return 'a list or mapping used as a key is not supported; use a plain key'
    const name = String(key)
    if (name in map) Object.defineProperty(map, name, {value, writable: true, enumerable: true, configurable: true})
    else map[name] = value
    return ''
  },
  has: (map, key) => (key === null || typeof key === 'object' ? false : Object.hasOwn(map, String(key))),
  keys: (map) => Object.keys(map),
  get: (map, key) => map[String(key)],
  identify: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
})

const SCHEMA = new Schema([strTag, seqTag, mapTag, nullTag, boolTag, intTag, floatTag])

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

function refusal(error: unknown, text: string): YamlRefused {
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

/**
 * One document at most, no directives but %YAML 1.2, no implicit key whose ":" stands more than 1024 characters after
 * its start (the YAML spec's limit, which `yaml` enforces and js-yaml does not); counts the aliases.
 */
function checkEvents(events: Event[], text: string): {documents: number; aliases: number; firstAlias: number} {
  let documents = 0
  let aliases = 0
  let firstAlias = -1
  let lastOffset = 0
  // For each open collection: is it a mapping, and is its next node a key?
  const open: {map: boolean; keyNext: boolean}[] = []
  const tabs = text.includes('\t')
  const isKey = (): boolean => {
    const top = open.at(-1)
    if (!top?.map) return false
    top.keyNext = !top.keyNext
    return !top.keyNext
  }
  for (const e of events) {
    switch (e.type) {
      case EVENT_ID.DOCUMENT:
        documents++
        if (documents > 1)
          throw new YamlRefused(
            'the file holds more than one YAML document (a second "---")',
            documentStart(text, lastOffset),
            'YAML_UNSUPPORTED',
          )
        // js-yaml takes an indented "---" for a document start; yaml (and the spec) read it as text.
        if (e.explicitStart) {
          const first = /^(?:[ \t]*(?:#[^\n]*)?(?:\r?\n)|%[^\n]*\n)*/.exec(text)![0].length
          if (!/^---(?:[ \t\r\n]|$)/.test(text.slice(first)))
            throw new YamlRefused(
              '"---" is indented; a document marker starts at the beginning of its line',
              first,
              'YAML_SYNTAX',
            )
        }
        for (const d of e.directives) {
          if (d.kind === 'yaml' && d.version === '1.2') continue
          const what = d.kind === 'yaml' ? `%YAML ${d.version}` : '%TAG'
          throw new YamlRefused(
            `the ${what} directive is not read; remove it (files are read as YAML 1.2, core schema)`,
            Math.max(0, text.indexOf('%')),
            'YAML_UNSUPPORTED',
          )
        }
        break
      case EVENT_ID.ALIAS:
        aliases++
        if (firstAlias < 0) firstAlias = Math.max(0, e.anchorStart - 1)
        if (tabs) checkIndentation(text, e.anchorStart - 1)
        if (isKey()) checkKeyLength(text, e.anchorStart - 1, e.anchorEnd)
        lastOffset = e.anchorEnd
        break
      case EVENT_ID.SCALAR: {
        checkPropertyEnd(text, e)
        const block = e.style === SCALAR_STYLE.LITERAL_BLOCK || e.style === SCALAR_STYLE.FOLDED_BLOCK
        const quoted = e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED
        const starts = [
          e.tagStart,
          e.anchorStart - 1,
          block ? (blockHeader(text, e)?.offset ?? -1) : e.valueStart - (quoted ? 1 : 0),
        ].filter((x) => x >= 0)
        if (tabs && starts.length > 0) checkIndentation(text, Math.min(...starts))
        // A "fast" scalar's value is its source text as it stands (one line, no escapes): nothing to fold or decode.
        if (e.valueEnd !== NO_RANGE && !e.fast) checkScalarText(text, e, open.length === 0)
        const key = isKey()
        if (!key && e.style === SCALAR_STYLE.PLAIN && e.valueStart !== NO_RANGE && open.length > 0)
          checkCommentBeforeValue(text, e.valueStart)
        if (key && e.valueEnd !== NO_RANGE) {
          const quoted = e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED ? 1 : 0
          const props = [e.tagStart, e.anchorStart].filter((x) => x !== NO_RANGE)
          checkKeyLength(
            text,
            Math.min(e.valueStart - quoted, ...props.map((x) => (x === e.anchorStart ? x - 1 : x))),
            e.valueEnd + quoted,
          )
        }
        lastOffset = e.valueEnd
        break
      }
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING:
        checkPropertyEnd(text, e)
        isKey()
        if (tabs) checkIndentation(text, e.start)
        open.push({map: e.type === EVENT_ID.MAPPING, keyNext: true})
        lastOffset = e.start
        break
      case EVENT_ID.POP:
        open.pop()
        break
    }
  }
  return {documents, aliases, firstAlias}
}

const NO_RANGE = -1
const TABS = 'Tabs are not allowed as indentation (YAML indents with spaces only)'
const MAX_IMPLICIT_KEY = 1024

/**
 * A plain value on a line of its own below its key, after a blank line and a comment less indented than the value:
 * yaml takes the next line for more of the value (or its key for a broken one), js-yaml does not. Refused there.
 */
function checkCommentBeforeValue(text: string, valueStart: number): void {
  let i = valueStart - 1
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--
  if (i >= 0 && text[i] !== '\n') return
  let lineStart = i + 1
  const indent = valueStart - lineStart
  let blank = false
  let lessIndentedComment = false
  while (lineStart > 0) {
    const prev = text.lastIndexOf('\n', lineStart - 2) + 1
    const line = text.slice(prev, lineStart - 1).replace(/\r$/, '')
    if (/^[ \t]*$/.test(line)) blank = true
    else if (/^[ \t]*#/.test(line)) lessIndentedComment ||= line.search(/#/) < indent
    else break
    lineStart = prev
  }
  if (blank && lessIndentedComment)
    throw new YamlRefused(
      'a value on its own line after a blank line and a less indented comment is read differently by YAML readers; put the value on the line of its key, or indent the comment like the value',
      valueStart,
      'YAML_UNSUPPORTED',
    )
}

/**
 * A tab after a line's leading "- " / "? " / ": " that is followed by anything but a plain one-line value (an anchor,
 * a tag, a quote, a nested key or list): yaml takes the tab for indentation, js-yaml for a separator.
 */
function checkTabAfterIndicator(text: string): void {
  for (const m of text.matchAll(/^([ ]*(?:[-?:][ \t]+)*[-?:])[ \t]*\t[ \t]*(.*)$/gm)) {
    const rest = m[2].replace(/\r$/, '')
    if (rest === '' || /^[&*!|>'"[{#?:-]/.test(rest) || /:(?:[ \t]|$)/.test(rest))
      throw new YamlRefused(TABS, (m.index ?? 0) + m[1].length, 'YAML_SYNTAX')
  }
}

/** A tab at the start of a line, or after its "? ", ": " or "- ", in a file with explicit keys ("? key"): yaml takes it for indentation. */
function checkTabLinesNearExplicitKeys(text: string): void {
  if (!/^[ \t]*(?:- +)*\?[ \t]/m.test(text)) return
  const tabbed = /^[ ?:-]*\t/m.exec(text)
  if (tabbed)
    throw new YamlRefused(
      `${TABS}: a line starts with a tab (after its indicators), in a file with explicit keys ("? ")`,
      tabbed.index + tabbed[0].length - 1,
      'YAML_SYNTAX',
    )
}

/** An anchor or tag must be followed by a space or a line end: "&a[1]" is one anchor to js-yaml, broken to yaml. */
function checkPropertyEnd(text: string, e: {anchorEnd: number; tagEnd: number}): void {
  for (const end of [e.anchorEnd, e.tagEnd]) {
    if (end === NO_RANGE || end >= text.length) continue
    const ch = text[end]
    if (ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\r' && ch !== ',' && ch !== ']' && ch !== '}')
      throw new YamlRefused('an anchor (&name) or tag (!tag) must be followed by a space', end, 'YAML_SYNTAX')
  }
}

/** Refuses a node that starts a line after a tab: YAML indents with spaces (js-yaml lets some tabs pass, yaml not). */
function checkIndentation(text: string, offset: number): void {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1
  const prefix = text.slice(lineStart, offset)
  if (prefix.includes('\t') && /^[ \t]*$/.test(prefix))
    throw new YamlRefused(TABS, lineStart + prefix.indexOf('\t'), 'YAML_SYNTAX')
}

/** The header (| or > with its indicators) of a block scalar: on the line before its text. */
function blockHeader(text: string, e: ScalarEvent): {offset: number; match: RegExpExecArray} | undefined {
  if (e.valueStart === NO_RANGE) return undefined
  const headerLine = text.lastIndexOf('\n', e.valueStart - 2) + 1
  const match = /([|>])([-+0-9]*)[ \t]*(?:#.*)?\r?\n$/.exec(text.slice(headerLine, e.valueStart))
  return match ? {offset: headerLine + match.index, match} : undefined
}

/**
 * Line folding, escapes and block scalars are where YAML readers part ways (each library has its own reading of
 * whitespace-only lines, escaped line breaks and indentation indicators). Scalars written with any of those are
 * decoded a second time by yaml's own resolver (CST.resolveAsScalar), from the same source text; if the two
 * readings differ, or yaml's reports a problem, the document is refused at that scalar.
 */
function checkScalarText(text: string, e: ScalarEvent, atRoot: boolean): void {
  const quoted = e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED
  const block = e.style === SCALAR_STYLE.LITERAL_BLOCK || e.style === SCALAR_STYLE.FOLDED_BLOCK
  const raw = quoted ? text.slice(e.valueStart - 1, e.valueEnd + 1) : text.slice(e.valueStart, e.valueEnd)
  if (
    quoted &&
    !/[\n\r]/.test(raw) &&
    !(e.style === SCALAR_STYLE.SINGLE_QUOTED ? raw.slice(1, -1).includes("'") : raw.includes('\\'))
  )
    return
  let token: Parameters<typeof CST.resolveAsScalar>[0]
  let at = quoted ? e.valueStart - 1 : e.valueStart
  if (block) {
    const found = blockHeader(text, e)
    if (!found)
      throw new YamlRefused(
        'a block scalar (| or >) whose header this reader cannot place',
        e.valueStart,
        'YAML_UNSUPPORTED',
      )
    const header = found.match
    at = found.offset
    // An indentation indicator counts from the parent's indentation, which for a scalar that is the whole document
    // YAML readers put at -1 or 0: refused there. Elsewhere the parent's is the content's (js-yaml's) less the digit.
    const digit = Number(/[0-9]/.exec(header[2])?.[0] ?? 0)
    if (digit > 0 && atRoot)
      throw new YamlRefused(
        `the indentation indicator in "${header[1]}${header[2]}" of a document that is one block of text is not read (YAML readers differ on it); remove the digit`,
        at,
        'YAML_UNSUPPORTED',
      )
    // The text of the scalar as yaml's lexer takes it: on over the blank lines after it, less those of them (unless
    // kept with +) that are not indented deeper than its first line.
    let end = e.valueEnd
    for (const m of text.slice(end).matchAll(/^ *\r?(?:\n|$)/gm)) {
      if (m.index !== end - e.valueEnd || m[0] === '') break
      end += m[0].length
    }
    // A line after it that starts with a tab is read by yaml as the block's text, and refused there.
    if (/^ *\t/.test(text.slice(end, end + 200))) throw new YamlRefused(TABS, end, 'YAML_SYNTAX')
    if (!header[2].includes('+')) {
      const firstIndent = /^(?: *\r?\n)*( *)/.exec(text.slice(e.valueStart, end))![1].length
      for (;;) {
        const lastLine = text.lastIndexOf('\n', end - 2) + 1
        const blank = /^( *)\r?\n?$/.exec(text.slice(lastLine, end))
        if (lastLine <= e.valueStart || !blank || blank[1].length > firstIndent) break
        end = lastLine
      }
    }
    const parentIndent = digit > 0 ? e.indent - digit : 0
    const headerToken = {
      type: 'block-scalar-header' as const,
      offset: at,
      indent: parentIndent,
      source: header[1] + header[2],
    }
    token = {
      type: 'block-scalar',
      offset: at,
      indent: parentIndent,
      props: [headerToken],
      source: text.slice(e.valueStart, end),
    }
  } else {
    token = {
      type: quoted
        ? e.style === SCALAR_STYLE.SINGLE_QUOTED
          ? 'single-quoted-scalar'
          : 'double-quoted-scalar'
        : 'scalar',
      offset: at,
      indent: 0,
      source: raw,
    }
  }
  let problem: string | undefined
  const theirs = CST.resolveAsScalar(token, true, (_offset, _code, message) => {
    problem ??= message
  })
  const mine = getScalarValue(text, e)
  if (problem !== undefined || theirs?.value !== mine) {
    throw new YamlRefused(
      `this ${block ? 'block' : quoted ? 'quoted' : 'multi-line'} text can be read in more than one way (${problem ?? 'YAML readers fold its lines differently'}); simplify its line breaks, blank lines or escapes`,
      at,
      'YAML_UNSUPPORTED',
    )
  }
}

/** Refuses an implicit key (one not written after "? ") whose ":" is more than 1024 characters after its start. */
function checkKeyLength(text: string, start: number, end: number): void {
  if (end - start <= MAX_IMPLICIT_KEY - 8) return
  let colon = end
  while (text[colon] === ' ' || text[colon] === '\t') colon++
  if (colon - start <= MAX_IMPLICIT_KEY) return
  let before = start - 1
  while (before >= 0 && (text[before] === ' ' || text[before] === '\t')) before--
  if (text[before] === '?') return
  throw new YamlRefused(
    `a key is longer than ${MAX_IMPLICIT_KEY} characters (YAML's limit for a key not written after "? ")`,
    start,
    'YAML_SYNTAX',
  )
}

function documentStart(text: string, after: number): number {
  const m = /^---/m.exec(text.slice(after))
  return m ? after + m.index : after
}

/**
 * Aliases make the value a graph that later steps (schema checks, digests, the writer) walk as a tree. Refuses a
 * cycle, and a document whose aliases add more than MAX_ALIAS_EXPANSION nodes when expanded — linear in the graph.
 */
function checkAliasExpansion(root: unknown, at: number): void {
  if (root === null || typeof root !== 'object') return
  const size = new Map<object, number>()
  const open = new Set<object>()
  const stack: {node: object; children: unknown[]; i: number; total: number}[] = []
  // `written` counts each value once as it stands in the file; `total` counts it as often as aliases repeat it.
  let written = 0
  const enter = (node: object): void => {
    if (open.has(node))
      throw new YamlRefused(
        'an alias refers to the anchor it is inside of (the data would be endless)',
        at,
        'YAML_ALIAS_LIMIT',
      )
    open.add(node)
    written++
    stack.push({node, children: Array.isArray(node) ? node : Object.values(node), i: 0, total: 1})
  }
  enter(root)
  let total = 0
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    if (top.i < top.children.length) {
      const child = top.children[top.i++]
      if (child === null || typeof child !== 'object') {
        written++
        top.total++
      } else {
        const known = size.get(child)
        if (known === undefined) enter(child)
        else top.total += known
      }
      continue
    }
    stack.pop()
    open.delete(top.node)
    size.set(top.node, top.total)
    if (stack.length > 0) stack[stack.length - 1].total += top.total
    else total = top.total
  }
  if (total - written > MAX_ALIAS_EXPANSION) {
    throw new YamlRefused(
      `aliases expand this document by more than ${MAX_ALIAS_EXPANSION.toLocaleString('en')} values (an "alias bomb")`,
      at,
      'YAML_ALIAS_LIMIT',
    )
  }
}
