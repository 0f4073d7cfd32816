// The README and docs/ say what to type and what it prints: every ```console block is run, as a newcomer would from a
// checkout, and must print what it shows. Each block runs in a fresh copy of plans/ (so blocks do not depend on each
// other); its `$ migrate …` lines run in order; every other line must appear in the output of the command above it
// (spacing aside; `…` stands for anything). A command exits 0 unless its comment says `exit N`.
import {execa} from 'execa'
import {cpSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {scratchDir} from '../helpers/scratch.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')
/** Blocks that need more than a checkout, with the test that covers them instead. */
const NOT_HERE: Record<string, string> = {
  'docs/local-migration.md':
    'needs the database lab (real PostgreSQL/MariaDB/Redis servers): test/db/*.e2e.test.ts run it',
}

export interface DocCommand {
  line: number
  argv: string[]
  exit: number
  expected: string[]
}

/** The ```console blocks of a Markdown text, each as its commands with the output lines shown under them. */
export function consoleBlocks(text: string): {line: number; commands: DocCommand[]}[] {
  const blocks: {line: number; commands: DocCommand[]}[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```console') continue
    const block = {line: i + 1, commands: [] as DocCommand[]}
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) {
      const l = lines[i]
      const cmd = /^\$ (.*?)(?:\s+#\s(.*))?$/.exec(l)
      if (cmd) {
        const exit = /\bexit (\d+)\b/.exec(cmd[2] ?? '')
        block.commands.push({
          line: i + 1,
          argv: cmd[1].trim().split(/\s+/),
          exit: exit ? Number(exit[1]) : 0,
          expected: [],
        })
      } else if (l.trim() !== '' && !l.startsWith('# ')) {
        block.commands.at(-1)?.expected.push(l)
      }
    }
    blocks.push(block)
  }
  return blocks
}

const squeeze = (s: string): string => s.replace(/\s+/g, ' ').trim()

/** Whether one output line holds every fragment of an expected line (split at `…`) in order. */
function lineMatches(actual: string, expected: string): boolean {
  let at = 0
  for (const part of squeeze(expected)
    .split('…')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const found = actual.indexOf(part, at)
    if (found < 0) return false
    at = found + part.length
  }
  return true
}

const DOCS = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]

let scratch: {dir: string; cleanup: () => void}
beforeAll(() => (scratch = scratchDir('docs')))
afterAll(() => scratch.cleanup())

describe('the matcher', () => {
  it('finds fragments in order within a line, and nothing else', () => {
    expect(
      lineMatches(
        'Wave 1: 3 done (exit 0). `migrate status --plan plans/demo` shows every step.',
        'Wave 1: 3 done (exit 0). …',
      ),
    ).toBe(true)
    expect(lineMatches('a b c', 'a … c')).toBe(true)
    expect(lineMatches('a b c', 'c … a')).toBe(false)
    expect(lineMatches('84 steps pending in 7 units of 1 application.', '24 steps pending in 2 application(s).')).toBe(
      false,
    )
  })
})

describe.each(DOCS)('%s: its console blocks run and print what they show', (file) => {
  const blocks = consoleBlocks(readFileSync(path.join(ROOT, file), 'utf8'))
  if (NOT_HERE[file] || blocks.length === 0) {
    it.skip(`${file}: ${NOT_HERE[file] ?? 'no console blocks'}`, () => {})
    return
  }
  it.each(blocks.map((b) => ({...b, name: `${file}:${b.line}`})))('$name', async (block) => {
    const cwd = path.join(scratch.dir, `${path.basename(file, '.md')}-${block.line}`)
    cpSync(path.join(ROOT, 'plans'), path.join(cwd, 'plans'), {
      recursive: true,
      filter: (f) => !/demo-work|state\.(journal|lock|head)|\.junit\.xml$/.test(f),
    })
    for (const c of block.commands) {
      const where = `${file}:${c.line}: $ ${c.argv.join(' ')}`
      expect(c.argv[0], `${where}: docs show migrate commands`).toBe('migrate')
      const r = await execa('node', [BIN, ...c.argv.slice(1)], {cwd, reject: false, env: {NO_COLOR: '1'}})
      const output = `${r.stdout}\n${r.stderr}`.split('\n').map(squeeze)
      expect(r.exitCode, `${where}\n${r.stderr.slice(-2000)}`).toBe(c.exit)
      const missing = c.expected.filter((e) => squeeze(e) !== '…' && !output.some((o) => lineMatches(o, e)))
      expect(
        missing,
        `${where} did not print these lines:\n${missing.join('\n')}\n--- it printed:\n${output.join('\n').slice(0, 4000)}`,
      ).toEqual([])
    }
  })
})
