// The checks src/io/yaml-read.ts runs over js-yaml's events before turning them into values: what the `yaml` library
// would read differently (or refuse) is refused here, at the offset of the node concerned.
import {EVENT_ID, SCALAR_STYLE, type DocumentEvent, type Event, type ScalarEvent} from './js-yaml.js'
import {blockHeader, checkScalarText, isBlock, isQuoted, NO_RANGE} from './yaml-scalar-check.js'
import {TABS, YamlRefused} from './yaml-refusal.js'

const MAX_IMPLICIT_KEY = 1024

/** What checkEvents found: how many documents, how many aliases, and where the first alias stands. */
export interface EventShape {
  documents: number
  aliases: number
  firstAlias: number
}

/** The walk's state: the shape so far, where the last node ended, and for each open collection its key parity. */
interface Walk extends EventShape {
  text: string
  tabs: boolean
  lastOffset: number
  // For each open collection: is it a mapping, and is its next node a key?
  open: {map: boolean; keyNext: boolean}[]
}

/** Whether the node now starting is a key (and counts it, so that the next one is its value). */
function isKey(w: Walk): boolean {
  const top = w.open.at(-1)
  if (!top?.map) return false
  top.keyNext = !top.keyNext
  return !top.keyNext
}

/**
 * One document at most, no directives but %YAML 1.2, no implicit key whose ":" stands more than 1024 characters after
 * its start (the YAML spec's limit, which `yaml` enforces and js-yaml does not); counts the aliases. `tabs`: whether
 * the text holds a tab (worth passing when the events are a piece of a long text).
 */
export function checkEvents(events: Event[], text: string, tabs = text.includes('\t')): EventShape {
  const w: Walk = {text, tabs, documents: 0, aliases: 0, firstAlias: -1, lastOffset: 0, open: []}
  for (const e of events) {
    switch (e.type) {
      case EVENT_ID.DOCUMENT:
        checkDocument(w, e)
        break
      case EVENT_ID.ALIAS:
        w.aliases++
        if (w.firstAlias < 0) w.firstAlias = Math.max(0, e.anchorStart - 1)
        if (tabs) checkIndentation(text, e.anchorStart - 1)
        if (isKey(w)) checkKeyLength(text, e.anchorStart - 1, e.anchorEnd)
        w.lastOffset = e.anchorEnd
        break
      case EVENT_ID.SCALAR:
        checkScalar(w, e)
        w.lastOffset = e.valueEnd
        break
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING:
        checkPropertyEnd(text, e)
        isKey(w)
        if (tabs) checkIndentation(text, e.start)
        w.open.push({map: e.type === EVENT_ID.MAPPING, keyNext: true})
        w.lastOffset = e.start
        break
      case EVENT_ID.POP:
        w.open.pop()
        break
    }
  }
  return {documents: w.documents, aliases: w.aliases, firstAlias: w.firstAlias}
}

function checkDocument(w: Walk, e: DocumentEvent): void {
  const text = w.text
  w.documents++
  if (w.documents > 1)
    throw new YamlRefused(
      'the file holds more than one YAML document (a second "---")',
      documentStart(text, w.lastOffset),
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
}

function checkScalar(w: Walk, e: ScalarEvent): void {
  const text = w.text
  checkPropertyEnd(text, e)
  const quoted = isQuoted(e)
  if (w.tabs) checkScalarIndentation(text, e, quoted)
  // A "fast" scalar's value is its source text as it stands (one line, no escapes): nothing to fold or decode.
  if (e.valueEnd !== NO_RANGE && !e.fast) checkScalarText(text, e, w.open.length === 0)
  const key = isKey(w)
  if (!key && e.style === SCALAR_STYLE.PLAIN && e.valueStart !== NO_RANGE && w.open.length > 0)
    checkCommentBeforeValue(text, e.valueStart)
  if (key && e.valueEnd !== NO_RANGE) {
    // The key starts at its tag, the & of its anchor or its opening quote, whichever comes first.
    const q = quoted ? 1 : 0
    let start = e.valueStart - q
    if (e.tagStart !== NO_RANGE) start = Math.min(start, e.tagStart)
    if (e.anchorStart !== NO_RANGE) start = Math.min(start, e.anchorStart - 1)
    checkKeyLength(text, start, e.valueEnd + q)
  }
}

/** A scalar (its tag, anchor, quote or block header, whichever comes first) must not start a line after a tab. */
function checkScalarIndentation(text: string, e: ScalarEvent, quoted: boolean): void {
  const starts = [
    e.tagStart,
    e.anchorStart - 1,
    isBlock(e) ? (blockHeader(text, e)?.offset ?? -1) : e.valueStart - (quoted ? 1 : 0),
  ].filter((x) => x >= 0)
  if (starts.length > 0) checkIndentation(text, Math.min(...starts))
}

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
export function checkTabAfterIndicator(text: string): void {
  for (const m of text.matchAll(/^([ ]*(?:[-?:][ \t]+)*[-?:])[ \t]*\t[ \t]*(.*)$/gm)) {
    const rest = m[2].replace(/\r$/, '')
    if (rest === '' || /^[&*!|>'"[{#?:-]/.test(rest) || /:(?:[ \t]|$)/.test(rest))
      throw new YamlRefused(TABS, (m.index ?? 0) + m[1].length, 'YAML_SYNTAX')
  }
}

/** A tab at the start of a line, or after its "? ", ": " or "- ", in a file with explicit keys ("? key"): yaml takes it for indentation. */
export function checkTabLinesNearExplicitKeys(text: string): void {
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
  checkPropertyEndAt(text, e.anchorEnd)
  checkPropertyEndAt(text, e.tagEnd)
}

function checkPropertyEndAt(text: string, end: number): void {
  if (end === NO_RANGE || end >= text.length) return
  const ch = text[end]
  if (ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\r' && ch !== ',' && ch !== ']' && ch !== '}')
    throw new YamlRefused('an anchor (&name) or tag (!tag) must be followed by a space', end, 'YAML_SYNTAX')
}

/** Refuses a node that starts a line after a tab: YAML indents with spaces (js-yaml lets some tabs pass, yaml not). */
function checkIndentation(text: string, offset: number): void {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1
  const prefix = text.slice(lineStart, offset)
  if (prefix.includes('\t') && /^[ \t]*$/.test(prefix))
    throw new YamlRefused(TABS, lineStart + prefix.indexOf('\t'), 'YAML_SYNTAX')
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
