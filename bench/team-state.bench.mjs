// Benchmark: orchestration overhead per step with the shared PostgreSQL state backend, beside the journal file.
//  - postgres: PROCS processes (default 20) at once, each `execute wave 1 --app UNIT` of its own application of
//    STEPS no-op steps (default 100), all appending to one plan's chain and holding their unit's session lock;
//  - file: the same wave in one process at concurrency PROCS (the file backend's plan lock lets one runner in);
//  - the floor, without migrate: PROCS processes whose every step is a bare pg client's `SELECT 1`, or its INSERT
//    committed synchronously (one WAL flush, the least a step made durable in PostgreSQL costs on this machine);
//  - where pgbench is on PATH, migrate's own append SQL (appendSql) from pgbench, a C client: the server's share alone.
// Each row also gives the runners' CPU per step and (local server, Linux) the PostgreSQL server's CPU per step.
// A step's overhead is the time from one step's end to the next one's end within an application, less nothing: the
// steps are no-ops, so it is journaling (step-started durable before it runs, step-succeeded after), rendering and
// bookkeeping. Prints p50/p95/max per backend; goal: p95 < 10 ms with PostgreSQL.
// Needs the machine's PostgreSQL (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres): a database of
// its own is created and dropped.
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import pg from 'pg'
import {wavePlanDir} from './wave-plan.mjs'

const PROCS = Number(process.env.BENCH_PROCS ?? 20)
const STEPS = Number(process.env.BENCH_STEPS ?? 100)
const ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const self = fileURLToPath(import.meta.url)
const root = path.resolve(path.dirname(self), '..')

const ok = {exitCode: 0, output: '', stdout: '', timedOut: false, canceled: false, durationMs: 0}

/** The next line on stdin (the parent's word to go on). */
const nextLine = () => new Promise((r) => process.stdin.once('data', r))

/**
 * One runner: executes its units and prints the gaps between step ends, per application. Two barriers keep the
 * runners' start-ups out of the per-step figures: every runner loads its modules (READY), then prepares its wave,
 * takes its units' locks and reads the journal, and holds in its units' first step (STEPPING) until every runner is
 * there; the parent then lets them all go at once. Gaps count from the end of each unit's first step.
 */
async function worker(planDir, apps, state, concurrency) {
  const {executeWave} = await import(path.join(root, 'dist/src/executor/engine.js'))
  const profile = process.env.BENCH_PROF ? await profiler(process.env.BENCH_PROF) : undefined
  await import('pg')
  process.stderr.write('READY\n')
  await nextLine()
  const t0 = performance.now()
  let startupMs
  const waiting = new Set()
  let go
  const released = new Promise((r) => (go = r))
  const runCommand = async () => {
    if (startupMs !== undefined) return ok
    // A unit at its first step: hold there until every unit of every runner is.
    const me = Symbol()
    waiting.add(me)
    if (waiting.size === apps.length) {
      startupMs = performance.now() - t0
      process.stderr.write('STEPPING\n')
      nextLine().then(async () => {
        await profile?.start()
        go()
      })
    }
    await released
    return ok
  }
  let cpu0
  let cpu = {user: 0, system: 0}
  const last = new Map()
  const gaps = []
  const emit = (e) => {
    if (e.type !== 'step-end') return
    const now = performance.now()
    if (last.has(e.app)) gaps.push(now - last.get(e.app))
    last.set(e.app, now)
    // The runner's CPU while it runs steps (from its first step's end to its last): not its start-up. Read at those
    // two ends only: reading it costs a system call.
    if (!cpu0) cpu0 = process.cpuUsage()
    else if (gaps.length === apps.length * (STEPS - 1)) cpu = process.cpuUsage(cpu0)
  }
  const r = await executeWave({
    planDir,
    wave: 1,
    apps,
    state,
    concurrency,
    emit,
    deps: {runCommand, which: () => true},
  })
  await profile?.stop()
  process.stdout.write(JSON.stringify({exitCode: r.exitCode, gaps, startupMs, cpuMs: (cpu.user + cpu.system) / 1000}))
}

/** BENCH_PROF=DIR: a CPU profile of each runner while it steps (not its start-up), as DIR/runner-PID.cpuprofile. */
async function profiler(dir) {
  const {Session} = await import('node:inspector/promises')
  const {mkdirSync, writeFileSync} = await import('node:fs')
  const s = new Session()
  s.connect()
  await s.post('Profiler.enable')
  return {
    start: () => s.post('Profiler.start'),
    async stop() {
      const {profile} = await s.post('Profiler.stop')
      mkdirSync(dir, {recursive: true})
      writeFileSync(path.join(dir, `runner-${process.pid}.cpuprofile`), JSON.stringify(profile))
    },
  }
}

/**
 * The floor: what any runner that makes each step durable in PostgreSQL pays on this machine, migrate or not. A bare
 * pg client in each process, the same barriers, STEPS steps each of one round trip: `SELECT 1` (round-trip) or an
 * INSERT of a 400-byte row committed synchronously (durable-write: one WAL flush per step, as a journaled step needs).
 */
async function floorWorker(url, kind) {
  const c = new pg.Client({connectionString: url})
  await c.connect()
  process.stderr.write('READY\n')
  await nextLine()
  process.stderr.write('STEPPING\n')
  await nextLine()
  const gaps = []
  let last
  let cpu0
  let cpu = {user: 0, system: 0}
  for (let i = 0; i < STEPS; i++) {
    if (kind === 'round-trip') await c.query('SELECT 1')
    else await c.query('INSERT INTO bench_floor VALUES ($1, $2, $3)', [process.pid, i, 'x'.repeat(400)])
    const now = performance.now()
    if (last !== undefined) gaps.push(now - last)
    last = now
    if (!cpu0) cpu0 = process.cpuUsage()
    else if (i === STEPS - 1) cpu = process.cpuUsage(cpu0)
  }
  await c.end()
  process.stdout.write(JSON.stringify({exitCode: 0, gaps, startupMs: 0, cpuMs: (cpu.user + cpu.system) / 1000}))
}

/**
 * The floor of migrate's own append: the very SQL a runner sends per step (appendSql: two events chained, then the
 * synchronous commit that makes them durable), from pgbench, PROCS connections × STEPS each: a C client that costs
 * next to nothing, so what is left is the server's work and the machine. Only where pgbench is on PATH.
 */
async function pgbenchFloor(url) {
  if ((await execa('pgbench', ['--version'], {reject: false})).exitCode !== 0) return undefined
  const {appendSql} = await import(path.join(root, 'dist/src/state/pg/journal.js'))
  const body = (type, step) =>
    `"time":"2026-11-30T00:00:00.000Z","type":"${type}","runId":"20261130T000000Z-1","wave":1,"app":"app-00","step":"${step}","attempt":1,"actor":{"user":"ci","host":"runner-1","pid":4242}`
  const sql = appendSql(
    pg.escapeLiteral,
    'bench-pgbench',
    [body('step-succeeded', 's1'), body('step-started', 's2')],
    'true',
  )
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migrate-pgbench-'))
  try {
    const script = path.join(dir, 'append.sql')
    // One command of several statements, as the runner sends it (pgbench separates them with \;).
    writeFileSync(script, `${sql.replace(/;\s*(?=[A-Z])/g, '\\; ').replace(/\s*\n\s*/g, ' ')}\n`)
    const u = new URL(url)
    const stop = serverCpu()
    const r = await execa(
      'pgbench',
      ['-n', '-c', String(PROCS), '-j', '2', '-t', String(STEPS), '-f', script, '-l', `--log-prefix=${dir}/log`],
      {
        reject: false,
        env: {
          PGHOST: u.hostname,
          PGPORT: u.port || '5432',
          PGUSER: decodeURIComponent(u.username),
          PGDATABASE: u.pathname.slice(1),
        },
      },
    )
    const serverMs = stop()
    if (r.exitCode !== 0) throw new Error(`pgbench: ${r.stderr.slice(-500)}`)
    const lat = readdirSync(dir)
      .filter((f) => f.startsWith('log'))
      .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').trim().split('\n'))
      .map((l) => Number(l.split(' ')[2]) / 1000)
    const ms = Number(/latency average = ([\d.]+)/.exec(r.stdout)?.[1] ?? 0) * STEPS
    return {
      ...stats(`floor: migrate's append, pgbench ×${PROCS}`, [{gaps: lat, cpuMs: 0, startupMs: 0}], ms, serverMs),
      runnerCpuPerStep: undefined,
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

let plans = 0
const planDir = (names) => wavePlanDir({apps: names, steps: STEPS, name: `bench-${process.pid}-${++plans}`})

const spawn = (...args) => execa(process.execPath, [self, ...args], {reject: false, env: {MIGRATE_STATE: ''}})
const runner = (dir, apps, state, concurrency) => ['--worker', dir, apps.join(','), state ?? '', String(concurrency)]

/** Resolves when every process has printed `word` on stderr (or ended). */
const allSaid = (procs, word) =>
  Promise.all(
    procs.map(
      (p) =>
        new Promise((resolve) => {
          let seen = ''
          p.stderr.on('data', (d) => {
            seen += d
            if (seen.includes(word)) resolve()
          })
          p.finally(resolve)
        }),
    ),
  )

/**
 * The CPU the local PostgreSQL server spends while the runners step (its backends, WAL writer, checkpointer): sampled
 * from /proc every 50 ms, per process from its first to its last sample, so backends that end with their runner count
 * up to their last sample. Linux only; undefined elsewhere or when the server is on another machine.
 */
function serverCpu() {
  const seen = new Map()
  const sample = () => {
    let names
    try {
      names = readdirSync('/proc')
    } catch {
      return
    }
    for (const pid of names) {
      if (!/^\d+$/.test(pid)) continue
      let stat
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      } catch {
        continue
      }
      const close = stat.lastIndexOf(')')
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue
      const f = stat.slice(close + 2).split(' ')
      const ticks = Number(f[11]) + Number(f[12])
      const s = seen.get(pid)
      s ? (s.last = ticks) : seen.set(pid, {first: ticks, last: ticks})
    }
  }
  sample()
  const timer = setInterval(sample, 50)
  return () => {
    clearInterval(timer)
    sample()
    if (seen.size === 0) return undefined
    let ticks = 0
    for (const s of seen.values()) ticks += s.last - s.first
    return ticks * 10 // ms, at the usual 100 ticks per second
  }
}

/** Starts the runners; once all are loaded, lets them prepare; once all hold at their first step, lets them step. */
async function runAll(jobs) {
  const procs = jobs.map((j) => spawn(...j))
  const loaded = allSaid(procs, 'READY')
  const stepping = allSaid(procs, 'STEPPING')
  await loaded
  for (const p of procs) p.stdin.write('prepare\n')
  await stepping
  const t0 = performance.now()
  const server = serverCpu()
  for (const p of procs) p.stdin.end('go\n')
  const done = await Promise.all(procs)
  return {done, ms: performance.now() - t0, serverMs: server()}
}
const run = async (...job) => (await runAll([runner(...job)])).done[0]

function stats(label, outs, ms, serverMs) {
  const gaps = outs.flatMap((o) => o.gaps).sort((a, b) => a - b)
  const cpuMs = outs.reduce((t, o) => t + o.cpuMs, 0)
  const q = (p) => gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))]
  return {
    label,
    steps: gaps.length,
    totalMs: Math.round(ms),
    p50: +q(0.5).toFixed(2),
    p95: +q(0.95).toFixed(2),
    max: +gaps.at(-1).toFixed(2),
    runnerCpuPerStep: +(cpuMs / gaps.length).toFixed(2),
    serverCpuPerStep: serverMs === undefined ? undefined : +(serverMs / gaps.length).toFixed(2),
    // From "prepare" to holding at the first step: load the plan, lock, read the journal (all runners at once).
    startupMs: Math.round(Math.max(...outs.map((o) => o.startupMs))),
  }
}

async function collect(label, {done: procs, ms, serverMs}) {
  const outs = []
  for (const p of procs) {
    if (p.exitCode !== 0) throw new Error(`${label}: a runner exited ${p.exitCode}\n${p.stderr.slice(-2000)}`)
    const o = JSON.parse(p.stdout)
    if (o.exitCode !== 0) throw new Error(`${label}: a wave ended ${o.exitCode}`)
    outs.push(o)
  }
  return stats(label, outs, ms, serverMs)
}

async function main() {
  const names = Array.from({length: PROCS}, (_, i) => `app-${String(i).padStart(2, '0')}`)
  const db = `migrate_bench_${process.pid}`
  const admin = new pg.Client({connectionString: ADMIN})
  await admin.connect()
  await admin.query(`CREATE DATABASE ${db}`)
  const url = new URL(ADMIN)
  url.pathname = `/${db}`
  const rows = []
  try {
    // Warm-up: creates the tables, loads the modules from disk once.
    await run(planDir(names.slice(0, 1)), names.slice(0, 1), url.toString(), 1)
    const pgDir = planDir(names)
    const pgRun = await runAll(names.map((n) => runner(pgDir, [n], url.toString(), 1)))
    rows.push(await collect(`postgres, ${PROCS} processes`, pgRun))
    const fileDir = planDir(names)
    const fileRun = await runAll([runner(fileDir, names, '', PROCS)])
    rows.push(await collect(`file, 1 process × ${PROCS}`, fileRun))
    // This machine's floor, without migrate: the same processes and barriers, each step a bare pg client's round trip.
    const admin2 = new pg.Client({connectionString: url.toString()})
    await admin2.connect()
    await admin2.query('CREATE TABLE bench_floor (runner integer, step integer, body text)')
    await admin2.end()
    for (const [kind, label] of [
      ['round-trip', 'floor: SELECT 1'],
      ['durable-write', 'floor: one durable INSERT'],
    ]) {
      const floorRun = await runAll(names.map(() => ['--floor', url.toString(), kind]))
      rows.push(await collect(`${label}, ${PROCS} proc.`, floorRun))
    }
    const pgb = await pgbenchFloor(url.toString())
    if (pgb) rows.push(pgb)
    rmSync(pgDir, {recursive: true, force: true})
    rmSync(fileDir, {recursive: true, force: true})
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
    await admin.end()
  }
  const pad = (s, n) => String(s).padEnd(n)
  console.log(
    `state backends: ${PROCS} applications × ${STEPS} no-op steps, all runners stepping at once; per-step overhead (ms between step ends)`,
  )
  const cols = [
    ['backend', 38],
    ['steps', 8],
    ['stepping', 10],
    ['p50', 8],
    ['p95', 8],
    ['max', 9],
    ['CPU/step', 10],
    ['server CPU/step', 17],
    ['start-up', 0],
  ]
  console.log(cols.map(([h, n]) => pad(h, n)).join(''))
  for (const r of rows)
    console.log(
      [
        r.label,
        r.steps,
        `${r.totalMs} ms`,
        r.p50,
        r.p95,
        r.max,
        r.runnerCpuPerStep === undefined ? '-' : `${r.runnerCpuPerStep} ms`,
        r.serverCpuPerStep === undefined ? '-' : `${r.serverCpuPerStep} ms`,
        `${r.startupMs} ms`,
      ]
        .map((v, i) => pad(v, cols[i][1]))
        .join(''),
    )
  console.log(`postgres p95 ${rows[0].p95} ms per step (goal < 10 ms): ${rows[0].p95 < 10 ? 'OK' : 'OVER'}`)
  // Beside the floor: a goal below what a bare durable write per step takes here cannot be met on this machine.
  const floor = rows.find((r) => r.label.startsWith('floor: one durable'))
  console.log(
    `this machine's floor (a bare client's durable INSERT per step, ${PROCS} processes): p95 ${floor.p95} ms; migrate adds ${(rows[0].p95 - floor.p95).toFixed(1)} ms at p95, ${(rows[0].p50 - floor.p50).toFixed(1)} ms at p50`,
  )
  console.log(JSON.stringify({bench: 'team-state', procs: PROCS, steps: STEPS, results: rows}))
}

if (process.argv[2] === '--worker') {
  const [dir, apps, state, conc] = process.argv.slice(3)
  await worker(dir, apps.split(','), state || undefined, Number(conc))
} else if (process.argv[2] === '--floor') await floorWorker(process.argv[3], process.argv[4])
else await main()
