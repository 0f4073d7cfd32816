// PostgreSQL end to end, on one pair of real servers behind PgBouncer with a writer running throughout:
// 1. `migrate execute wave 1` with a verify that fails after cutover rolls back automatically: clients are on the
//    source again, and nothing written (also on the target, in between) is lost;
// 2. fixed and run again, the wave cuts over: every acknowledged write is on the target, the client saw no failed
//    transaction, and the journal holds every step; then finalize leaves no slot behind.
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import pg from 'pg'
import {setupPostgres, type Scenario} from '../../src/db/lab/scenarios.js'
import {lostWrites, startPgLoad} from '../../src/db/lab/load.js'
import {
  executeWaveUnderLoad,
  journal,
  lastRun,
  migrate,
  shortSoakTemplate,
  stepsWith,
  type Lab,
  onLabPorts,
} from './helpers.js'

async function q(url: string, sql: string): Promise<any[]> {
  const c = new pg.Client({connectionString: url})
  await c.connect()
  try {
    return (await c.query(sql)).rows
  } finally {
    await c.end()
  }
}

const lab: Lab = {
  template: 'postgres-logical-replication',
  db: {host: '127.0.0.1', port: 0, name: 'app'},
  startLoad: startPgLoad,
}
let s: Scenario
/** The source's and the target's ports, reserved at run time. */
let SRC = 0
let DST = 0
beforeAll(async () => {
  s = await onLabPorts(setupPostgres)
  lab.db.port = SRC = s.servers[0].port
  DST = s.servers[1].port
}, 120_000)
afterAll(async () => {
  await s?.stop()
})

describe.sequential('postgres logical replication cutover', () => {
  test('a failing verify after cutover rolls back: clients on the source, nothing lost', {
    timeout: 180_000,
  }, async () => {
    const {r, stats} = await executeWaveUnderLoad(s, lab, {...s.params, smoke_expect: 'not-this'})
    expect(r.exitCode, r.stdout + r.stderr).toBe(3)
    const events = journal(s.planDir)
    expect(stepsWith(events, 'step-failed')).toContain('smoke-test')
    // Every step with a rollback command was undone, newest first.
    expect(stepsWith(events, 'rollback-succeeded')).toEqual(['cutover', 'subscription', 'publication', 'schema-load'])
    expect(stepsWith(events, 'rollback-failed')).toEqual([])
    // Clients are back on the source, and every acknowledged write (also those made on the target) is there.
    expect((await q(s.clientUrl, 'SELECT inet_server_port() AS p'))[0].p).toBe(SRC)
    expect(stats.failed, JSON.stringify(stats.errors)).toBe(0)
    expect(await lostWrites('postgres', s.sourceUrl, stats.acks)).toEqual([])
    expect(await q(s.sourceUrl, 'SELECT slot_name FROM pg_replication_slots')).toEqual([])
    expect(await q(s.sourceUrl, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app'")).toEqual([
      {rolcanlogin: true},
    ])
  })

  test('fixed and run again: cutover under load, zero lost, zero failed, every step journaled, finalize', {
    timeout: 180_000,
  }, async () => {
    const {r, stats} = await executeWaveUnderLoad(s, lab, s.params, {warmup: true})
    const events = lastRun(journal(s.planDir))
    expect(stepsWith(events, 'step-succeeded'), r.stdout + r.stderr).toEqual([
      'preflight',
      'schema-dump',
      'schema-load',
      'publication',
      'subscription',
      'wait-initial-copy',
      'wait-lag',
      'cutover-check',
      'approve-cutover',
      'cutover',
      'smoke-test',
      'reverse-replication-healthy',
    ])
    // finalize is a point of no return: --yes does not approve it.
    expect(events.some((e) => e.type === 'gate-waiting' && e.step === 'finalize')).toBe(true)
    expect(stats.failed, JSON.stringify(stats.errors)).toBe(0)
    expect(stats.committed).toBeGreaterThan(50)
    expect(await lostWrites('postgres', s.targetUrl, stats.acks)).toEqual([])
    // Clients are on the target; sequences were synced (no duplicate keys), writes flow back to the source.
    expect((await q(s.clientUrl, 'SELECT inet_server_port() AS p'))[0].p).toBe(DST)
    const seq = await q(s.targetUrl, 'SELECT last_value FROM writes_id_seq')
    const max = await q(s.targetUrl, 'SELECT max(id) AS m FROM writes')
    expect(Number(seq[0].last_value)).toBeGreaterThanOrEqual(Number(max[0].m))

    // Finalize with a short soak (a plan-local copy of the template): the reverse path and every slot are gone.
    shortSoakTemplate(s.planDir, lab.template)
    const f = await migrate(s, ['execute', 'wave', '1', '--plan', s.planDir, '--approve', 'finalize'])
    expect(f.exitCode, f.stdout + f.stderr).toBe(0)
    expect(await q(s.sourceUrl, 'SELECT slot_name FROM pg_replication_slots')).toEqual([])
    expect(await q(s.targetUrl, 'SELECT slot_name FROM pg_replication_slots')).toEqual([])
    expect(await q(s.sourceUrl, 'SELECT subname FROM pg_subscription')).toEqual([])
  })
})
