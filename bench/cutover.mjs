// npm run bench:cutover [engine…] [--scenario NAME…] — per engine and scenario, a real source under continuous
// writes through its proxy (PgBouncer for PostgreSQL, HAProxy for MariaDB and Redis) is migrated with the shipped
// template: `migrate execute wave 1` runs to the cutover gate (its message states the window estimate and bound),
// the scenario's condition is set up, then the wave is approved and the cutover runs (or is refused).
// Scenarios: baseline; long-transaction (an application transaction / write statement / Lua script holds the
// source when the cutover starts); replica-stalled (the subscriber's apply worker / the replica process is
// stopped with SIGSTOP); commit-stalled (PostgreSQL: the apply worker stops inside the window once the target
// confirmed everything, so that DROP SUBSCRIPTION waits for it); ddl (a column added on the source only; MariaDB replicates DDL, Redis has none); large
// (2M rows / 1M keys, verify: checksums).
// Printed per row: client-seen gap (longest time between two acknowledged writes, ms), failed client operations,
// lost acknowledged writes (missing where clients connect afterwards), whether the cutover was refused before any
// client was paused, the gate's stated bound, and the outcome. Goals: 0 lost everywhere; gap ≤ bound + 1 s;
// long-transaction, replica-stalled and PostgreSQL ddl refused before the pause.
import {execa} from 'execa'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import pg from 'pg'
import mysql from 'mysql2/promise'
import {Redis} from 'ioredis'
import {setupMariadb, setupPostgres, setupRedis} from '../dist/src/db/lab/scenarios.js'
import {onFreePorts} from '../dist/src/db/lab/ports.js'
import {setupRdsMariadb, setupRdsPostgres} from '../dist/src/db/lab/managed.js'
import {lostWrites, startMariadbLoad, startPgLoad, startRedisLoad} from '../dist/src/db/lab/load.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)
const si = argv.indexOf('--scenario')
const onlyScenarios = si >= 0 ? argv.slice(si + 1) : []
const onlyEngines = (si >= 0 ? argv.slice(0, si) : argv).filter((a) => !a.startsWith('-'))
const LARGE = {
  postgres: Number(process.env.BENCH_LARGE_PG_ROWS ?? 2_000_000),
  mariadb: Number(process.env.BENCH_LARGE_MARIADB_ROWS ?? 1_000_000),
  redis: Number(process.env.BENCH_LARGE_REDIS_KEYS ?? 1_000_000),
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
/** An undo that runs once, and does not mind a process that is gone meanwhile. */
const once = (fn) => {
  let done = false
  return async () => {
    if (done) return
    done = true
    try {
      fn()
    } catch {}
  }
}
const pidOf = (s, i) => Number(readFileSync(path.join(s.servers[i].dir, 'pid'), 'utf8').split('\n')[0])

async function pgq(url, sql) {
  const c = new pg.Client({connectionString: url})
  await c.connect()
  try {
    return (await c.query(sql)).rows
  } finally {
    await c.end()
  }
}
async function myq(url, sql) {
  const c = await mysql.createConnection({uri: url})
  try {
    return (await c.query(sql))[0]
  } finally {
    await c.end()
  }
}

/** Each scenario: expect 'refuse' (refused before any pause) or 'cutover'; arrange() returns its undo. */
const SCENARIOS = {
  postgres: {
    baseline: {expect: 'cutover', arrange: async () => async () => {}},
    'long-transaction': {
      expect: 'refuse',
      arrange: async (s) => {
        const c = new pg.Client({connectionString: s.clientUrl, application_name: 'bench-long-transaction'})
        await c.connect()
        await c.query('BEGIN')
        await c.query("INSERT INTO orders (customer, amount, note) VALUES (1, 1, 'long')")
        await sleep(2500)
        return async () => {
          await c.query('COMMIT')
          await c.end()
        }
      },
    },
    'replica-stalled': {
      expect: 'refuse',
      releaseAfterMs: 12_000,
      arrange: async (s) => {
        const pid = (
          await pgq(s.targetUrl, "SELECT pid FROM pg_stat_subscription WHERE subname = 'mig_sub' AND relid IS NULL")
        )[0].pid
        process.kill(pid, 'SIGSTOP')
        return once(() => process.kill(pid, 'SIGCONT'))
      },
    },
    // The apply worker stops once the target has confirmed everything inside the window: the commit sub-step's DROP
    // SUBSCRIPTION then waits for it. Expected: given up within the window, undone, clients back on the source.
    'commit-stalled': {
      expect: 'undo',
      releaseAfterMs: 12_000,
      arrange: async (s) => {
        const pid = (
          await pgq(s.targetUrl, "SELECT pid FROM pg_stat_subscription WHERE subname = 'mig_sub' AND relid IS NULL")
        )[0].pid
        const c = new pg.Client({connectionString: s.sourceUrl})
        await c.connect()
        let stopped = false
        const watch = (async () => {
          for (let i = 0; i < 20_000 && !stopped; i++) {
            const r = (
              await c.query(`SELECT NOT rolcanlogin AS blocked,
                  (SELECT confirmed_flush_lsn >= pg_current_wal_lsn() FROM pg_replication_slots WHERE slot_name = 'mig_sub') AS caught_up
                 FROM pg_roles WHERE rolname = 'app'`)
            ).rows[0]
            if (r.blocked && r.caught_up) {
              process.kill(pid, 'SIGSTOP')
              stopped = true
            }
          }
        })()
        return once(() => {
          stopped = true
          void watch.finally(() => c.end())
          process.kill(pid, 'SIGCONT')
        })
      },
    },
    ddl: {
      expect: 'refuse',
      arrange: async (s) => {
        await pgq(
          s.sourceUrl,
          "ALTER TABLE orders ADD COLUMN extra int; INSERT INTO orders (customer, amount, note, extra) VALUES (1, 1, 'ddl', 1)",
        )
        return async () => {}
      },
    },
    large: {expect: 'cutover', seed: LARGE.postgres, arrange: async () => async () => {}},
  },
  mariadb: {
    baseline: {expect: 'cutover', arrange: async () => async () => {}},
    'long-transaction': {
      expect: 'refuse',
      arrange: async (s) => {
        const c = await mysql.createConnection({uri: s.clientUrl})
        const p = c.query('UPDATE orders SET amount = amount + SLEEP(15) WHERE id = 1').catch(() => {})
        await sleep(2500)
        return async () => {
          await p
          await c.end()
        }
      },
    },
    'replica-stalled': {
      expect: 'refuse',
      releaseAfterMs: 12_000,
      arrange: async (s) => {
        const pid = pidOf(s, 1)
        process.kill(pid, 'SIGSTOP')
        return once(() => process.kill(pid, 'SIGCONT'))
      },
    },
    ddl: {
      expect: 'cutover',
      arrange: async (s) => {
        await myq(s.sourceUrl, 'ALTER TABLE orders ADD COLUMN extra int')
        await myq(s.sourceUrl, "INSERT INTO orders (customer, amount, note, extra) VALUES (1, 1, 'ddl', 1)")
        return async () => {}
      },
    },
    large: {expect: 'cutover', seed: LARGE.mariadb, arrange: async () => async () => {}},
  },
  redis: {
    baseline: {expect: 'cutover', arrange: async () => async () => {}},
    'long-transaction': {
      expect: 'refuse',
      arrange: async (s) => {
        // A Lua script that runs 3 s: Redis answers BUSY to everything meanwhile (the writers' gap is the script's).
        const u = new URL(s.sourceUrl)
        const r = new Redis({host: u.hostname, port: Number(u.port)})
        await r.config('SET', 'lua-time-limit', '100')
        const p = r
          .eval(
            "local t = tonumber(redis.call('TIME')[1]); while tonumber(redis.call('TIME')[1]) < t + 3 do end return 1",
            0,
          )
          .catch(() => 0)
        await sleep(200)
        return async () => {
          await p
          r.disconnect()
        }
      },
    },
    'replica-stalled': {
      expect: 'refuse',
      releaseAfterMs: 12_000,
      arrange: async (s) => {
        const pid = pidOf(s, 1)
        process.kill(pid, 'SIGSTOP')
        return once(() => process.kill(pid, 'SIGCONT'))
      },
    },
    large: {expect: 'cutover', seed: LARGE.redis, arrange: async () => async () => {}},
  },
}

// Managed targets (stand-ins: see docs/managed-targets.md), their own templates: the baseline only.
SCENARIOS['mariadb-rds'] = {baseline: SCENARIOS.mariadb.baseline}
SCENARIOS['postgres-rds'] = {baseline: SCENARIOS.postgres.baseline}

const ENGINES = {
  postgres: {setup: (ports, seed) => setupPostgres(ports, {seedRows: seed}), load: startPgLoad},
  mariadb: {setup: (ports, seed) => setupMariadb(ports, {seedRows: seed}), load: startMariadbLoad},
  redis: {setup: (ports, seed) => setupRedis(ports, {seedKeys: seed}), load: startRedisLoad},
  'mariadb-rds': {kind: 'mariadb', setup: (ports) => setupRdsMariadb(ports), load: startMariadbLoad},
  'postgres-rds': {kind: 'postgres', setup: (ports) => setupRdsPostgres(ports), load: startPgLoad},
}

function journal(planDir) {
  return readFileSync(path.join(planDir, 'state.journal'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
}

async function runOne(engine, name, sc) {
  const e = ENGINES[engine]
  const kind = e.kind ?? engine
  // Four consecutive ports reserved at run time (src/db/lab/ports.ts: source, target, proxy and its frontend), so
  // that a bench never races another bench or a test run for a port; started again elsewhere if one was taken.
  const s = await onFreePorts(4, (base) => e.setup({db: base, proxy: base + 2}, sc.seed))
  let undo = async () => {}
  try {
    const load = e.load({url: s.clientUrl, workers: 2, intervalMs: 5})
    await sleep(300)
    const run = (extra) =>
      execa('node', [path.join(root, 'bin/run.js'), 'execute', 'wave', '1', '--plan', s.planDir, ...extra], {
        reject: false,
        env: s.env,
      })
    const toGate = await run([])
    const gate = journal(s.planDir).find((x) => x.type === 'gate-waiting' && x.step === 'approve-cutover')
    const bound = /at most (\d+(?:\.\d+)?) s/.exec(gate?.message ?? '')
    const estimate = /about (\d+(?:\.\d+)?) s/.exec(gate?.message ?? '')
    if (!gate)
      throw new Error(
        `the wave did not reach its gate (exit ${toGate.exitCode}): ${toGate.stdout.slice(-1500)}\n${toGate.stderr.slice(-1500)}`,
      )
    undo = await sc.arrange(s)
    // A stall is released after a while (as a real one ends): the refused wave's own rollback needs the server.
    const release =
      sc.releaseAfterMs === undefined ? undefined : setTimeout(() => void undo().catch(() => {}), sc.releaseAfterMs)
    const t0 = performance.now()
    const cut = await run(['--yes'])
    const cutMs = performance.now() - t0
    clearTimeout(release)
    await undo()
    undo = async () => {}
    await sleep(500)
    const stats = await load.stop()
    const lost = await lostWrites(kind, s.clientUrl, stats.acks)
    const events = journal(s.planDir)
    const ok = events.find((x) => x.type === 'step-succeeded' && x.step === 'cutover')
    const failed = events.find((x) => x.type === 'step-failed' && x.step === 'cutover')
    const out = String(failed?.output ?? failed?.error ?? '')
    const refused = !ok && /before any pause: nothing changed/.test(out)
    const boundMs = bound ? Number(bound[1]) * 1000 : null
    const outcome = ok ? 'cut over' : refused ? 'refused' : failed ? 'failed, undone' : `exit ${cut.exitCode}`
    const row = {
      engine,
      scenario: name,
      gapMs: stats.maxGapMs,
      failed: stats.failed,
      lost: lost.length,
      refusedBeforePause: refused ? 'yes' : 'no',
      boundMs,
      estimateMs: estimate ? Number(estimate[1]) * 1000 : null,
      outcome,
      committed: stats.committed,
      waveMs: Math.round(cutMs),
      reason: failed
        ? (/refused before pausing anyone: ([^\n]{0,140})/.exec(out)?.[1] ??
          /stopped at [^:]+: ([^\n]{0,140})/.exec(out)?.[1] ??
          '')
        : '',
    }
    const expected = {
      refuse: refused,
      undo: !ok && !refused && /Undone in reverse|\bundo pause-clients\b/.test(out),
      cutover: !!ok,
    }
    row.ok = row.lost === 0 && row.gapMs <= (boundMs ?? 5000) + 1000 && expected[sc.expect]
    if (process.env.BENCH_VERBOSE) process.stderr.write(`${engine}/${name}:\n${ok?.output ?? out}\n`)
    return row
  } finally {
    await undo().catch(() => {})
    await s.stop()
  }
}

const rows = []
for (const engine of Object.keys(SCENARIOS).filter((e) => onlyEngines.length === 0 || onlyEngines.includes(e))) {
  for (const [name, sc] of Object.entries(SCENARIOS[engine]).filter(
    ([n]) => onlyScenarios.length === 0 || onlyScenarios.includes(n),
  )) {
    try {
      rows.push(await runOne(engine, name, sc))
    } catch (err) {
      process.stderr.write(`${engine}/${name}: ${err instanceof Error ? err.message : String(err)}\n`)
      rows.push({
        engine,
        scenario: name,
        gapMs: null,
        failed: null,
        lost: null,
        refusedBeforePause: null,
        boundMs: null,
        estimateMs: null,
        outcome: 'error',
        ok: false,
      })
    }
    process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`)
  }
}

const cols = [
  'engine',
  'scenario',
  'gapMs',
  'failed',
  'lost',
  'refusedBeforePause',
  'estimateMs',
  'boundMs',
  'outcome',
  'ok',
]
console.log(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|`)
for (const r of rows) console.log(`| ${cols.map((c) => String(r[c] ?? '–')).join(' | ')} |`)
for (const r of rows.filter((x) => x.reason)) console.log(`${r.engine}/${r.scenario} refused: ${r.reason}`)
console.log(JSON.stringify({cutover: rows}))
// A client a scenario left (a stopped server's socket) must not keep the process, and the servers' lock, alive.
process.exit(rows.every((r) => r.ok) ? 0 : 1)
