// "Did you mean …": the names a person most likely meant when one they typed names nothing (a command, a flag, a
// step, an inventory field). One rule everywhere, so every mistyped name gets the same kind of answer.
import {distance} from 'fastest-levenshtein'

/**
 * The candidates near enough to `input` to be a typo of it, nearest first: an edit distance of at most a third of
 * the input's length (at least 2; 1 for inputs of one or two characters), compared without case, `-` and `_` (so `dryrun` finds `dry-run`).
 */
export function closestNames(input: string, candidates: Iterable<string>, limit = 3): string[] {
  const norm = (s: string): string => s.toLowerCase().replaceAll(/[-_]/g, '')
  const want = norm(input)
  const room = want.length <= 2 ? 1 : Math.max(2, Math.ceil(want.length / 3))
  const scored: {name: string; d: number}[] = []
  for (const name of new Set(candidates)) {
    if (name === input) continue
    const d = norm(name) === want ? 0 : distance(want, norm(name))
    if (d <= room) scored.push({name, d})
  }
  return scored
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((s) => s.name)
}

/** ` (did you mean "a" or "b"?)`, or '' when nothing is near: to append to a message about an unknown name. */
export function didYouMean(input: string, candidates: Iterable<string>, quote = (s: string) => `"${s}"`): string {
  const near = closestNames(input, candidates)
  if (near.length === 0) return ''
  return ` (did you mean ${near.map(quote).join(' or ')}?)`
}
