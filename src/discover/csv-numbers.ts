// Numbers in CMDB exports are written in the exporter's locale: 16384 can be 16,384 (English), 16.384 (German,
// Indonesian), 16 384 (French) or 16'384 (Swiss), and 2.5 can be 2,5. A number whose separators say what they are
// ("1.234,5", "2,5", "1,234,567") is read as written; one that could be either ("16.384", "1,024") is read the way
// the file shows elsewhere: its numeric cells that do tell (when they agree), else its delimiter (Excel writes ";"
// where the decimal mark is "," and "," where it is "."). A number nothing in the file decides is refused with its
// line, never guessed.

export type DecimalMark = '.' | ','

export interface NumberLocale {
  /** The decimal mark numbers of this file use; undefined when nothing in the file tells. */
  decimal?: DecimalMark
  /** Why: "line 7 writes 2,5" or "the file is delimited with ;", for messages. */
  because?: string
}

export type NumberReading = {value: number} | {problem: string; hint: string} | undefined

export const NOT_A_NUMBER = 'is not a number'

const SPACE_GROUPS = /^[-+]?\d{1,3}(?:[ \u00a0\u202f\u2009'\u2019]\d{3})+(?:[.,]\d+)?%?$/
const NUMBERISH = /^[-+]?[\d.,]*\d[\d.,]*%?$/
const other = (mark: DecimalMark): DecimalMark => (mark === '.' ? ',' : '.')

/** What one number says about the decimal mark on its own: a mark, or nothing (no separator, or ambiguous). */
export function decimalShownBy(raw: string): DecimalMark | undefined {
  const s = raw.trim().replace(/%$/, '')
  if (SPACE_GROUPS.test(raw.trim())) return /[.,]/.exec(s)?.[0] as DecimalMark | undefined
  if (!NUMBERISH.test(s)) return undefined
  const dots = s.split('.').length - 1
  const commas = s.split(',').length - 1
  if (dots > 0 && commas > 0) return s.lastIndexOf('.') > s.lastIndexOf(',') ? '.' : ','
  if (dots + commas === 0) return undefined
  const mark: DecimalMark = dots > 0 ? '.' : ','
  if (dots + commas > 1) return other(mark)
  const [int, frac] = s.replace(/^[-+]/, '').split(mark)
  return frac.length !== 3 || int.length > 3 || int === '' || /^0+$/.test(int) ? mark : undefined
}

/**
 * The decimal mark a file shows: that of its numeric cells that tell, when they agree; nothing when they disagree
 * (then only the ambiguous numbers are refused); the delimiter's when no cell tells.
 */
export function numberLocaleOf(
  cells: Iterable<{raw: string; line: number}>,
  delimiter: string,
  forced?: DecimalMark,
): NumberLocale {
  if (forced) return {decimal: forced, because: `--decimal-separator ${forced}`}
  const first: Partial<Record<DecimalMark, string>> = {}
  for (const {raw, line} of cells) {
    const mark = decimalShownBy(raw)
    if (mark && !first[mark]) first[mark] = `line ${line} writes ${raw.trim()}`
    if (first['.'] && first[',']) return {because: `the file writes decimals both ways (${first['.']}, ${first[',']})`}
  }
  if (first['.']) return {decimal: '.', because: first['.']}
  if (first[',']) return {decimal: ',', because: first[',']}
  if (delimiter === ';')
    return {decimal: ',', because: 'the file is delimited with ";", as Excel writes it where "," is the decimal mark'}
  if (delimiter === ',')
    return {decimal: '.', because: 'the file is delimited with ",", as Excel writes it where "." is the decimal mark'}
  return {}
}

const howToFix = (value: number) =>
  `Write it without thousands separators (e.g. ${value}), or pass --decimal-separator . or --decimal-separator , to say how this file writes decimals`

/** A number as the file's locale writes it; undefined for an empty cell. */
export function readNumber(raw: string | undefined, locale: NumberLocale): NumberReading {
  if (raw === undefined || raw.trim() === '') return undefined
  let s = raw.trim()
  if (SPACE_GROUPS.test(s)) s = s.replace(/[ \u00a0\u202f\u2009'\u2019]/g, '')
  s = s.replace(/%$/, '')
  if (!NUMBERISH.test(s)) {
    const n = Number(s)
    return Number.isFinite(n) && s !== ''
      ? {value: n}
      : {problem: NOT_A_NUMBER, hint: 'Write a plain number, e.g. 4 or 2.5'}
  }
  const dots = s.split('.').length - 1
  const commas = s.split(',').length - 1
  let decimal: DecimalMark | undefined
  if (dots > 0 && commas > 0) decimal = s.lastIndexOf('.') > s.lastIndexOf(',') ? '.' : ','
  else if (dots + commas === 0) return {value: Number(s)}
  else {
    const mark: DecimalMark = dots > 0 ? '.' : ','
    decimal = dots + commas > 1 ? other(mark) : decimalShownBy(s)
    if (decimal === undefined) {
      // One mark with three digits after it: 16.384 is 16384 or 16.384, as the file's locale says.
      if (!locale.decimal) {
        const grouped = Number(s.replace(mark, ''))
        const why =
          locale.because ?? `nothing else in this file shows whether "${mark}" groups thousands or marks decimals`
        return {problem: `could be ${grouped} or ${s.replace(',', '.')}: ${why}`, hint: howToFix(grouped)}
      }
      decimal = locale.decimal
    }
  }
  const grouping = other(decimal)
  const [int, frac, extra] = s.split(decimal)
  if (
    extra !== undefined ||
    (int.includes(grouping) && !/^[-+]?\d{1,3}(?:[.,]\d{3})+$/.test(int)) ||
    (frac !== undefined && !/^\d+$/.test(frac))
  ) {
    return {
      problem: `is not a number written with "${decimal}" for decimals and "${grouping}" between thousands`,
      hint: 'Write a plain number, e.g. 16384 or 2.5',
    }
  }
  return {value: Number(`${int.replaceAll(grouping, '')}${frac === undefined ? '' : `.${frac}`}`)}
}
