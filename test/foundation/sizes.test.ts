// Rooms stay small enough to live in (issue 17): no function over 80 lines and no source file over 400 in src/ and
// commands/, measured by scripts/sizes.mjs (`node scripts/sizes.mjs` lists them). The few that are over say why
// below, and may not grow: a new long function, or a listed one grown, fails here with what to do.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
// scripts/sizes.mjs is plain JavaScript (the same measure from the command line).
import {FILE_LINES, FUNCTION_LINES, longFiles, longFunctions, sourceFiles} from '../../scripts/sizes.mjs'

const ROOT = path.resolve(import.meta.dirname, '../..')

/** "file name" of a function over the limit → the most lines it may have, and why it is one function. */
const LONG_FUNCTIONS: Record<string, [number, string]> = {}

/** Files over the limit → the most lines they may have, and why. */
const LONG_FILES: Record<string, [number, string]> = {}

describe('room sizes', () => {
  const files: string[] = sourceFiles(ROOT)

  it(`no function over ${FUNCTION_LINES} lines, but those listed here (which may not grow)`, () => {
    const over = (longFunctions(files, FUNCTION_LINES, ROOT) as [number, string][]).map(([n, at]) => {
      const [file, name] = [at.split(':')[0], at.split(' ').slice(1).join(' ')]
      return {n, at, key: `${file} ${name}`}
    })
    const bad = over
      .filter(({n, key}) => !(key in LONG_FUNCTIONS) || n > LONG_FUNCTIONS[key][0])
      .map(({n, at, key}) =>
        key in LONG_FUNCTIONS
          ? `${at}: ${n} lines, more than the ${LONG_FUNCTIONS[key][0]} it is allowed`
          : `${at}: ${n} lines`,
      )
    expect(bad, 'split these by what each part does (node scripts/sizes.mjs lists them)').toEqual([])
    // A listed function that shrank under the limit (or is gone) is taken off the list.
    const stale = Object.keys(LONG_FUNCTIONS).filter((k) => !over.some((o) => o.key === k))
    expect(stale, 'under the limit now: remove them from LONG_FUNCTIONS').toEqual([])
  })

  it(`no source file over ${FILE_LINES} lines, but those listed here (which may not grow)`, () => {
    const over = longFiles(files, FILE_LINES, ROOT) as [number, string][]
    const bad = over.filter(([n, f]) => !(f in LONG_FILES) || n > LONG_FILES[f][0]).map(([n, f]) => `${f}: ${n} lines`)
    expect(bad, 'split these by what each part does (node scripts/sizes.mjs lists them)').toEqual([])
    const stale = Object.keys(LONG_FILES).filter((f) => !over.some(([, g]) => g === f))
    expect(stale, 'under the limit now: remove them from LONG_FILES').toEqual([])
  })

  it('the measure itself sees a long function and a long file', () => {
    // A check that can fail: the script finds what it is meant to find in a file made for it.
    const dir = mkdtempSync(path.join(tmpdir(), 'migrate-sizes-'))
    writeFileSync(path.join(dir, 'big.ts'), `export function big() {\n${'  x()\n'.repeat(90)}}\n`)
    expect(longFunctions(['big.ts'], FUNCTION_LINES, dir)).toEqual([[92, 'big.ts:1 big']])
    expect(longFiles(['big.ts'], 91, dir)).toEqual([[92, 'big.ts']])
    expect(longFiles(['big.ts'], 92, dir)).toEqual([])
  })
})
