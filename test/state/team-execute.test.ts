// Many runners on one wave through the shared PostgreSQL backend (the machine's real server, a database per file):
// different units at once, the same unit raced for, a runner killed with -9 mid-step, a runner whose session the
// server terminates. Runners are the real CLI (node bin/run.js, built dist/), as CI jobs run it.
import {execa, type ResultPromise} from 'execa'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {lines, makePlanDir, template} from '../executor/helpers.js'
import {useTestDb} from './pg-db.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')

const db = useTestDb('exec')

const runner = (dir: string, args: string[], env: Record<string, string> = {}): ResultPromise =>
  execa('node', [BIN, 'execute', 'wave', '1', '--plan', dir, '--state', db.url, '--yes', ...args], {
    reject: false,
    env: {NO_COLOR: '1', MIGRATE_STATE: '', ...env},
  })

/** A step that appends its token to effects.log (after `pause` seconds, and before as much again). */
const effect = (token: string, pause = '0', idempotent = false) => ({
  id: token.replace(/[^a-z0-9]/gi, '-'),
  run: [
    'sh',
    '-c',
    'sleep "$3"; echo "$1" >> "$2"; sleep "$3"',
    'step',
    `{{ app.name }}-${token}`,
    '{{ plan.dir }}/effects.log',
    pause,
  ],
  idempotent,
})

function plan(name: string, apps: string[], steps: unknown[]): string {
  const dir = makePlanDir({
    apps: apps.map((a) => ({name: a, template: 'work'})),
    templates: {work: template('work', steps)},
  })
  // Each test is its own plan in the shared database: the plan id is metadata.name.
  const f = path.join(dir, 'plan.yaml')
  writeFileSync(f, readFileSync(f, 'utf8').replace('name: test\n', `name: ${name}\n`))
  return dir
}

const status = async (dir: string) => {
  const r = await execa('node', [BIN, 'status', '--plan', dir, '--state', db.url, '--verify', '--json'], {
    reject: false,
    env: {MIGRATE_STATE: ''},
  })
  return {exitCode: r.exitCode, result: JSON.parse(r.stdout).result}
}

// Each test starts several CLI processes: on a loaded 2-core machine one start-up alone can take seconds.
describe('shared PostgreSQL state: runners at once', {timeout: 240_000}, () => {
  it('6 runners, one unit each, on one wave: all complete, every side effect once, one journal that verifies', async () => {
    const apps = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']
    const dir = plan('fanout', apps, [effect('s1'), effect('s2', '0.1'), effect('s3'), effect('s4', '0.1')])
    const rs = await Promise.all(apps.map((a) => runner(dir, ['--app', a, '--json'])))
    for (const r of rs) expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0)
    const log = lines(path.join(dir, 'effects.log')).sort()
    expect(log).toEqual(apps.flatMap((a) => ['s1', 's2', 's3', 's4'].map((s) => `${a}-${s}`)).sort())
    const st = await status(dir)
    expect(st.exitCode).toBe(0)
    expect(st.result.verify).toMatchObject({ok: true})
    expect(st.result.waves[0].status).toBe('done')
    // One chain: 6 run-started … run-finished brackets, no journal file beside the plan.
    expect(existsSync(path.join(dir, 'state.journal'))).toBe(false)
    expect(st.result.journal.events).toBeGreaterThanOrEqual(6 * (2 + 2 + 4 * 2))
  })

  it('runners racing for one unit: exactly one runs it, the others name the holder and exit 4', async () => {
    const dir = plan('race', ['solo'], [effect('s1', '0.5'), effect('s2', '0.5')])
    const rs = await Promise.all(Array.from({length: 4}, () => runner(dir, ['--app', 'solo'])))
    expect(lines(path.join(dir, 'effects.log'))).toEqual(['solo-s1', 'solo-s2'])
    const won = rs.filter((r) => r.exitCode === 0)
    const locked = rs.filter((r) => r.exitCode === 4)
    expect(won.length + locked.length).toBe(4)
    expect(locked.length).toBeGreaterThanOrEqual(1)
    for (const r of locked) expect(String(r.stderr)).toMatch(/solo is locked by \S+@\S+ pid \d+ \(execute wave 1/)
    expect((await status(dir)).result.verify.ok).toBe(true)
  })

  it('kill -9 of a runner mid-step: its lock is freed, and the resume applies the usual rules', async () => {
    const dir = plan('kill9', ['k'], [effect('first'), effect('slow', '4'), effect('after')])
    const a = runner(dir, ['--app', 'k'])
    const log = path.join(dir, 'effects.log')
    for (let i = 0; i < 1200 && !lines(log).includes('k-slow'); i++) await new Promise((r) => setTimeout(r, 25))
    a.kill('SIGKILL')
    await a
    // The step's own process outlived the CLI: the resume waits for it, then stops at the interrupted
    // non-idempotent step (exit 6), as with the journal file.
    const b = await runner(dir, ['--app', 'k'], {MIGRATE_WAIT_FOR_STEPS: '20'})
    expect(b.exitCode, String(b.stderr)).toBe(6)
    expect(String(b.stderr) + String(b.stdout)).toMatch(/was running when a previous run stopped/)
    const c = await runner(dir, ['--app', 'k', '--skip-step', 'k/slow'])
    expect(c.exitCode, String(c.stderr)).toBe(0)
    expect(lines(log)).toEqual(['k-first', 'k-slow', 'k-after'])
    expect((await status(dir)).result.verify.ok).toBe(true)
  })

  it('pg_terminate_backend of a runner: it runs no further step, and another runner takes the unit at once', async () => {
    const dir = plan('terminated', ['t'], [effect('one'), effect('long', '20'), effect('never')])
    const a = runner(dir, ['--app', 't'])
    const log = path.join(dir, 'effects.log')
    const started = async () =>
      (
        await db
          .query(
            `SELECT 1 FROM migrate_state.events WHERE plan_id = 'terminated' AND line LIKE '%"type":"step-started"%"step":"long"%'`,
          )
          .catch(() => ({rowCount: 0}))
      ).rowCount === 1
    for (let i = 0; i < 1200 && !(await started()); i++) await new Promise((r) => setTimeout(r, 25))
    // While it runs, status shows who holds the unit, and the step as running (not interrupted).
    const during = await status(dir)
    expect(during.result.holders).toEqual([
      expect.objectContaining({unit: 't', operation: 'execute wave 1', pid: expect.any(Number)}),
    ])
    expect(during.result.waves[0].apps[0].status).toBe('running')
    const text = await execa('node', [BIN, 'status', '--plan', dir, '--state', db.url], {env: {MIGRATE_STATE: ''}})
    expect(text.stdout).toMatch(/Held: t by \S+@\S+ pid \d+ \(execute wave 1, since /)
    const held = await db.query(`SELECT backend_pid FROM migrate_state.unit_locks WHERE plan_id = 'terminated'`)
    expect(held.rowCount).toBe(1)
    await db.query('SELECT pg_terminate_backend($1)', [held.rows[0].backend_pid])
    const ra = await a
    expect(ra.exitCode).toBe(130)
    expect(String(ra.stderr)).toContain('runs no further step')
    // Its running step was stopped (before its effect) and no further step ran.
    expect(lines(log)).toEqual(['t-one'])
    // The lock went with the session: a second runner takes the unit and applies the resume rules (the operator
    // says the interrupted step needs no rerun).
    const b = await runner(dir, ['--app', 't', '--skip-step', 't/long'])
    expect(b.exitCode, String(b.stderr)).toBe(0)
    expect(lines(log)).toEqual(['t-one', 't-never'])
    expect((await status(dir)).result.verify.ok).toBe(true)
  })
})
