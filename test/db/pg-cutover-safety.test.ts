// PostgreSQL cutover safety on real servers behind PgBouncer, replication set up by the shipped template (the wave
// runs to its cutover gate), a writer running: DDL that stops the apply worker is seen by the lag check and refused
// before any pause; a long transaction is refused before the pause, and one that starts just before it makes PAUSE
// give up within --pause-wait, naming the session; a block lifted during the window, or a window out of budget, is
// caught before the commit point and undone; SIGTERM undoes; checksums run before the pause, not inside it.
// Ports: reserved at run time (onLabPorts).
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {execa} from 'execa'
import {mkdtempSync, readFileSync} from 'node:fs'
import {parse} from 'yaml'
import {tmpdir} from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {setupPostgres, type Scenario} from '../../src/db/lab/scenarios.js'
import {psql} from '../../src/db/lab/servers.js'
import {lostWrites, startPgLoad} from '../../src/db/lab/load.js'
import {pgCutover, type PgCutoverOptions} from '../../src/db/cutover.js'
import {runReplicationLagCheck} from '../../src/health/database.js'
import {migrate, ROOT, onLabPorts, pgQuery as q} from './helpers.js'

let s: Scenario
let opts: PgCutoverOptions
const src = () => s.servers[0]
const dst = () => s.servers[1]

const paused = async () => (await q(s.params.pgbouncer_admin, 'SHOW DATABASES')).find((d) => d.name === 'app')?.paused
const canLogin = async () =>
  (await q(s.sourceUrl, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app'"))[0].rolcanlogin
const subscribed = async () =>
  (await q(s.targetUrl, "SELECT count(*)::int AS n FROM pg_subscription WHERE subname = 'mig_sub'"))[0].n === 1
const lagCheck = () =>
  runReplicationLagCheck(
    {
      type: 'replication-lag',
      engine: 'postgres',
      source: s.sourceUrl,
      target: s.targetUrl,
      slot: 'mig_sub',
      maxLag: 1048576,
    },
    new AbortController().signal,
  )

const applyWorker = async (): Promise<number> =>
  (await q(s.targetUrl, "SELECT pid FROM pg_stat_subscription WHERE subname = 'mig_sub' AND relid IS NULL"))[0].pid

async function untilApplying(): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if ((await lagCheck()).status === 'passed') return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`replication did not apply again: ${(await lagCheck()).message}`)
}

/** A session through PgBouncer as the application, in an open transaction that wrote a row. */
async function openTransaction(app: string): Promise<pg.Client> {
  const c = new pg.Client({connectionString: s.clientUrl, application_name: app})
  c.on('error', () => {})
  await c.connect()
  await c.query('BEGIN')
  await c.query('INSERT INTO orders (customer, amount, note) VALUES (1, 1, $1)', [app])
  return c
}

async function underLoad<T>(fn: () => Promise<T>) {
  const load = startPgLoad({url: s.clientUrl, workers: 2, intervalMs: 5})
  await new Promise((r) => setTimeout(r, 300))
  const t0 = Date.now()
  const result = await fn().then(
    (v) => ({ok: v, err: undefined}),
    (e) => ({ok: undefined, err: e}),
  )
  const ms = Date.now() - t0
  await new Promise((r) => setTimeout(r, 300))
  const stats = await load.stop()
  return {...result, ms, stats, lost: await lostWrites('postgres', s.clientUrl, stats.acks)}
}

beforeAll(async () => {
  s = await onLabPorts((ports) => setupPostgres(ports, {seedRows: 100_000}))
  const db = s.servers[0].port
  // The template runs to its gate: schema copied, publication, subscription, initial copy, lag, cutover-check.
  const r = await migrate(s, ['execute', 'wave', '1', '--plan', s.planDir])
  expect(r.exitCode, r.stdout + r.stderr).toBe(6)
  expect(r.stdout + r.stderr).toMatch(/Clients pause: about \d+\.\d s, at most 5\.0 s/)
  const state = mkdtempSync(path.join(tmpdir(), 'migrate-pgsafety-'))
  opts = {
    source: s.sourceUrl,
    target: s.targetUrl,
    publication: 'mig_pub',
    subscription: 'mig_sub',
    sourceConninfo: s.params.source_conninfo,
    reversePublication: 'mig_back_pub',
    reverseSubscription: 'mig_back',
    targetConninfo: s.params.target_conninfo,
    roles: ['app'],
    sourceState: path.join(state, 'source-block.json'),
    targetState: path.join(state, 'target-block.json'),
    pgbouncer: {
      admin: s.params.pgbouncer_admin,
      config: s.params.pgbouncer_config,
      database: 'app',
      source: {host: '127.0.0.1', port: db, dbname: 'app'},
      target: {host: '127.0.0.1', port: db + 1, dbname: 'app'},
    },
    verify: 'checksums',
    timeoutMs: 60_000,
  }
}, 180_000)
afterAll(async () => {
  await s?.stop()
})

describe.sequential('postgres cutover safety', () => {
  test('DDL on the source stops the apply worker: the lag check fails, the cutover is refused before any pause', {
    timeout: 90_000,
  }, async () => {
    await psql(
      src(),
      'app',
      "ALTER TABLE orders ADD COLUMN extra int; INSERT INTO orders (customer, amount, note, extra) VALUES (1, 1, 'ddl', 7)",
    )
    await new Promise((r) => setTimeout(r, 500))
    const lag = await lagCheck()
    expect(lag).toMatchObject({
      status: 'failed',
      message: expect.stringContaining('public.orders.extra (integer) exists on the source but not on the target'),
    })
    const lines: string[] = []
    const {err, ms, stats, lost} = await underLoad(() => pgCutover(opts, (l) => lines.push(l)))
    expect(err).toMatchObject({
      code: 'CUTOVER_REFUSED',
      message: expect.stringContaining('orders.extra'),
      data: {refusedBeforePause: true},
    })
    expect(lines.some((l) => l.includes('pause-clients'))).toBe(false)
    expect(ms).toBeLessThan(10_000)
    expect(stats.failed).toBe(0)
    expect(stats.maxGapMs).toBeLessThan(1000)
    expect(lost).toEqual([])
    // Repeated on the target, replication applies again (the worker restarts) and the check passes.
    await psql(dst(), 'app', 'ALTER TABLE orders ADD COLUMN extra int')
    await untilApplying()
  })

  test('a long application transaction through PgBouncer: refused before the pause, naming the session', {
    timeout: 60_000,
  }, async () => {
    const long = await openTransaction('nightly-report')
    await new Promise((r) => setTimeout(r, 2500))
    const err = await pgCutover(opts, () => {}).catch((e) => e)
    expect(err).toMatchObject({
      code: 'CUTOVER_REFUSED',
      message: expect.stringMatching(/pid \d+ user app application nightly-report .* transaction open \d/),
      data: {refusedBeforePause: true},
    })
    expect(await paused()).toBe(0)
    await long.query('COMMIT')
    await long.end()
  })

  test('a transaction that opens just before the pause: PAUSE gives up within --pause-wait, resumes, names it; nothing changed', {
    timeout: 60_000,
  }, async () => {
    let late: pg.Client | undefined
    const before = async (step: string) => {
      if (step === 'pause-clients') late = await openTransaction('late-batch')
    }
    const t0 = Date.now()
    const err = await pgCutover({...opts, before}, () => {}).catch((e) => e)
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(err).toMatchObject({
      code: 'PGBOUNCER_PAUSE_TIMEOUT',
      message: expect.stringMatching(/within 2000 ms and was resumed; nothing changed.*application late-batch/),
      data: {refusedBeforePause: true},
    })
    expect(await paused()).toBe(0)
    expect(await canLogin()).toBe(true)
    expect(await subscribed()).toBe(true)
    // The late transaction commits afterwards and is replicated as any other write.
    await late!.query('COMMIT')
    await late!.end()
    await untilApplying()
  })

  test('a write block lifted during the window (PgBouncer resumed) is caught before the commit point and undone', {
    timeout: 60_000,
  }, async () => {
    const before = async (step: string) => {
      if (step === 'stop-forward-replication') await q(s.params.pgbouncer_admin, 'RESUME app')
    }
    const lines: string[] = []
    const err = await pgCutover({...opts, before}, (l) => lines.push(l)).catch((e) => e)
    expect(err).toMatchObject({code: 'WRITE_BLOCK_LAPSED', message: expect.stringContaining('no longer paused')})
    expect(lines).toEqual(expect.arrayContaining(['undo block-source-writes', 'undo pause-clients']))
    expect(await canLogin()).toBe(true)
    expect(await subscribed()).toBe(true)
    await untilApplying()
  })

  test('a window that would outlast its bound stops before the commit point: clients waited at most the bound', {
    timeout: 60_000,
  }, async () => {
    const limits = {maxWindowMs: 3000, pauseWaitMs: 1000, marginMs: 1000}
    const before = async (step: string) => {
      if (step === 'sync-sequences') await new Promise((r) => setTimeout(r, 2500))
    }
    const {err, stats, lost} = await underLoad(() => pgCutover({...opts, limits, before}, () => {}))
    expect(err).toMatchObject({
      code: 'WRITE_BLOCK_LAPSED',
      message: expect.stringContaining("the window's budget is spent"),
    })
    expect(stats.maxGapMs).toBeLessThan(limits.maxWindowMs + 1000)
    expect(stats.failed).toBe(0)
    expect(lost).toEqual([])
    expect(await subscribed()).toBe(true)
    await untilApplying()
  })

  test('an apply worker that stops after the LSN wait: DROP SUBSCRIPTION gives up within the window, clients resume on the source, nothing lost', {
    timeout: 60_000,
  }, async () => {
    // Stopped right before the commit sub-step: the target already confirmed everything, but DROP SUBSCRIPTION waits
    // for this worker to exit. Unbounded, it held every client until the worker came back (here: never).
    const worker = await applyWorker()
    const before = async (step: string) => {
      if (step === 'stop-forward-replication') process.kill(worker, 'SIGSTOP')
    }
    const lines: string[] = []
    try {
      const {err, ms, stats, lost} = await underLoad(() => pgCutover({...opts, before}, (l) => lines.push(l)))
      console.log(
        `measured: PostgreSQL commit sub-step hanging: client-seen gap ${stats.maxGapMs} ms, failed after ${ms} ms`,
      )
      expect(err, lines.join('\n')).toMatchObject({
        code: 'PG_DROP_TIMEOUT',
        message: expect.stringMatching(
          new RegExp(
            `DROP SUBSCRIPTION mig_sub .* did not finish within \\d+ ms and was rolled back.*apply worker ${worker}`,
          ),
        ),
      })
      expect(lines).toEqual(expect.arrayContaining(['undo block-source-writes', 'undo pause-clients']))
      expect(stats.maxGapMs, lines.join('\n')).toBeLessThan(5000 + 1000)
      expect(stats.failed).toBe(0)
      expect(lost).toEqual([])
      expect(await paused()).toBe(0)
      expect(await canLogin()).toBe(true)
      expect(await subscribed()).toBe(true)
    } finally {
      process.kill(worker, 'SIGCONT')
    }
    await untilApplying()
  })

  // The apply worker stops once the pre-checks passed and SIGTERM comes once the block is in place: the cutover may
  // then be waiting for the LSN or (on a faster Node, the worker having confirmed everything first) for DROP
  // SUBSCRIPTION, which waits for that stopped worker. Either wait is given up at once, and the done steps undone.
  test('SIGTERM during the window (as the executor sends on Ctrl-C): the pause and the write block are undone', {
    timeout: 60_000,
  }, async () => {
    const args = [
      'db',
      'pg-cutover',
      '--source',
      opts.source,
      '--target',
      opts.target,
      '--role',
      'app',
      '--state-dir',
      mkdtempSync(path.join(tmpdir(), 'migrate-int-')),
      '--source-conninfo',
      opts.sourceConninfo,
      '--target-conninfo',
      opts.targetConninfo,
      '--pgbouncer-admin',
      opts.pgbouncer.admin,
      '--pgbouncer-config',
      opts.pgbouncer.config,
      '--pgbouncer-database',
      'app',
      '--pgbouncer-source',
      s.params.pgbouncer_source,
      '--pgbouncer-target',
      s.params.pgbouncer_target,
      '--max-window',
      '20s',
    ]
    // The subscriber's apply worker, found before the run so that stopping it below is immediate.
    const stopAtOnce = await applyWorker()
    const child = execa('node', [path.join(ROOT, 'bin/run.js'), ...args], {
      reject: false,
      all: true,
      forceKillAfterDelay: 30_000,
    })
    let out = ''
    let worker: number | undefined
    child.all!.on('data', (d) => {
      out += d
      // Once the pre-checks passed, the subscriber's apply worker stops: the wait inside the window hangs.
      if (worker === undefined && out.includes('ok   pre-check-lag')) {
        worker = stopAtOnce
        process.kill(worker, 'SIGSTOP')
      }
    })
    for (let i = 0; i < 400 && !out.includes('ok   block-source-writes'); i++)
      await new Promise((r) => setTimeout(r, 50))
    expect(out).toContain('ok   block-source-writes')
    child.kill('SIGTERM')
    const r = await child
    if (worker) process.kill(worker, 'SIGCONT')
    expect(r.exitCode, `${r.signal}\n${r.all}`).toBe(1)
    expect(r.all).toContain('undo block-source-writes')
    expect(r.all).toContain('undo pause-clients')
    expect(await paused()).toBe(0)
    expect(await canLogin()).toBe(true)
    await untilApplying()
  })

  test('checksums run before the pause; inside it only the changing table is re-checked; cut over with nothing lost', {
    timeout: 120_000,
  }, async () => {
    const lines: string[] = []
    const {ok, stats, lost} = await underLoad(() => pgCutover(opts, (l) => lines.push(l)))
    expect(ok, lines.join('\n')).toBeDefined()
    // Every table, the 100,000-row orders among them, was compared with checksums before the pause; inside it at
    // most the table the writer was changing at that moment is re-checked, never orders.
    expect(lines.find((l) => l.startsWith('ok   verify-before-pause'))).toMatch(
      /: \d table\(s\) equal \(checksums, \d+ ms, outside the pause\); (none changing|public\.writes still changing)/,
    )
    expect(['', 'public.writes']).toContain((ok!.verify?.tables ?? []).map((t) => t.table).join(','))
    expect(ok!.estimateMs).toBeGreaterThan(0)
    expect(ok!.windowMs).toBeLessThan(5000)
    expect(stats.failed).toBe(0)
    expect(stats.maxGapMs).toBeLessThan(5000 + 1000)
    expect(lost).toEqual([])
    expect((await q(s.clientUrl, 'SELECT inet_server_port() AS p'))[0].p).toBe(dst().port)
  })
  test("a refused wave's rollback with an apply worker stopped: the subscription step's rollback finishes and reports what it left", {
    timeout: 60_000,
  }, async () => {
    // After the cutover above the source subscribes to the target (mig_back); its apply worker stops. The shipped
    // template's rollback of the subscription step, run on that path: unbounded, DROP SUBSCRIPTION waited for the
    // worker without end (the bench's stalled replica held the wave's rollback until the stall ended).
    const worker: number = (
      await q(s.sourceUrl, "SELECT pid FROM pg_stat_subscription WHERE subname = 'mig_back' AND relid IS NULL")
    )[0].pid
    const tpl = parse(readFileSync(path.join(ROOT, 'templates/postgres-logical-replication.yaml'), 'utf8'))
    const params: Record<string, string> = {
      ...s.params,
      target_url: s.sourceUrl,
      source_url: s.targetUrl,
      subscription: 'mig_back',
    }
    const argv = (tpl.steps.find((x: {id: string}) => x.id === 'subscription').rollback as string[]).map((a) =>
      a.replace(/\{\{ params\.(\w+)(?: \| sql_ident)? \}\}/g, (_, k) => params[k]),
    )
    const run = () =>
      execa(argv[0], argv.slice(1), {reject: false, all: true, env: {...s.env, MIGRATE_DEBUG: '1'}, timeout: 30_000})
    process.kill(worker, 'SIGSTOP')
    try {
      const t0 = Date.now()
      const r = await run()
      expect(Date.now() - t0).toBeLessThan(20_000)
      expect(r.exitCode, r.all).toBe(0)
      expect(r.all).toMatch(
        /did not finish within \d+ ms.*apply worker .*left disabled and without slot.*DROP SUBSCRIPTION mig_back/,
      )
      expect(r.all).toContain('slot mig_back dropped')
      expect(await q(s.targetUrl, "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'mig_back'")).toEqual([])
    } finally {
      process.kill(worker, 'SIGCONT')
    }
    // The worker, back, sees its subscription disabled and exits; the same rollback then drops it.
    for (let i = 0; i < 50; i++) {
      const r = await run()
      if (/subscription mig_back dropped/.test(r.all)) break
      await new Promise((res) => setTimeout(res, 200))
    }
    expect(await q(s.sourceUrl, "SELECT 1 FROM pg_subscription WHERE subname = 'mig_back'")).toEqual([])
  })
})
