// Helpers for the database end-to-end tests: run `migrate` as a user would (node bin/run.js, built first) with the
// scenario's PATH, read the plan's journal, start a file's scenario, query each engine, and the checks every engine's
// cutover and rollback make.
import {afterAll, beforeAll, expect} from 'vitest'
import {execa} from 'execa'
import {Redis} from 'ioredis'
import mysql from 'mysql2/promise'
import pg from 'pg'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {parse, stringify} from 'yaml'
import path from 'node:path'
import {type Ports, writePlanDir, type Scenario} from '../../src/db/lab/scenarios.js'
import {onFreePorts} from '../helpers/ports.js'
import {lostWrites, type Load, type LoadOptions, type LoadStats} from '../../src/db/lab/load.js'

export const ROOT = path.resolve(import.meta.dirname, '../..')

export async function migrate(s: Scenario, args: string[]) {
  return execa('node', [path.join(ROOT, 'bin/run.js'), ...args], {
    reject: false,
    env: {...s.env, MIGRATE_DEBUG: '1'},
    cwd: s.planDir,
  })
}

export interface JournalEvent {
  type: string
  step?: string
  app?: string
  [k: string]: unknown
}

export function journal(planDir: string): JournalEvent[] {
  const f = path.join(planDir, 'state.journal')
  if (!existsSync(f)) return []
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
}

/** Step ids with an event of `type`, in journal order. */
export function stepsWith(events: JournalEvent[], type: string): string[] {
  return events.filter((e) => e.type === type && e.step).map((e) => e.step as string)
}

/** The events of the newest run (from its run-started on). */
export function lastRun(events: JournalEvent[]): JournalEvent[] {
  let i = events.length - 1
  while (i > 0 && events[i].type !== 'run-started') i--
  return events.slice(i)
}

/** Copies a shipped template into <plan>/templates/ with a short finalize soak, so a test can run finalize. */
export function shortSoakTemplate(planDir: string, name: string): void {
  const tpl = parse(readFileSync(path.join(ROOT, 'templates', `${name}.yaml`), 'utf8'))
  const fin = tpl.steps.find((x: {id: string}) => x.id === 'finalize')
  fin.soak = {duration: '1s', interval: '500ms', check: fin.soak.check}
  mkdirSync(path.join(planDir, 'templates'), {recursive: true})
  writeFileSync(path.join(planDir, 'templates', `${name}.yaml`), stringify(tpl))
}

/** What an engine's end-to-end file runs: its template, the source database in the inventory and its writer. */
export interface Lab {
  template: string
  db: {host: string; port: number; name: string}
  startLoad: (opts: LoadOptions) => Load
}

/**
 * Writes the plan (template `lab.template` with `params`) and runs `execute wave 1 --yes` while a writer runs
 * against the clients' URL; with `warmup` the writer runs 300ms before. The writer stops 300ms after the run.
 */
export async function executeWaveUnderLoad(
  s: Scenario,
  lab: Lab,
  params: Record<string, string>,
  opts: {warmup?: boolean} = {},
): Promise<{r: Awaited<ReturnType<typeof migrate>>; stats: LoadStats}> {
  writePlanDir(s.planDir, s.engine, lab.template, params, lab.db)
  const load = lab.startLoad({url: s.clientUrl, workers: 2, intervalMs: 5})
  if (opts.warmup) await new Promise((r) => setTimeout(r, 300))
  const r = await migrate(s, ['execute', 'wave', '1', '--plan', s.planDir, '--yes'])
  await new Promise((r) => setTimeout(r, 300))
  const stats = await load.stop()
  return {r, stats}
}

/**
 * A lab scenario (scenarios.ts, managed.ts) on four reserved ports: the source on the first, the target on the
 * second, the proxy on the third (HAProxy's frontend on the fourth); started again elsewhere if a port was taken.
 */
export function onLabPorts<T>(setup: (ports: Ports) => Promise<T>): Promise<T> {
  return onFreePorts(4, (base) => setup(labPorts(base)))
}

/** A lab scenario's ports from the first of its four: the source on it, the proxy two further (see onLabPorts). */
export function labPorts(base: number): Ports {
  return {db: base, proxy: base + 2}
}

/**
 * A file's scenario: `setup` starts it on four reserved ports from `base` (the source on `base`) before the file's
 * tests, handing it to `use`, and it stops after them. The Lab returned runs `template` with `startLoad`, the
 * inventory's database `name` on the source's port, known once the scenario is up.
 */
export function labForFile<S extends Scenario>(
  spec: {template: string; name: string; startLoad: Lab['startLoad']},
  setup: (base: number) => Promise<S>,
  use: (s: S) => void,
): Lab {
  const lab: Lab = {
    template: spec.template,
    db: {host: '127.0.0.1', port: 0, name: spec.name},
    startLoad: spec.startLoad,
  }
  let s: S | undefined
  beforeAll(async () => {
    let base = 0
    s = await onFreePorts(4, (b) => setup((base = b)))
    lab.db.port = base
    use(s)
  }, 120_000)
  afterAll(async () => {
    await s?.stop()
  })
  return lab
}

/**
 * Runs wave 1 under load with `params` that make the smoke test fail after cutover: the run exits 3, smoke-test
 * failed, the steps `undone` (newest first) were rolled back and, where `failed` is given, exactly those rollbacks
 * failed.
 */
export async function rollbackUnderLoad(
  s: Scenario,
  lab: Lab,
  params: Record<string, string>,
  expected: {undone: string[]; failed?: string[]},
) {
  const {r, stats} = await executeWaveUnderLoad(s, lab, params)
  expect(r.exitCode, r.stdout + r.stderr).toBe(3)
  const events = journal(s.planDir)
  expect(stepsWith(events, 'step-failed')).toContain('smoke-test')
  expect(stepsWith(events, 'rollback-succeeded')).toEqual(expected.undone)
  if (expected.failed) expect(stepsWith(events, 'rollback-failed')).toEqual(expected.failed)
  return {r, stats, events}
}

/** Runs wave 1 (again) under load, the writer started first: this run's succeeded steps are `steps`, in order. */
export async function cutoverUnderLoad(s: Scenario, lab: Lab, params: Record<string, string>, steps: string[]) {
  const {r, stats} = await executeWaveUnderLoad(s, lab, params, {warmup: true})
  const events = lastRun(journal(s.planDir))
  const failed = JSON.stringify(events.filter((e) => e.type === 'step-failed'))
  expect(stepsWith(events, 'step-succeeded'), r.stdout.slice(-4000) + r.stderr.slice(-4000) + failed).toEqual(steps)
  return {r, stats, events}
}

/** The writer got well going (more than 50 commits) and every write it saw acknowledged is in the database at `url`. */
export async function expectEveryWriteOn(engine: Scenario['engine'], url: string, stats: LoadStats): Promise<void> {
  expect(stats.committed).toBeGreaterThan(50)
  expect(await lostWrites(engine, url, stats.acks)).toEqual([])
}

/** Approves finalize with a short soak (a plan-local copy of the template, shortSoakTemplate): the run succeeds. */
export async function finalizeWave(s: Scenario, lab: Lab): Promise<void> {
  shortSoakTemplate(s.planDir, lab.template)
  const f = await migrate(s, ['execute', 'wave', '1', '--plan', s.planDir, '--approve', 'finalize'])
  expect(f.exitCode, f.stdout + f.stderr).toBe(0)
}

/** `migrate db preflight --json` from the scenario's source to `target`, on `service` (--target-service) if given. */
export function dbPreflight(
  s: Scenario,
  o: {engine: Scenario['engine']; target: string; service?: string},
  extra: string[] = [],
) {
  const service = o.service === undefined ? [] : ['--target-service', o.service]
  const args = ['--engine', o.engine, ...service, '--source', s.sourceUrl, '--target', o.target]
  return migrate(s, ['db', 'preflight', '--json', ...args, ...extra])
}

/** The codes of the blocker findings in a `--json` answer, whether it succeeded (result) or failed (error.data). */
export function blockerCodes(out: string): string[] {
  const j = JSON.parse(out)
  return ((j.result ?? j.error?.data)?.findings ?? [])
    .filter((f: {severity: string}) => f.severity === 'blocker')
    .map((f: {code: string}) => f.code)
}

/** The codes of the blocker findings in a failed `--json` answer; throws on an answer that holds no error. */
export function errorBlockerCodes(out: string): string[] {
  return JSON.parse(out)
    .error.data.findings.filter((f: {severity: string}) => f.severity === 'blocker')
    .map((f: {code: string}) => f.code)
}

/** Rows of `sql` on the PostgreSQL at `url`, over a connection of its own. */
export async function pgQuery(url: string, sql: string, params: unknown[] = []): Promise<any[]> {
  const c = new pg.Client({connectionString: url})
  await c.connect()
  try {
    return (await c.query(sql, params)).rows
  } finally {
    await c.end()
  }
}

/** Rows of `sql` on the MariaDB at `url` (for a CALL, its result sets), over a connection of its own. */
export async function mysqlQuery(url: string, sql: string): Promise<any[]> {
  const c = await mysql.createConnection({uri: url})
  try {
    return (await c.query(sql))[0] as any[]
  } finally {
    await c.end()
  }
}

/** One command on the Redis at `url`, over a connection of its own that fails at once if the server does not answer. */
export async function redisCall(url: string, ...command: string[]): Promise<unknown> {
  const u = new URL(url)
  const r = new Redis({
    host: u.hostname,
    port: Number(u.port),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  await r.connect()
  try {
    return await r.call(command[0], ...command.slice(1))
  } finally {
    r.disconnect()
  }
}

/**
 * PostgreSQL's wave made to fail its smoke test after cutover (smoke_expect): every step with a rollback command was
 * undone, newest first, and none failed; clients are back on the source (`port`), none of the writer's transactions
 * failed, every acknowledged write (also those made on the target) is on the source, no slot is left there, and the
 * app can log in.
 */
export async function expectPgRollsBack(s: Scenario, lab: Lab, port: number): Promise<void> {
  const undone = ['cutover', 'subscription', 'publication', 'schema-load']
  const {stats} = await rollbackUnderLoad(s, lab, {...s.params, smoke_expect: 'not-this'}, {undone, failed: []})
  expect((await pgQuery(s.clientUrl, 'SELECT inet_server_port() AS p'))[0].p).toBe(port)
  expect(stats.failed, JSON.stringify(stats.errors)).toBe(0)
  expect(await lostWrites('postgres', s.sourceUrl, stats.acks)).toEqual([])
  expect(await pgQuery(s.sourceUrl, 'SELECT slot_name FROM pg_replication_slots')).toEqual([])
  expect(await pgQuery(s.sourceUrl, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app'")).toEqual([
    {rolcanlogin: true},
  ])
}

/**
 * PostgreSQL after a cutover: none of the writer's transactions failed, every acknowledged write is on the target,
 * clients are on the target (`port`).
 */
export async function expectPgOnTarget(s: Scenario, stats: LoadStats, port: number): Promise<void> {
  expect(stats.failed, JSON.stringify(stats.errors)).toBe(0)
  await expectEveryWriteOn('postgres', s.targetUrl, stats)
  expect((await pgQuery(s.clientUrl, 'SELECT inet_server_port() AS p'))[0].p).toBe(port)
}

/** PostgreSQL after a cutover: the target's sequence was synced past every id written (no duplicate keys). */
export async function expectPgSequenceSynced(s: Scenario): Promise<void> {
  const seq = await pgQuery(s.targetUrl, 'SELECT last_value FROM writes_id_seq')
  const max = await pgQuery(s.targetUrl, 'SELECT max(id) AS m FROM writes')
  expect(Number(seq[0].last_value)).toBeGreaterThanOrEqual(Number(max[0].m))
}

/** PostgreSQL after finalize: no slot on either side (the target's read as its admin), no subscription on the source. */
export async function expectPgNothingLeft(s: Scenario): Promise<void> {
  expect(await pgQuery(s.sourceUrl, 'SELECT slot_name FROM pg_replication_slots')).toEqual([])
  expect(await pgQuery(s.targetAdminUrl, 'SELECT slot_name FROM pg_replication_slots')).toEqual([])
  expect(await pgQuery(s.sourceUrl, 'SELECT subname FROM pg_subscription')).toEqual([])
}

/**
 * MariaDB's wave made to fail its smoke test after cutover (smoke_expect): cutover, replicate and load were undone,
 * none failed; clients are back on the source (`port`), which takes writes and replicates from nothing. Returns the
 * writer's figures.
 */
export async function mariadbRollsBack(s: Scenario, lab: Lab, port: number): Promise<LoadStats> {
  const undone = ['cutover', 'replicate', 'load']
  const {stats} = await rollbackUnderLoad(s, lab, {...s.params, smoke_expect: 'not-this'}, {undone, failed: []})
  expect((await mysqlQuery(s.clientUrl, 'SELECT @@port AS p'))[0].p).toBe(port)
  expect((await mysqlQuery(s.sourceUrl, 'SELECT @@read_only AS r'))[0].r).toBe(0)
  expect(await mysqlQuery(s.sourceUrl, 'SHOW SLAVE STATUS')).toEqual([])
  return stats
}

/** MariaDB after a cutover: the source is read-only and replicates from the target (on `port`): the way back is open. */
export async function expectMariadbReplicatingBack(s: Scenario, port: number): Promise<void> {
  expect((await mysqlQuery(s.sourceUrl, 'SELECT @@read_only AS r'))[0].r).toBe(1)
  const st = (await mysqlQuery(s.sourceUrl, 'SHOW SLAVE STATUS'))[0]
  expect([st.Slave_IO_Running, st.Slave_SQL_Running, st.Master_Port]).toEqual(['Yes', 'Yes', port])
}
