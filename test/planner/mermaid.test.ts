// `--format mermaid` drawn by the real Mermaid renderer (under jsdom, see test/support/mermaid-dom.ts): the example's
// chart and charts whose names hold every character that means something to Mermaid (colons, #, ;, %, quotes,
// brackets, line breaks, keywords, non-ASCII) must draw, with every task under its intended name and dates.
import fc from 'fast-check'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {dayOfIso, formatDay} from '../../src/planner/calendar.js'
import {mermaidText, renderMermaid} from '../../src/planner/render.js'
import {Plan} from '../../src/schema/plan.js'
import {renderGantt} from '../support/mermaid-dom.js'

const root = path.resolve(import.meta.dirname, '../..')
const example = Plan.parse(parse(readFileSync(path.join(root, 'plans/example/plan.yaml'), 'utf8')))
const norm = (s: string) => s.replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ').trim()

function withBlackouts(names: string[], metaName = example.metadata.name): Plan {
  const blackouts = names.map((name, i) => ({
    name,
    from: formatDay(dayOfIso('UTC', '2027-01-04') + 8 * i + 1),
    to: formatDay(dayOfIso('UTC', '2027-01-04') + 8 * i + 3),
  }))
  return {...example, metadata: {...example.metadata, name: metaName}, settings: {...example.settings, blackouts}}
}

const HOSTILE = [
  'Cutover 01:00',
  'freeze: a:b::c',
  'C# release; then # more',
  '#58; literally',
  '100% done %% not a comment',
  '%%{init: {"theme": "dark"}}%%',
  'say "hi" and \'bye\'',
  '<script>alert(1)</script> & <b>bold</b>',
  'line one\nline two\r\nthree\ttab',
  'title of a thing',
  'section 5',
  'excludes weekends',
  'click here',
  '2027-03-01 freeze',
  'Lebaran – Idul Fitri 1448 H',
  'Ünïcödé façade, 日本のお盆, ราชการ, 🎉 party',
  '(parenthesised) [bracketed] {braced}',
  'back\\slash and `tick` and |pipe|',
  '   padded   ',
  'accTitle: not a title',
  'a,b,c after w1c',
]

describe('mermaid gantt output', () => {
  it('draws the example plan: every wave with its replication, test and cutover on their days', async () => {
    const text = renderMermaid(example)
    const g = await renderGantt(text)
    const byId = new Map(g.tasks.map((t) => [t.id, t]))
    for (const w of example.waves) {
      const c = byId.get(`w${w.number}c`)
      expect(c, `wave ${w.number} cutover`).toBeDefined()
      expect(c!.name).toBe(`Cutover ${w.cutover.start.slice(11, 16)}`)
      expect(c!.start).toBe(w.cutover.start.slice(0, 10))
      expect(c!.milestone).toBe(true)
      const t = byId.get(`w${w.number}t`)!
      expect(t.name).toBe('Test')
      expect([t.start, t.end]).toEqual([w.test.start.slice(0, 10), w.cutover.start.slice(0, 10)])
      expect(byId.get(`w${w.number}r`)!.start).toBe(w.replicationStart.slice(0, 10))
    }
    expect(g.tasks.filter((t) => t.id.startsWith('b')).map((t) => t.name)).toContain('Lebaran 2027')
    expect(g.labels).toContain('Cutover 01:00')
    expect(g.labels.length).toBe(g.tasks.length)
    expect(g.title).toBe('Migration waves: example (Asia/Jakarta)')
  })

  it('draws names that hold colons, #, ;, %, quotes, markup, line breaks, keywords and non-ASCII as written', async () => {
    const plan = withBlackouts(HOSTILE, 'acme:prod/eu-1')
    const g = await renderGantt(renderMermaid(plan))
    const blackouts = g.tasks.filter((t) => /^b\d+$/.test(t.id))
    expect(blackouts.map((t) => t.name)).toEqual(HOSTILE.map(norm))
    for (const [i, t] of blackouts.entries()) {
      expect(t.start).toBe(plan.settings.blackouts[i].from)
      expect(t.crit).toBe(true)
    }
    for (const name of HOSTILE) expect(g.labels).toContain(norm(name))
    expect(g.title).toBe('Migration waves: acme:prod/eu-1 (Asia/Jakarta)')
    expect(g.svg).not.toContain('<script>')
  })

  it('draws any name a person could type (generated)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({unit: 'grapheme', minLength: 1, maxLength: 24}), {minLength: 1, maxLength: 4}),
        async (names) => {
          const g = await renderGantt(renderMermaid(withBlackouts(names)))
          const drawn = g.tasks.filter((t) => /^b\d+$/.test(t.id)).map((t) => t.name)
          expect(drawn).toEqual(names.map((n) => norm(n) || '(unnamed)'))
        },
      ),
      {numRuns: 40, seed: 20271114},
    )
  })

  it('is a check that can fail: a raw colon in a task name does not draw', async () => {
    const text = renderMermaid(example).replace(/Cutover 01#58;00/g, 'Cutover 01:00')
    await expect(renderGantt(text)).rejects.toThrow()
    expect(mermaidText('Cutover 01:00')).toBe('Cutover 01#58;00')
  })
})
