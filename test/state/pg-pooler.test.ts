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
import {lockUnits} from '../../src/state/pg/locks.js'
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
    await expect(b).rejects.toThrow(/already holds 1 advisory lock/)
  })

  it('transaction pooling, both connected before any lock: nobody is granted a lock another holds, the sharer stops', async () => {
    const url = await pooler({poolMode: 'transaction', poolSize: 1})
    const a = await connect(url)
    const b = await connect(url) // the same server session: b's settings now stand on it
    // a's statements now run on a session that says b: refused, and a is lost for good.
    await expect(lock(a, 'tx2', 'app-1')).rejects.toMatchObject({code: 'STATE_POOLED'})
    expect(a.lost?.code).toBe('STATE_POOLED')
    await lock(b, 'tx2', 'app-1')
    // A third runner arrives on the session holding b's lock: refused at connect, before it could re-enter it.
    await expect(PgSession.connect({kind: 'postgres', url, shown: url})).rejects.toMatchObject({code: 'STATE_POOLED'})
    // ... and its settings now stand there, so b stops at its next append, with nothing appended.
    const j = new PgJournal(b, 'tx2', url, 'run-b', (x) => x, currentActor())
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
    const holder = execa(
      'node',
      [
        '--input-type=module',
        '-e',
        `const {PgSession} = await import(${JSON.stringify(path.join(ROOT, 'dist/src/state/pg/session.js'))})
         const {lockUnits} = await import(${JSON.stringify(path.join(ROOT, 'dist/src/state/pg/locks.js'))})
         const s = await PgSession.connect({kind: 'postgres', url: process.argv[1], shown: 'x'})
         await lockUnits(s, 'ss2', ['app-1'], 'execute', {user: 'u', host: 'h', pid: process.pid})
         console.log('HELD'); setInterval(() => {}, 1000)`,
        url,
      ],
      {reject: false},
    )
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.on('data', (d) => String(d).includes('HELD') && resolve())
      holder.catch(reject)
      holder.then((r) => reject(new Error(`the holder ended: ${r.stderr}`)))
    })
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

  it('the CLI: a runner through a transaction pooler stops with STATE_POOLED (exit 73) and runs no step twice', async () => {
    const url = await pooler({poolMode: 'transaction', poolSize: 1})
    const apps = ['a1', 'a2']
    const dir = makePlanDir({
      apps: apps.map((name) => ({name, template: 'work'})),
      templates: {
        work: template('work', [
          {
            id: 's1',
            run: ['sh', '-c', 'echo "$1" >> "$2"; sleep 2', 'step', '{{ app.name }}-s1', '{{ plan.dir }}/effects.log'],
          },
          {id: 's2', run: ['sh', '-c', 'echo "$1" >> "$2"', 'step', '{{ app.name }}-s2', '{{ plan.dir }}/effects.log']},
        ]),
      },
    })
    const f = path.join(dir, 'plan.yaml')
    writeFileSync(f, readFileSync(f, 'utf8').replace('name: test\n', 'name: cli-pooled\n'))
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
          env: {NO_COLOR: '1', MIGRATE_STATE: ''},
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
    // The first stops at its next append (its session now carries the other's settings): a1's second step never runs.
    expect(one.exitCode, one.stderr).not.toBe(0)
    expect(`${one.stdout}${one.stderr}`).toMatch(/STATE_POOLED|does not give this runner a server session/)
    expect(lines(log)).toEqual(['a1-s1'])
  })
})
