// Where each value of a YAML document stands in its text, for file:line:column diagnostics. Built from js-yaml's
// event stream only when a diagnostic needs a position (reading does not need it), in one pass over the events.
import {EVENT_ID, getScalarValue, parseEvents, SCALAR_STYLE, type Event, type ScalarEvent} from 'js-yaml'
import {MAX_DEPTH, resolvePlain} from './yaml-read.js'

export interface PositionNode {
  /** 0-based offset of the value's first character (its tag or anchor if it has one). */
  offset: number
  /** For a mapping: each key's own offset and its value's node. */
  keys?: Map<string, {offset: number; node: PositionNode}>
  /** For a sequence: its items. */
  items?: PositionNode[]
}

const NONE = -1

/** Where a value starts: its tag, the & of its anchor, the * of an alias, its opening quote or block header. */
function eventOffset(text: string, e: Event): number {
  if ('tagStart' in e && e.tagStart !== NONE) return e.tagStart
  if ('anchorStart' in e && e.anchorStart !== NONE) return e.anchorStart - 1
  if ('start' in e) return e.start
  if (!('valueStart' in e) || e.valueStart === NONE) return NONE
  if (e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED) return e.valueStart - 1
  if (e.style === SCALAR_STYLE.LITERAL_BLOCK || e.style === SCALAR_STYLE.FOLDED_BLOCK) {
    // The content starts on the line after the header (| or >, its indicators, maybe a comment).
    const headerLine = text.lastIndexOf('\n', e.valueStart - 2) + 1
    const m = /[|>][-+0-9]*[ \t]*(?:#.*)?\r?\n$/.exec(text.slice(headerLine, e.valueStart))
    return m ? headerLine + m.index : e.valueStart
  }
  return e.valueStart
}

/** The key a scalar stands for in a mapping, as the reader (src/io/yaml-read.ts) keys it. */
function keyOf(text: string, e: ScalarEvent): string {
  const raw = getScalarValue(text, e)
  return e.style === SCALAR_STYLE.PLAIN && e.tagStart === NONE ? String(resolvePlain(raw)) : raw
}

interface Frame {
  node: PositionNode
  /** A mapping's key waiting for its value. */
  key?: {name: string; offset: number}
  expectKey: boolean
}

/** The position tree of the (first) document of `text`; the root of an empty text is at offset 0. */
export function buildPositions(text: string): PositionNode {
  let events: Event[]
  try {
    events = parseEvents(text, {maxDepth: MAX_DEPTH})
  } catch {
    return {offset: 0}
  }
  const anchors = new Map<string, {node: PositionNode; key?: string}>()
  const stack: Frame[] = []
  let root: PositionNode | undefined
  const place = (node: PositionNode, asKey: string | undefined): void => {
    const top = stack.at(-1)
    if (!top) {
      root ??= node
      return
    }
    if (top.node.items) {
      top.node.items.push(node)
      return
    }
    if (top.expectKey) {
      top.key = {name: asKey ?? '', offset: node.offset}
      top.expectKey = false
      return
    }
    if (top.key && !top.node.keys!.has(top.key.name)) top.node.keys!.set(top.key.name, {offset: top.key.offset, node})
    top.key = undefined
    top.expectKey = true
  }
  const anchorName = (e: Event): string | undefined =>
    'anchorStart' in e && e.anchorStart !== NONE ? text.slice(e.anchorStart, e.anchorEnd) : undefined
  for (const e of events) {
    switch (e.type) {
      case EVENT_ID.DOCUMENT:
        if (root) return root
        break
      case EVENT_ID.SCALAR: {
        const top = stack.at(-1)
        // An empty value (`key:` and nothing) has no offset of its own: it stands at its key.
        const node: PositionNode = {offset: eventOffset(text, e)}
        if (node.offset === NONE) node.offset = top?.key?.offset ?? top?.node.offset ?? 0
        const key = stack.at(-1)?.expectKey ? keyOf(text, e) : undefined
        const name = anchorName(e)
        if (name !== undefined) anchors.set(name, {node, key: keyOf(text, e)})
        place(node, key)
        break
      }
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING: {
        const node: PositionNode =
          e.type === EVENT_ID.SEQUENCE
            ? {offset: eventOffset(text, e), items: []}
            : {offset: eventOffset(text, e), keys: new Map()}
        const name = anchorName(e)
        if (name !== undefined) anchors.set(name, {node})
        place(node, undefined)
        stack.push({node, expectKey: e.type === EVENT_ID.MAPPING})
        break
      }
      case EVENT_ID.ALIAS: {
        const target = anchors.get(text.slice(e.anchorStart, e.anchorEnd))
        // The alias's own offset; deeper paths go on into the anchored value.
        const node: PositionNode = {offset: eventOffset(text, e), keys: target?.node.keys, items: target?.node.items}
        place(node, target?.key)
        break
      }
      case EVENT_ID.POP:
        stack.pop()
        break
    }
  }
  return root ?? {offset: 0}
}

/** The node at `path`, or the deepest one on the way (a missing key points at its mapping), and the key's offset. */
export function nodeAt(
  root: PositionNode,
  path: readonly (string | number)[],
): {node: PositionNode; keyOffset?: number; exact: boolean} {
  let node = root
  let keyOffset: number | undefined
  for (const seg of path) {
    if (node.keys) {
      const hit = node.keys.get(String(seg))
      if (!hit) return {node, keyOffset, exact: false}
      keyOffset = hit.offset
      node = hit.node
    } else if (node.items && typeof seg === 'number' && node.items[seg]) {
      keyOffset = undefined
      node = node.items[seg]
    } else {
      return {node, keyOffset, exact: false}
    }
  }
  return {node, keyOffset, exact: true}
}

/** 1-based line and column of an offset; `lineStarts` from lineStartsOf. */
export function lineColumn(lineStarts: number[], offset: number): {line: number; column: number} {
  let lo = 0
  let hi = lineStarts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (lineStarts[mid] <= offset) lo = mid
    else hi = mid - 1
  }
  return {line: lo + 1, column: offset - lineStarts[lo] + 1}
}

export function lineStartsOf(text: string): number[] {
  const starts = [0]
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}
