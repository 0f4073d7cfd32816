// src/io/yaml-read.ts reads a long document piece by piece (src/io/yaml-pieces.ts): whatever it reads so must be
// what reading the whole document gives, and a document it cannot settle piece by piece must be left to that.
// Here every document is cut as finely as it can be (batches of one item), on the hand-edit corpus, on generated
// documents and on a 3,000-server inventory.
import fc from 'fast-check'
import {parse, stringify} from 'yaml'
import {describe, expect, it} from 'vitest'
import {toYamlFast} from '../../src/io/fast-yaml-write.js'
import {MAX_DEPTH, readInPieces, readWhole, readYaml, YamlRefused} from '../../src/io/yaml-read.js'
import {piecesOf, PIECES_FROM} from '../../src/io/yaml-pieces.js'
import {corpus} from './yaml-corpus.js'

const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'number' && !Number.isFinite(x) ? `#${x}` : Object.is(x, -0) ? '#-0' : x,
  )

/** What reading the whole document gives. */
function whole(text: string): string {
  try {
    return canon(readWhole(text))
  } catch (error) {
    if (!(error instanceof YamlRefused)) throw error
    return `refused: ${error.code}`
  }
}

/** A difference between reading in pieces (when it reads) and reading whole; counts the documents read in pieces. */
let inPieces = 0
function difference(text: string): string | undefined {
  const pieces = readInPieces(text, 1)
  if (!pieces) return undefined
  inPieces++
  const mine = canon(pieces.value)
  const theirs = whole(text)
  return mine === theirs ? undefined : `in pieces ${mine.slice(0, 300)}, whole ${theirs.slice(0, 300)}`
}

// FUZZ_SCALE=20 runs each property 20 times as long, from a random seed (as in yaml-read.test.ts).
const scale = Number(process.env.FUZZ_SCALE ?? 1)
const seed = process.env.FUZZ_SCALE ? {} : {seed: 20261130}

describe('reading in pieces', () => {
  it('reads the hand-edit corpus as the whole reader does', () => {
    inPieces = 0
    const cases = corpus(parse)
    const problems = cases.flatMap((c) => {
      const d = difference(c.text)
      return d ? [`${c.name}: ${d}`] : []
    })
    expect(problems).toEqual([])
    expect(inPieces).toBeGreaterThan(cases.length / 2)
  })

  it('reads generated documents as the whole reader does', () => {
    inPieces = 0
    const key = fc.oneof(
      {weight: 4, arbitrary: fc.constantFrom('a', 'b', 'servers', '__proto__', '1', '"1"', '? q')},
      fc.string({maxLength: 3}),
    )
    const value = fc.oneof(
      fc.constantFrom(
        '',
        ' x',
        ' |\n  a\n\n',
        ' |1\n  a',
        ' >-\n   b\n  c',
        ' "a\n  b"',
        " 'a\n b'",
        ' [a,\n  b]',
        ' &x y',
        ' *x',
        ' !!str 1',
        ' # c',
        '\n  x',
        '\n# c\n  x',
        '\n\n  # c\n    x',
        '\n  k: v',
        '\n  - ',
        '\n  -',
      ),
      fc.string({maxLength: 4}).map((s) => ` ${s}`),
    )
    const item = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          '- a',
          '- a\n  b',
          '- |\n  t\n',
          '- k: v\n  w: x',
          '-\n  - y',
          '- "q\n  r"',
          '- &a 1',
        ),
      },
      fc.constantFrom('# c', '', '  # c', '- [a,\nb]', ' - z', '-x', '- ? k\n  : v', '- a\n- b', '- *a'),
    )
    const list = fc
      .tuple(fc.constantFrom('', '  ', ' '), fc.array(item, {maxLength: 5}))
      .map(([pad, items]) => items.map((i) => pad + i.replaceAll('\n', `\n${pad}`)).join('\n'))
    const colon = fc.oneof(
      {weight: 6, arbitrary: fc.constantFrom(':', ': # c', ':  ')},
      fc.constantFrom(': !!seq', ': &s'),
    )
    const entry = fc.oneof(
      {weight: 3, arbitrary: fc.tuple(key, value).map(([k, v]) => `${k}:${v}`)},
      {weight: 3, arbitrary: fc.tuple(key, colon, list).map(([k, c, l]) => `${k}${c}\n${l}`)},
      fc.constantFrom('# c', '', '---', '...', '%YAML 1.2', 'x', '  y', '\tz: 1', 'a: b\rc: d'),
    )
    const doc = fc
      .tuple(fc.array(entry, {minLength: 1, maxLength: 6}), fc.constantFrom('\n', '\r\n'))
      .map(([entries, eol]) => `${entries.join('\n')}\n`.replaceAll('\n', eol))
    fc.assert(
      fc.property(doc, (text) => {
        expect(difference(text)).toBeUndefined()
      }),
      {numRuns: 3000 * scale, ...seed},
    )
    expect(inPieces).toBeGreaterThan(300)
    inPieces = 0
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({maxLength: 5}), fc.array(fc.jsonValue({maxDepth: 3}), {maxLength: 4})),
        fc.integer({min: 1, max: 4}),
        fc.boolean(),
        (value, indent, indentSeq) => {
          expect(difference(stringify(value, {indent, indentSeq}))).toBeUndefined()
        },
      ),
      {numRuns: 1000 * scale, ...seed},
    )
    expect(inPieces).toBeGreaterThan(300)
  })

  it('leaves to the whole reader what is nested too deep for it, by the same limit', () => {
    for (const depth of [MAX_DEPTH - 3, MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH]) {
      const text = `a: 1\nlist:\n  - ${'['.repeat(depth)}${']'.repeat(depth)}\n  - 2\n`
      expect(difference(text)).toBeUndefined()
      expect(readInPieces(text, 1) !== undefined).toBe(!whole(text).startsWith('refused'))
    }
  })

  it('reads a 3,000-server inventory in batches, as the whole reader does', () => {
    const servers = Array.from({length: 3000}, (_, i) => ({
      id: `i-${i}`,
      name: `web-${i}`,
      privateIps: [`10.0.${i >> 8}.${i & 255}`],
      tags: {app: `app-${i % 40}`, note: i % 7 === 0 ? 'a\nb' : 'x: y'},
    }))
    const text = `# written\n${toYamlFast({apiVersion: 'migrate/v1', kind: 'Inventory', servers, unassigned: ['i-1']})}`
    expect(text.length).toBeGreaterThan(PIECES_FROM)
    const entries = piecesOf(text)
    expect(entries?.length).toBe(4)
    expect(entries?.[2].batches?.length).toBeGreaterThan(4)
    expect(canon(readYaml(text))).toBe(canon(readWhole(text)))
    expect(readInPieces(text)).toBeDefined()
  })
})
