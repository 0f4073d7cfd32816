// The fast inventory writer must write exactly what src/io/write-yaml.ts's toYaml() writes.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'
import {toYamlChunks, toYamlFast} from '../../src/io/fast-yaml-write.js'
import {readYaml} from '../../src/io/yaml-read.js'
import {toYaml} from '../../src/io/write-yaml.js'

describe('toYamlFast', () => {
  it('equals toYaml on the example estate', () => {
    const inv = parse(readFileSync(path.join(__dirname, '../../plans/example/inventory.yaml'), 'utf8'))
    expect(toYamlFast(inv)).toBe(toYaml(inv))
  })

  it('equals toYaml on awkward keys and values', () => {
    const v = {
      colons: [
        'a:b',
        'a#b',
        'x:',
        'a :b',
        'http://x:80/p#f',
        '::1',
        'fd00::2',
        '1:2',
        'file.csv:12',
        'a: b',
        'a #b',
        '#x',
        ':x',
        'k:v:',
      ],
      tags: {
        'aws:cloudformation:stack-name': 's',
        'has space': 'v',
        'x: y': 'z',
        '#c': '1',
        '-dash': '-1',
        multi: 'a\nb',
        '': 'e',
        q: `it's "q"`,
        n: '007',
        f: '1e5',
        t: 'true',
        at: '@home',
        u: 'ünï',
        e: '',
        tr: 'x ',
        h: 'a#b',
        d: '...x',
        nul: null,
      },
      list: [[1, 2], [], {}, null, 'a', '-x', {'k k': 1}, {'-': 2, b: 3}, {'x: y': 1, b: 2}],
      num: [0.1, -0, 1e21, 1e-7, 3, -5, Number.NaN, Number.POSITIVE_INFINITY],
      nested: {deep: {deeper: []}},
      empty: {},
    }
    expect(toYamlFast(v)).toBe(toYaml(v))
  })

  it('equals toYaml for any strings as tag keys and values (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({unit: 'binary'}),
          fc.oneof(
            fc.string(),
            fc.string({unit: 'binary'}),
            fc.integer(),
            fc.double(),
            fc.boolean(),
            fc.constant(null),
          ),
        ),
        fc.array(fc.oneof(fc.string(), fc.string({unit: 'binary'}))),
        (tags, list) => {
          const v = {servers: [{id: 'x', tags, list}], tags}
          expect(toYamlFast(v)).toBe(toYaml(v))
        },
      ),
      {numRuns: 150},
    )
  })
})

describe('toYamlChunks', () => {
  it('hands over, in several pieces, exactly the text of toYamlFast (pieces end between top-level items)', () => {
    const inv = parse(readFileSync(path.join(__dirname, '../../plans/example/inventory.yaml'), 'utf8'))
    // Awkward items (the library renders those) between plain ones, so a piece boundary may fall next to them.
    inv.servers.splice(100, 0, {id: 'k k', tags: {'x: y': 1}}, [1, [2]], null, {'': 'empty key first'})
    const chunks: string[] = []
    toYamlChunks(inv, (c) => chunks.push(c))
    expect(chunks.length).toBeGreaterThan(2)
    for (const c of chunks.slice(0, -1)) expect(c.endsWith('\n')).toBe(true)
    expect(chunks.join('')).toBe(toYamlFast(inv))
    expect(chunks.join('')).toBe(toYaml(inv))
  })
})

describe('reading back what the writers write', () => {
  const back = (text: string) => readYaml(text)

  it('reads the example estate as the yaml library does', () => {
    const text = readFileSync(path.join(__dirname, '../../plans/example/inventory.yaml'), 'utf8')
    expect(back(text)).toStrictEqual(parse(text))
  })

  it('reads awkward keys and values back as they were written', () => {
    const v = {
      tags: {
        'aws:cloudformation:stack-name': 's',
        'has space': 'v',
        'x: y': 'z',
        '#c': '1',
        '-dash': '-1',
        multi: 'a\nb',
        multi2: 'a\n\nb\n',
        '': 'e',
        q: `it's "q"`,
        qq: `"both" 'q'`,
        n: '007',
        f: '1e5',
        t: 'true',
        at: '@home',
        u: 'ünï',
        e: '',
        tr: 'x ',
        lead: ' x',
        h: 'a#b',
        d: '...x',
        nul: null,
        ctl: 'a\u0001b\tc',
        ws: '  \n \n',
        keep: 'a\n\n\n',
      },
      list: [[1, 2], [], {}, null, 'a', '-x', {'k k': 1}, {'-': 2, b: 3}, {'x: y': 1, b: 2}, [[3]]],
      num: [0.1, 1e21, 1e-7, 3, -5, Number.POSITIVE_INFINITY],
      nested: {deep: {deeper: []}},
      empty: {},
    }
    expect(back(toYaml(v))).toStrictEqual(v)
    expect(back(toYamlFast(v))).toStrictEqual(v)
  })

  it('round-trips any data the writers write (property)', () => {
    const str = fc.oneof(fc.string(), fc.string({unit: 'binary'}))
    fc.assert(
      fc.property(
        fc.dictionary(str, fc.oneof(str, fc.integer(), fc.boolean(), fc.constant(null), fc.array(str, {maxLength: 3}))),
        (tags) => {
          const v = {servers: [{id: 'x', tags}], tags}
          expect(back(toYamlFast(v))).toStrictEqual(JSON.parse(JSON.stringify(v)))
        },
      ),
      {numRuns: 300},
    )
  })
})
