// The terminal experience of `execute`: on a real pseudo-terminal (test/fixtures/pty-run.py), the documented
// `execute … --yes` shows the live listr2 view, asks the finalize approvals once, together, after the soak, shows how
// long each unit took, and leaves final titles that are the final state. An approval given on the command line survives
// a Ctrl-C during the soak. The desk that gathers the questions is tested on its own too.
import {execa} from 'execa'
import {cpSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApprovalDesk, parseBatchAnswer} from '../../src/executor/approvals.js'
import type {ExecEvent} from '../../src/executor/types.js'
import {scratchDir} from '../helpers/scratch.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')
const PTY = path.join(ROOT, 'test/fixtures/pty-run.py')
let scratch: {dir: string; cleanup: () => void}
beforeAll(() => (scratch = scratchDir('terminal')))
afterAll(() => scratch.cleanup())

let n = 0
function demo(): string {
  const dir = path.join(scratch.dir, String(++n), 'demo')
  cpSync(path.join(ROOT, 'plans/demo'), dir, {
    recursive: true,
    filter: (f) => !/demo-work|state\.(journal|lock|head)/.test(f),
  })
  return dir
}
const plain = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replaceAll('\r', '\n')
const onTerminal = (answerRe: string, answer: string, args: string[]) =>
  execa('python3', [PTY, answerRe, answer, '--', 'node', BIN, ...args], {
    reject: false,
    env: {FORCE_COLOR: '0', TERM: 'xterm-256color'},
  })
const journal = (dir: string) =>
  readFileSync(path.join(dir, 'state.journal'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as {type: string; app?: string; step?: string; time: string; message?: string})

describe('execute on a terminal', () => {
  it('--yes: the live view, the finalize approvals asked once and together after the soak, elapsed times, final titles', async () => {
    const dir = demo()
    const r = await onTerminal('Approve all \\d+\\?|\\[y/N\\]', 'y', ['execute', 'wave', '1', '--plan', dir, '--yes'])
    const out = plain(r.stdout)
    expect(out, out.slice(-3000)).toContain('[exit 0]')
    // The live view: listr2 task lines with a unit, its step and its elapsed time.
    expect(out).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏◼] shop-web: \[\d+\/10\] [\w-]+ · \d/)
    // One batch with the three questions, asked once.
    expect(out.match(/3 approvals are needed:/g)).toHaveLength(1)
    expect(out.match(/Approve all 3\?/g)).toHaveLength(1)
    for (const app of ['orders-api', 'report-batch', 'shop-web'])
      expect(out).toMatch(new RegExp(`\\d\\. \\[${app}\\] Run finalize step finalize for ${app}`))
    // After the soak (2 s of healthy checks): every approval is journaled at least 2 s after the unit's cutover was verified.
    const events = journal(dir)
    for (const app of ['orders-api', 'report-batch', 'shop-web']) {
      const verified = events.find((e) => e.app === app && e.step === 'verify' && e.type === 'step-succeeded')!
      const approved = events.find((e) => e.app === app && e.step === 'finalize' && e.type === 'gate-approved')!
      expect(approved.message).toMatch(/interactive confirmation/)
      expect(Date.parse(approved.time) - Date.parse(verified.time)).toBeGreaterThanOrEqual(2000)
    }
    // The last frame: every unit's final state and how long it took.
    const last = out.slice(out.lastIndexOf('Approve all 3?'))
    for (const app of ['orders-api', 'report-batch', 'shop-web'])
      expect(last).toMatch(new RegExp(`✔ ${app}: done in \\d+(\\.\\d)?(ms|s)`))
  })

  it('a unit that fails and rolls back ends on its outcome, not on the last compensation', async () => {
    const dir = demo()
    // check-test fails: the cutover never starts and the unit rolls back its first steps.
    const t = readFileSync(path.join(ROOT, 'templates/local-demo.yaml'), 'utf8')
      .replace(
        'check: {type: command, run: [test, -f, "{{ plan.dir }}/{{ params.workDir }}/{{ app.name }}/test-instance"]}',
        'check: {type: command, run: [test, -f, /nonexistent-i14]}',
      )
      .replace('retries: {count: 2, backoff: 200ms}', 'retries: {count: 0, backoff: 200ms}')
    cpSync(path.join(ROOT, 'templates/local-demo.yaml'), path.join(dir, 'templates/local-demo.yaml'))
    writeFileSync(path.join(dir, 'templates/local-demo.yaml'), t)
    const r = await onTerminal('\\[y/N\\]|Approve all', 'y', ['execute', 'wave', '1', '--plan', dir, '--yes'])
    const out = plain(r.stdout)
    expect(out).toContain('[exit 3]')
    const lastFrame = out.slice(out.lastIndexOf('shop-web: ROLLED BACK') - 400)
    expect(lastFrame).toMatch(/✖ shop-web: ROLLED BACK in \d/)
    expect(lastFrame).not.toMatch(/shop-web: rolling back/)
  })
})

describe('a finalize approval given on the command line', () => {
  it('is not forgotten after a Ctrl-C during the soak', async () => {
    const dir = demo()
    expect((await execa('node', [BIN, 'execute', 'wave', '1', '--plan', dir, '--yes'], {reject: false})).exitCode).toBe(
      6,
    )
    const run = execa('node', [BIN, 'execute', 'wave', '1', '--plan', dir, '--approve', 'finalize'], {reject: false})
    await new Promise<void>((resolve) =>
      run.stderr!.on('data', (c: Buffer) => c.toString().includes('soak 2s') && resolve()),
    )
    run.kill('SIGINT')
    const stopped = await run
    expect(stopped.exitCode).toBe(130)
    expect(stopped.stdout).toContain('stopped during the soak before finalize')
    // Without --approve, not at a terminal: approved already, so the soak runs again and finalize goes on.
    const again = await execa('node', [BIN, 'execute', 'wave', '1', '--plan', dir], {reject: false})
    expect(again.exitCode, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toMatch(/shop-web\s+done/)
  })
})

describe('ApprovalDesk', () => {
  const ev = (e: ExecEvent) => e
  it('asks once, together, when no unit is still running a step', async () => {
    const asked: string[][] = []
    const desk = new ApprovalDesk(
      async (qs) => (asked.push(qs), qs.map((q) => !q.includes('b'))),
      new AbortController().signal,
      20,
    )
    desk.observe(ev({type: 'step-start', app: 'a', step: 'soak', index: 0, total: 1, attempt: 1, kind: 'run'}))
    desk.observe(ev({type: 'step-start', app: 'b', step: 'soak', index: 0, total: 1, attempt: 1, kind: 'run'}))
    desk.observe(ev({type: 'step-start', app: 'c', step: 'long', index: 0, total: 1, attempt: 1, kind: 'run'}))
    const qa = desk.question('[a] go?', ['a'])
    const qb = desk.question('[b] go?', ['b'])
    await new Promise((r) => setTimeout(r, 100))
    expect(asked).toEqual([]) // c still runs a step
    desk.observe(ev({type: 'step-end', app: 'c', step: 'long', index: 0, total: 1, status: 'succeeded'}))
    expect(await qa).toBe(true)
    expect(await qb).toBe(false)
    expect(asked).toEqual([['[a] go?', '[b] go?']])
    desk.close()
  })

  it('does not wait past maxWaitMs for a unit that runs for long, nor for a retry', async () => {
    const asked: string[][] = []
    const desk = new ApprovalDesk(
      async (qs) => (asked.push(qs), qs.map(() => true)),
      new AbortController().signal,
      10,
      150,
    )
    desk.observe(ev({type: 'step-start', app: 'slow', step: 'replicate', index: 0, total: 1, attempt: 1, kind: 'wait'}))
    const t0 = Date.now()
    expect(await desk.question('[a] go?', ['a'])).toBe(true)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140)
    desk.close()
  })

  it('answers no to everyone waiting when the run is interrupted', async () => {
    const ac = new AbortController()
    const desk = new ApprovalDesk(async (qs) => qs.map(() => true), ac.signal, 10)
    desk.observe(ev({type: 'step-start', app: 'busy', step: 'x', index: 0, total: 1, attempt: 1, kind: 'run'}))
    const q = desk.question('[a] go?', ['a'])
    ac.abort()
    expect(await q).toBe(false)
  })

  it('reads y, n, empty and numbers; refuses what it cannot read', () => {
    expect(parseBatchAnswer('y', 3)).toEqual([true, true, true])
    expect(parseBatchAnswer('', 2)).toEqual([false, false])
    expect(parseBatchAnswer('No', 2)).toEqual([false, false])
    expect(parseBatchAnswer('1,3', 3)).toEqual([true, false, true])
    expect(parseBatchAnswer('2 3', 3)).toEqual([false, true, true])
    expect(parseBatchAnswer('4', 3)).toBeUndefined()
    expect(parseBatchAnswer('maybe', 3)).toBeUndefined()
  })
})
