// Printable-only text for people: values from inventories and plans may hold newlines, ANSI escapes, carriage
// returns or bidirectional overrides that would forge lines on a terminal or in a log (a fake "succeeded", an
// "\e[2K\rAPPROVED" that erases the question). Every human output shows such characters escaped (\n, \x1b, \u{202e}),
// so what is printed is one line per event, in the order the tool wrote it. JSON output keeps values as they are
// (JSON escapes them itself).

// C0 controls, DEL, C1 controls, and the Unicode format characters that reorder or hide text.
const UNPRINTABLE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu

const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

function escapeChar(c: string): string {
  const named = NAMED[c]
  if (named) return named
  const n = c.codePointAt(0)!
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`
}

/** The text with every control and invisible formatting character escaped: safe on one line of a terminal. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar)
}

/** The same, keeping newlines (multi-line human output such as a command's last lines of output). */
export function printableLines(text: string): string {
  return text
    .split('\n')
    .map((l) => printable(l))
    .join('\n')
}

/** True when the text holds a character printable() would escape. */
export function hasUnprintable(text: string): boolean {
  UNPRINTABLE.lastIndex = 0
  const r = UNPRINTABLE.test(text)
  UNPRINTABLE.lastIndex = 0
  return r
}
