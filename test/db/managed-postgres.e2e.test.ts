// PostgreSQL 15 → RDS/Aurora PostgreSQL end to end, against a real PostgreSQL 17 whose master user is no superuser
// but a member of rds_superuser (pg_create_subscription), PgBouncer in front and a writer running throughout:
// 0. pre-flight knows the target: the self-managed path's PG_TARGET_NOT_SUPERUSER no longer blocks the managed path,
//    but a target that cannot publish (rds.logical_replication = 0) or a user that cannot subscribe is blocked;
//    a subscription without the source's password fails as on RDS (password_required);
// 1. a failing smoke test after cutover rolls back through the reverse replication: nothing lost;
// 2. run again: cutover under load, zero lost, zero failed; finalize leaves no slot behind.
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import pg from 'pg'
import {setupRdsPostgres} from '../../src/db/lab/managed.js'
import type {Scenario} from '../../src/db/lab/scenarios.js'
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

let s: Scenario
let lab: Lab
let base: number
beforeAll(async () => {
  s = await onLabPorts(setupRdsPostgres)
  base = s.servers[0].port
  lab = {template: 'postgres-rds', db: {host: '127.0.0.1', port: base, name: 'app'}, startLoad: startPgLoad}
}, 120_000)
afterAll(async () => {
  await s?.stop()
})

const blockers = (out: string) => {
  const j = JSON.parse(out)
  return ((j.result ?? j.error?.data)?.findings ?? [])
    .filter((f: {severity: string}) => f.severity === 'blocker')
    .map((f: {code: string}) => f.code)
}
const preflight = (service: string, target = s.targetUrl) =>
  migrate(s, [
    'db',
    'preflight',
    '--json',
    '--engine',
    'postgres',
    '--target-service',
    service,
    '--source',
    s.sourceUrl,
    '--target',
    target,
  ])

describe.sequential('postgres 15 → rds postgres 17', () => {
  test('pre-flight: the master user may subscribe; a target that cannot publish or subscribe is blocked', {
    timeout: 60_000,
  }, async () => {
    const self = await preflight('self-managed')
    expect(blockers(self.stdout)).toEqual(['PG_TARGET_NOT_SUPERUSER'])
    expect(self.stdout).toMatch(/postgres-rds/)
    for (const service of ['rds', 'auto']) {
      const ok = await preflight(service)
      expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0)
      expect(blockers(ok.stdout)).toEqual([])
    }
    // Neighbours: rds.logical_replication off (the way back impossible); a user outside rds_superuser.
    await q(s.targetAdminUrl, 'ALTER SYSTEM SET "rds.logical_replication" = 0')
    await q(s.targetAdminUrl, 'SELECT pg_reload_conf()')
    try {
      expect(blockers((await preflight('rds')).stdout)).toEqual(['PG_RDS_LOGICAL_REPLICATION_OFF'])
    } finally {
      await q(s.targetAdminUrl, 'ALTER SYSTEM RESET "rds.logical_replication"')
      await q(s.targetAdminUrl, 'SELECT pg_reload_conf()')
    }
    await q(s.targetAdminUrl, 'CREATE ROLE plain LOGIN')
    try {
      const plain = blockers((await preflight('rds', s.targetUrl.replace('master@', 'plain@'))).stdout).sort()
      expect(plain).toEqual(['PG_TARGET_CANNOT_SUBSCRIBE', 'PG_TARGET_NO_REPLICATION'])
    } finally {
      await q(s.targetAdminUrl, 'DROP ROLE plain')
    }
  })

  test('the master user cannot subscribe without the source password, nor publish FOR ALL TABLES', async () => {
    await expect(
      q(s.targetUrl, `CREATE SUBSCRIPTION nopw CONNECTION '${s.params.source_conninfo}' PUBLICATION x`),
    ).rejects.toThrow(/password is required|password authentication failed|no password/)
    await expect(q(s.targetUrl, 'CREATE PUBLICATION allp FOR ALL TABLES')).rejects.toThrow(/superuser/)
  })

  test('a failing smoke test after cutover rolls back: clients on the source, nothing lost', {
    timeout: 180_000,
  }, async () => {
    const {r, stats} = await executeWaveUnderLoad(s, lab, {...s.params, smoke_expect: 'not-this'})
    expect(r.exitCode, r.stdout + r.stderr).toBe(3)
    const events = journal(s.planDir)
    expect(stepsWith(events, 'step-failed')).toContain('smoke-test')
    expect(stepsWith(events, 'rollback-succeeded')).toEqual(['cutover', 'subscription', 'publication', 'schema-load'])
    expect(stepsWith(events, 'rollback-failed')).toEqual([])
    expect((await q(s.clientUrl, 'SELECT inet_server_port() AS p'))[0].p).toBe(base)
    expect(stats.failed, JSON.stringify(stats.errors)).toBe(0)
    expect(await lostWrites('postgres', s.sourceUrl, stats.acks)).toEqual([])
    expect(await q(s.sourceUrl, 'SELECT slot_name FROM pg_replication_slots')).toEqual([])
    expect(await q(s.sourceUrl, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app'")).toEqual([
      {rolcanlogin: true},
    ])
  })

  test('run again: cutover under load, zero lost, zero failed; finalize leaves no slot', {
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
      'approve-cutover',
      'cutover',
      'smoke-test',
      'reverse-replication-healthy',
    ])
    expect(stats.failed, JSON.stringify(stats.errors)).toBe(0)
    expect(stats.committed).toBeGreaterThan(50)
    expect(await lostWrites('postgres', s.targetUrl, stats.acks)).toEqual([])
    expect((await q(s.clientUrl, 'SELECT inet_server_port() AS p'))[0].p).toBe(base + 1)
    // The subscription and the reverse publication belong to the master user, not to a superuser.
    expect(
      await q(
        s.targetAdminUrl,
        'SELECT pubname, r.rolname, r.rolsuper FROM pg_publication p JOIN pg_roles r ON r.oid = p.pubowner',
      ),
    ).toEqual([{pubname: 'mig_back_pub', rolname: 'master', rolsuper: false}])
    const seq = await q(s.targetUrl, 'SELECT last_value FROM writes_id_seq')
    const max = await q(s.targetUrl, 'SELECT max(id) AS m FROM writes')
    expect(Number(seq[0].last_value)).toBeGreaterThanOrEqual(Number(max[0].m))

    shortSoakTemplate(s.planDir, lab.template)
    const f = await migrate(s, ['execute', 'wave', '1', '--plan', s.planDir, '--approve', 'finalize'])
    expect(f.exitCode, f.stdout + f.stderr).toBe(0)
    expect(await q(s.sourceUrl, 'SELECT slot_name FROM pg_replication_slots')).toEqual([])
    expect(await q(s.targetAdminUrl, 'SELECT slot_name FROM pg_replication_slots')).toEqual([])
    expect(await q(s.sourceUrl, 'SELECT subname FROM pg_subscription')).toEqual([])
  })
})
