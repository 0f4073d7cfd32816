// The PostgreSQL state backend behind a connection pooler (a real PgBouncer in front of the machine's PostgreSQL).
// Unit locks are session advisory locks, so they hold only when each runner has a server session of its own:
// PgBouncer in session mode with DISCARD ALL works as a direct connection does; transaction pooling, or a session
// handed on without a reset, is refused (STATE_POOLED) before two runners could both take one unit.
import {execa} from 'execa'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import {afterEach, describe, expect, it} from 'vitest'
import {type PgBouncerHandle, startPgBouncer} from '../../src/db/lab/servers.js'
import {currentActor} from '../../src/state/chain.js'
import {PgJournal} from '../../src/state/pg/journal.js'
import {meetAtBarrier} from '../../src/state/pg/barriers.js'
import {lockUnits, unitHolders} from '../../src/state/pg/locks.js'
import {PgSession} from '../../src/state/pg/session.js'
import {lines, makePlanDir, template} from '../executor/helpers.js'
import {onFreePort} from '../helpers/ports.js'
import {useTestDb} from './pg-db.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const db = useTestDb('pooler')

const bouncers: PgBouncerHandle[] = []
const sessions: PgSession[] = []
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()))
  await Promise.all(bouncers.splice(0).map((b) => b.stop()))
})

type Pool = {poolMode: 'transaction' | 'session'; poolSize: number; serverResetQuery?: string}

/** A PgBouncer in front of this file's database; returns the state URL through it. */
async function pooler(p: Pool): Promise<string> {
  const b = await onFreePort((port) =>
    startPgBouncer({port, ...p, databases: {state: {host: '127.0.0.1', port: 5432, dbname: db.name}}}),
  )
  bouncers.push(b)
  return `postgres://postgres@127.0.0.1:${b.port}/state`
}

const connect = async (url: string): Promise<PgSession> => {
  const s = await PgSession.connect({kind: 'postgres', url, shown: url})
  sessions.push(s)
  return s
}

/** A runner in a process of its own: `body` runs with its session `s` (and lockUnits) through the state URL. */
const child = (url: string, body: string) =>
  execa(
    'node',
    [
      '--input-type=module',
      '-e',
      `const {PgSession} = await import(${JSON.stringify(path.join(ROOT, 'dist/src/state/pg/session.js'))})
       const {lockUnits} = await import(${JSON.stringify(path.join(ROOT, 'dist/src/state/pg/locks.js'))})
       const s = await PgSession.connect({kind: 'postgres', url: process.argv[1], shown: 'x'})
       ${body}`,
      url,
    ],
    {reject: false},
  )

/** Resolves with the line a child prints once it holds what it was to take. */
const held = (p: ReturnType<typeof child>) =>
  new Promise<string>((resolve, reject) => {
    p.stdout?.on('data', (d) => {
      const line = String(d)
        .split('\n')
        .find((l) => l.startsWith('HELD'))
      if (line) resolve(line)
    })
    p.then((r) => reject(new Error(`the runner ended: ${r.stderr}`)), reject)
  })

const lock = (s: PgSession, plan: string, unit: string) => lockUnits(s, plan, [unit], 'execute', currentActor())

const events = async (plan: string): Promise<number> =>
  Number((await db.query('SELECT count(*) AS n FROM migrate_state.events WHERE plan_id = $1', [plan])).rows[0].n)

describe('state backend behind a pooler', {timeout: 120_000}, () => {
  it('transaction pooling on one server connection: a runner arriving on a session that holds locks is refused', async () => {
    const url = await pooler({poolMode: 'transaction', poolSize: 1})
    const a = await connect(url)
    await lock(a, 'tx1', 'app-1')
    const b = PgSession.connect({kind: 'postgres', url, shown: url})
    await expect(b).rejects.toMatchObject({code: 'STATE_POOLED', exitCode: 73})
    await expect(b).rejects.toThrow(/already holds \d+ advisory lock/)
  })

  it('transaction pooling, a second runner before any unit lock: refused at connect, and the first at its next statement', async () => {
    const url = await pooler({poolMode: 'transaction', poolSize: 1})
    const a = await connect(url)
    // The same server session: it holds a's presence lock, and b's settings now stand on it.
    await expect(PgSession.connect({kind: 'postgres', url, shown: url})).rejects.toMatchObject({code: 'STATE_POOLED'})
    await expect(lock(a, 'tx2', 'app-1')).rejects.toMatchObject({code: 'STATE_POOLED'})
    expect(a.lost?.code).toBe('STATE_POOLED')
    const j = new PgJournal(a, 'tx2', url, 'run-a', (x) => x, currentActor())
    await expect(j.append({type: 'run-started', wave: 1, mode: 'execute'})).rejects.toMatchObject({
      code: 'STATE_POOLED',
    })
    expect(await events('tx2')).toBe(0)
  })

  it('transaction pooling: a statement moved to another server session stops the runner, nothing appended', async () => {
    const url = await pooler({poolMode: 'transaction', poolSize: 2})
    const a = await connect(url)
    const j = new PgJournal(a, 'tx3', url, 'run-a', (x) => x, currentActor())
    await j.append({type: 'run-started', wave: 1, mode: 'execute'})
    // Another client takes a's (idle) server connection and keeps it in a transaction: a's next statement gets a
    // second server connection.
    const other = new pg.Client({connectionString: url})
    await other.connect()
    await other.query('BEGIN')
    await other.query('SELECT 1')
    try {
      await expect(j.append({type: 'app-started', wave: 1, app: 'x'})).rejects.toMatchObject({code: 'STATE_POOLED'})
      await expect(lock(a, 'tx3', 'x')).rejects.toMatchObject({code: 'STATE_POOLED'})
    } finally {
      await other.query('ROLLBACK')
      await other.end()
    }
    expect(await events('tx3')).toBe(1)
  })

  it('session pooling without a reset query: the next client inherits a crashed runner’s locks, and is refused', async () => {
    const url = await pooler({poolMode: 'session', poolSize: 1, serverResetQuery: ''})
    const a = await connect(url)
    await lock(a, 'ss1', 'app-1')
    await a.close() // as a crash would: nothing unlocked, the server session goes back to the pool as it is
    await expect(PgSession.connect({kind: 'postgres', url, shown: url})).rejects.toMatchObject({
      code: 'STATE_POOLED',
    })
  })

  it('session pooling with DISCARD ALL: runners are kept apart as over a direct connection, and kill -9 frees a unit', async () => {
    const url = await pooler({poolMode: 'session', poolSize: 4})
    // A runner in a process of its own: takes app-1's lock, says so, and waits to be killed.
    const holder = child(
      url,
      `await lockUnits(s, 'ss2', ['app-1'], 'execute', {user: 'u', host: 'h', pid: process.pid})
       console.log('HELD'); setInterval(() => {}, 1000)`,
    )
    await held(holder)
    const b = await connect(url)
    await expect(lock(b, 'ss2', 'app-1')).rejects.toMatchObject({code: 'LOCKED', data: {lock: {host: 'h'}}})
    await lock(b, 'ss2', 'app-2')
    holder.kill('SIGKILL')
    await holder
    // PgBouncer resets the dead client's server session (DISCARD ALL releases advisory locks).
    let got = false
    for (let i = 0; i < 50 && !got; i++) {
      got = await lock(b, 'ss2', 'app-1').then(
        () => true,
        (e) => {
          if (e.code !== 'LOCKED') throw e
          return new Promise<boolean>((r) => setTimeout(() => r(false), 200))
        },
      )
    }
    expect(got).toBe(true)
    expect(b.lost).toBeUndefined()
  })

  it('session pooling: a dead runner’s records are not taken for live when its server process serves another', async () => {
    const url = await pooler({poolMode: 'session', poolSize: 2})
    const b = await connect(url)
    const meeting = (units: string[], timeoutMs: number) => ({
      wave: 1,
      group: 'orders',
      barrier: 'cutover' as const,
      units,
      all: ['orders:o1', 'orders:o2'],
      runId: 'r',
      timeoutMs,
      signal: new AbortController().signal,
    })
    // A runner (a process of its own) holds orders:o1 and has arrived at the cutover barrier; it is killed while idle.
    const a = child(
      url,
      `const {markBarrier} = await import(${JSON.stringify(path.join(ROOT, 'dist/src/state/pg/barriers.js'))})
       await lockUnits(s, 'ss3', ['orders:o1'], 'execute', {user: 'u', host: 'h', pid: process.pid})
       await markBarrier(s, 'ss3', ${JSON.stringify(meeting(['orders:o1'], 0))}, ['orders:o1'], 'arrived')
       console.log('HELD ' + s.backendPid)
       setInterval(() => {}, 1000)`,
    )
    const pid = Number((await held(a)).split(' ')[1])
    a.kill('SIGKILL')
    await a
    // The next client gets that server process (reset), and holds an advisory lock of its own there.
    let c: PgSession | undefined
    for (let i = 0; i < 50 && !c; i++) {
      const s = await PgSession.connect({kind: 'postgres', url, shown: url})
      if (s.backendPid === pid) c = s
      else {
        await s.close()
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    expect(c, 'the killed runner’s server process was handed to the next client').toBeDefined()
    sessions.push(c!)
    await lock(c!, 'ss3', 'orders:o9')
    expect((await unitHolders(b, 'ss3')).map((h) => h.unit)).toEqual(['orders:o9'])
    const out = await meetAtBarrier(b, 'ss3', meeting(['orders:o2'], 1500))
    expect(out).toMatchObject({open: false, failed: false})
    expect(out.open ? '' : out.why).toMatch(/orders:o1 did not reach it/)
  })

  it('session pooling without a reset: a dead runner’s barrier arrival, its session kept by the pooler, lapses', async () => {
    const url = await pooler({poolMode: 'session', poolSize: 3, serverResetQuery: ''})
    const b = await connect(url)
    const a = child(
      url,
      `const {markBarrier} = await import(${JSON.stringify(path.join(ROOT, 'dist/src/state/pg/barriers.js'))})
       await markBarrier(s, 'ss4', ${JSON.stringify({wave: 1, group: 'orders', barrier: 'cutover', runId: 'r'})}, ['orders:o1'], 'arrived')
       console.log('HELD'); setInterval(() => {}, 1000)`,
    )
    await held(a)
    a.kill('SIGKILL')
    await a
    // Its server session lives on in the pool with its presence lock: only the arrival's age tells it is gone.
    process.env.MIGRATE_BARRIER_FRESH_S = '1'
    try {
      await new Promise((r) => setTimeout(r, 1500))
      const out = await meetAtBarrier(b, 'ss4', {
        wave: 1,
        group: 'orders',
        barrier: 'cutover',
        units: ['orders:o2'],
        all: ['orders:o1', 'orders:o2'],
        runId: 'r',
        timeoutMs: 1500,
        signal: new AbortController().signal,
      })
      expect(out).toMatchObject({open: false, failed: false})
    } finally {
      delete process.env.MIGRATE_BARRIER_FRESH_S
    }
  })

  it('the CLI: runners through a transaction pooler stop with STATE_POOLED, the running step too; no step runs twice', async () => {
    const url = await pooler({poolMode: 'transaction', poolSize: 1})
    const apps = ['a1', 'a2']
    const dir = makePlanDir({
      apps: apps.map((name) => ({name, template: 'work'})),
      templates: {
        work: template('work', [
          {
            id: 's1',
            run: ['sh', '-c', 'echo "$1" >> "$2"; sleep 60', 'step', '{{ app.name }}-s1', '{{ plan.dir }}/effects.log'],
          },
          {id: 's2', run: ['sh', '-c', 'echo "$1" >> "$2"', 'step', '{{ app.name }}-s2', '{{ plan.dir }}/effects.log']},
        ]),
      },
    })
    const f = path.join(dir, 'plan.yaml')
    writeFileSync(f, readFileSync(f, 'utf8').replace('name: test\n', 'name: cli-pooled\n'))
    // A short heartbeat: the first runner notices the second on its session while its step runs, not at the step's end.
    const run = (app: string) =>
      execa(
        'node',
        [
          path.join(ROOT, 'bin/run.js'),
          'execute',
          'wave',
          '1',
          '--plan',
          dir,
          '--state',
          url,
          '--yes',
          '--app',
          app,
          '--json',
        ],
        {
          reject: false,
          env: {NO_COLOR: '1', MIGRATE_STATE: '', MIGRATE_STATE_HEARTBEAT_MS: '300'},
        },
      )
    const first = run('a1')
    // Once a1's first step runs, a second runner arrives on the same server session.
    const log = path.join(dir, 'effects.log')
    for (let i = 0; i < 300 && !lines(log).includes('a1-s1'); i++) await new Promise((r) => setTimeout(r, 50))
    const second = await run('a2')
    const one = await first
    expect(second.exitCode, second.stderr).toBe(73)
    expect(JSON.parse(second.stdout).error.code).toBe('STATE_POOLED')
    // The first stops (its session now carries the other's settings): its heartbeat sees it, and stops the running step
    // as Ctrl-C would, long before the step's 60 s; a1's second step never runs.
    expect(one.exitCode, one.stderr).not.toBe(0)
    expect(one.durationMs).toBeLessThan(50_000)
    expect(`${one.stdout}${one.stderr}`).toMatch(/STATE_POOLED|does not give this runner a server session/)
    expect(lines(log)).toEqual(['a1-s1'])
  })
})
