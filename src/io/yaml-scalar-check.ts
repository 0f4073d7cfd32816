// Scalars whose text YAML readers may decode differently (folded lines, escapes, block scalars): each is decoded a
// second time by the `yaml` library's own resolver and refused where the two readings differ (src/io/yaml-read.ts).
import {getScalarValue, SCALAR_STYLE, type ScalarEvent} from './js-yaml.js'
import {CST} from 'yaml'
import {TABS, YamlRefused} from './yaml-refusal.js'

export const NO_RANGE = -1

type ScalarToken = Parameters<typeof CST.resolveAsScalar>[0]

export const isQuoted = (e: ScalarEvent): boolean =>
  e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED
export const isBlock = (e: ScalarEvent): boolean =>
  e.style === SCALAR_STYLE.LITERAL_BLOCK || e.style === SCALAR_STYLE.FOLDED_BLOCK

/** The header (| or > with its indicators) of a block scalar: on the line before its text. */
export function blockHeader(text: string, e: ScalarEvent): {offset: number; match: RegExpExecArray} | undefined {
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
export function checkScalarText(text: string, e: ScalarEvent, atRoot: boolean): void {
  const quoted = isQuoted(e)
  const block = isBlock(e)
  const raw = quoted ? text.slice(e.valueStart - 1, e.valueEnd + 1) : text.slice(e.valueStart, e.valueEnd)
  if (
    quoted &&
    !/[\n\r]/.test(raw) &&
    !(e.style === SCALAR_STYLE.SINGLE_QUOTED ? raw.slice(1, -1).includes("'") : raw.includes('\\'))
  )
    return
  const {token, at} = block ? blockScalarToken(text, e, atRoot) : flowScalarToken(e, raw, quoted)
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

/** A plain or quoted scalar as yaml's lexer would hand it to its resolver. */
function flowScalarToken(e: ScalarEvent, raw: string, quoted: boolean): {token: ScalarToken; at: number} {
  const at = quoted ? e.valueStart - 1 : e.valueStart
  const type = !quoted
    ? 'scalar'
    : e.style === SCALAR_STYLE.SINGLE_QUOTED
      ? 'single-quoted-scalar'
      : 'double-quoted-scalar'
  return {token: {type, offset: at, indent: 0, source: raw}, at}
}

/** A block scalar (its header and its text) as yaml's lexer would hand it to its resolver. */
function blockScalarToken(text: string, e: ScalarEvent, atRoot: boolean): {token: ScalarToken; at: number} {
  const found = blockHeader(text, e)
  if (!found)
    throw new YamlRefused(
      'a block scalar (| or >) whose header this reader cannot place',
      e.valueStart,
      'YAML_UNSUPPORTED',
    )
  const header = found.match
  const at = found.offset
  // An indentation indicator counts from the parent's indentation, which for a scalar that is the whole document
  // YAML readers put at -1 or 0: refused there. Elsewhere the parent's is the content's (js-yaml's) less the digit.
  const digit = Number(/[0-9]/.exec(header[2])?.[0] ?? 0)
  if (digit > 0 && atRoot)
    throw new YamlRefused(
      `the indentation indicator in "${header[1]}${header[2]}" of a document that is one block of text is not read (YAML readers differ on it); remove the digit`,
      at,
      'YAML_UNSUPPORTED',
    )
  const end = blockScalarEnd(text, e, header[2].includes('+'))
  const parentIndent = digit > 0 ? e.indent - digit : 0
  const headerToken = {
    type: 'block-scalar-header' as const,
    offset: at,
    indent: parentIndent,
    source: header[1] + header[2],
  }
  return {
    token: {
      type: 'block-scalar',
      offset: at,
      indent: parentIndent,
      props: [headerToken],
      source: text.slice(e.valueStart, end),
    },
    at,
  }
}

/**
 * Where yaml's lexer ends a block scalar's text: on over the blank lines after it, less those of them (unless kept
 * with +) that are not indented deeper than its first line.
 */
function blockScalarEnd(text: string, e: ScalarEvent, keep: boolean): number {
  let end = e.valueEnd
  for (const m of text.slice(end).matchAll(/^ *\r?(?:\n|$)/gm)) {
    if (m.index !== end - e.valueEnd || m[0] === '') break
    end += m[0].length
  }
  // A line after it that starts with a tab is read by yaml as the block's text, and refused there.
  if (/^ *\t/.test(text.slice(end, end + 200))) throw new YamlRefused(TABS, end, 'YAML_SYNTAX')
  if (!keep) {
    const firstIndent = /^(?: *\r?\n)*( *)/.exec(text.slice(e.valueStart, end))![1].length
    for (;;) {
      const lastLine = text.lastIndexOf('\n', end - 2) + 1
      const blank = /^( *)\r?\n?$/.exec(text.slice(lastLine, end))
      if (lastLine <= e.valueStart || !blank || blank[1].length > firstIndent) break
      end = lastLine
    }
  }
  return end
}
