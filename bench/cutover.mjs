// npm run bench:cutover — per engine, a real source under continuous writes through its proxy (PgBouncer for
// PostgreSQL, HAProxy for MariaDB and Redis) is migrated with `migrate execute wave 1` and the shipped template.
// Printed per engine: the client-seen write-unavailability window (longest gap between two acknowledged writes,
// ms), failed client operations, and acknowledged writes missing on the target afterwards (lost).
// Goals: PostgreSQL < 1000 ms, 0 failed, 0 lost; MariaDB and Redis < 2000 ms, 0 lost. The -rds rows run the managed
// templates against the stand-ins of docs/managed-targets.md (same goals as their engine).
import {execa} from 'execa'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {setupMariadb, setupPostgres, setupRedis} from '../dist/src/db/lab/scenarios.js'
import {setupRdsMariadb, setupRdsPostgres} from '../dist/src/db/lab/managed.js'
import {lostWrites, startMariadbLoad, startPgLoad, startRedisLoad} from '../dist/src/db/lab/load.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const only = process.argv.slice(2)
const engines = [
  {name: 'postgres', setup: () => setupPostgres({db: 24390, proxy: 64390}), load: startPgLoad, goal: 1000},
  {name: 'mariadb', setup: () => setupMariadb({db: 23390, proxy: 65390}), load: startMariadbLoad, goal: 2000},
  {name: 'redis', setup: () => setupRedis({db: 63390, proxy: 65380}), load: startRedisLoad, goal: 2000},
  // Managed targets (stand-ins: see docs/managed-targets.md).
  {name: 'mariadb-rds', kind: 'mariadb', setup: () => setupRdsMariadb({db: 44390, proxy: 44392}), load: startMariadbLoad, goal: 2000},
  {name: 'postgres-rds', kind: 'postgres', setup: () => setupRdsPostgres({db: 44394, proxy: 44396}), load: startPgLoad, goal: 1000},
].filter((e) => only.length === 0 || only.includes(e.name))

const rows = []
for (const e of engines) {
  let s
  try {
    s = await e.setup()
    const load = e.load({url: s.clientUrl, workers: 2, intervalMs: 5})
    await new Promise((r) => setTimeout(r, 500))
    const t0 = performance.now()
    const r = await execa('node', [path.join(root, 'bin/run.js'), 'execute', 'wave', '1', '--plan', s.planDir, '--yes'], {reject: false, env: s.env})
    const runMs = performance.now() - t0
    await new Promise((r) => setTimeout(r, 500))
    const stats = await load.stop()
    const lost = await lostWrites(e.kind ?? e.name, s.targetUrl, stats.acks)
    const events = readFileSync(path.join(s.planDir, 'state.journal'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    const cut = events.find((x) => x.type === 'step-succeeded' && x.step === 'cutover')
    const serverWindow = /(?:paused|blocked) (\d+) ms/.exec(String(cut?.output ?? ''))?.[1]
    rows.push({
      engine: e.name,
      windowMs: stats.maxGapMs,
      failed: stats.failed,
      lost: lost.length,
      committed: stats.committed,
      cutoverStepMs: cut?.durationMs ?? null,
      serverWindowMs: serverWindow ? Number(serverWindow) : null,
      waveMs: Math.round(runMs),
      goalMs: e.goal,
      ok: !!cut && stats.maxGapMs < e.goal && lost.length === 0 && ((e.kind ?? e.name) !== 'postgres' || stats.failed === 0),
      exit: r.exitCode,
      errors: stats.errors,
    })
    if (process.env.BENCH_VERBOSE) process.stderr.write(`${e.name} cutover step: ${JSON.stringify(events.find((x) => x.type === "step-started" && x.step === "cutover"))}\n${cut?.output}\n`)
    if (!cut) process.stderr.write(`${e.name}: the cutover step did not succeed (exit ${r.exitCode})\n${r.stdout}\n${r.stderr}\n`)
  } catch (err) {
    process.stderr.write(`${e.name}: ${err instanceof Error ? err.message : String(err)}\n`)
    rows.push({engine: e.name, windowMs: null, failed: null, lost: null, committed: null, cutoverStepMs: null, serverWindowMs: null, waveMs: null, goalMs: e.goal, ok: false, exit: null, errors: {}})
  } finally {
    await s?.stop()
  }
}

const cols = ['engine', 'windowMs', 'failed', 'lost', 'committed', 'serverWindowMs', 'cutoverStepMs', 'waveMs', 'goalMs', 'ok']
console.log(cols.map((c) => c.padStart(c === 'engine' ? 8 : 14)).join(' '))
for (const r of rows) console.log(cols.map((c) => String(r[c]).padStart(c === 'engine' ? 8 : 14)).join(' '))
for (const r of rows) if (Object.keys(r.errors).length) console.log(`${r.engine} client errors: ${JSON.stringify(r.errors)}`)
console.log(JSON.stringify({cutover: rows.map(({errors, ...r}) => r)}))
