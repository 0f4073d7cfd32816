// Where a long YAML document can be read piece by piece (src/io/yaml-read.ts), so that js-yaml's events for all of it
// never exist at once: for an inventory they take several times the memory of its values (figures: bench/README.md).
// This file only finds the pieces, from the text's lines; src/io/yaml-read.ts reads each one against the whole text
// and falls back to reading the whole document whenever a piece does not read as the shape expected.
//
// A document qualifies when it is a block mapping at the root whose keys start their lines, with no tab, no lone CR
// and no document marker or directive line. Each top-level entry is a piece; an entry whose value is a long block
// sequence is read as its key, then its items in batches, each batch starting at an item's "- " (at the sequence's
// indentation, where no text of the item before can continue: js-yaml wants a continuation line indented deeper).

/** A top-level entry [start, end) of the root mapping. */
export interface Entry {
  start: number
  end: number
  /**
   * When its value is a long block sequence: where each batch of its items starts (the key's text runs from `start`
   * to the first, each batch to the next or to `end`).
   */
  batches?: number[]
}

/** Texts shorter than this are read whole (their events are small). */
export const PIECES_FROM = 256 * 1024
/** About how much text one batch of sequence items holds. */
export const BATCH_SIZE = 8 * 1024

/**
 * A root mapping with more top-level keys than this is read whole: the pieces are for the long sequences of the
 * files migrate reads (a dozen keys at the top), and one piece per key of a huge flat mapping cost 15 s of CPU on
 * 20 MB against 4 s whole (bench/read-files.bench.mjs).
 */
export const MAX_ENTRIES = 256

/** The root mapping's entries, or undefined when the text is not of the shape read piece by piece. */
export function piecesOf(text: string, batchSize = BATCH_SIZE): Entry[] | undefined {
  if (/[\t\0]|\r(?!\n)|(?:^|\n)(?:%|---|\.\.\.)/.test(text)) return undefined
  // A top-level line: not indented, not a comment or a blank line, not a list item of a top-level key's value.
  const starts = [...text.matchAll(/\n(?![ #\r\n]|-(?:[ \r\n]|$)|$)/g)].map((m) => m.index + 1)
  // Comment lines above the first key go with it.
  if (/^(?:[ #\r\n]|-(?:[ \r\n]|$))/.test(text) && starts.shift() === undefined) return undefined
  starts.unshift(0)
  if (starts.length > MAX_ENTRIES) return undefined
  const entries: Entry[] = []
  for (const [i, start] of starts.entries()) {
    const end = starts[i + 1] ?? text.length
    const batches = end - start > batchSize ? itemBatches(text, start, end, batchSize) : undefined
    entries.push(batches ? {start, end, batches} : {start, end})
  }
  return entries
}

/**
 * Where the batches of items start, when the entry at [start, end) is a key alone on its line (maybe a comment after
 * it, blank or comment lines below) followed by a block sequence; undefined otherwise.
 */
function itemBatches(text: string, start: number, end: number, batchSize: number): number[] | undefined {
  const keyEnd = text.indexOf('\n', start)
  if (keyEnd < 0 || keyEnd >= end) return undefined
  const line = /\n(?: *(?:#[^\n]*)?\r?\n)*( *)-[ \r\n]/y
  line.lastIndex = keyEnd
  const m = line.exec(text)
  if (!m || line.lastIndex > end) return undefined
  const indent = m[1].length
  const batches = [line.lastIndex - indent - 2]
  const item = new RegExp(`\\n {${indent}}-[ \\r\\n]`, 'g')
  item.lastIndex = batches[0]
  for (let next = item.exec(text); next && next.index < end; next = item.exec(text))
    if (next.index + 1 - batches[batches.length - 1] >= batchSize) batches.push(next.index + 1)
  return batches
}
