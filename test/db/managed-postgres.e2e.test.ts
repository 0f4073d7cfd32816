// PostgreSQL 15 → RDS/Aurora PostgreSQL end to end, against a real PostgreSQL 17 whose master user is no superuser
// but a member of rds_superuser (pg_create_subscription), PgBouncer in front and a writer running throughout:
// 0. pre-flight knows the target: the self-managed path's PG_TARGET_NOT_SUPERUSER no longer blocks the managed path,
//    but a target that cannot publish (rds.logical_replication = 0) or a user that cannot subscribe is blocked;
//    a subscription without the source's password fails as on RDS (password_required);
// 1. a failing smoke test after cutover rolls back through the reverse replication: nothing lost;
// 2. run again: cutover under load, zero lost, zero failed; finalize leaves no slot behind.
import {describe, expect, test} from 'vitest'
import {setupRdsPostgres} from '../../src/db/lab/managed.js'
import type {Scenario} from '../../src/db/lab/scenarios.js'
import {startPgLoad} from '../../src/db/lab/load.js'
import {
  blockerCodes as blockers,
  cutoverUnderLoad,
  dbPreflight,
  expectPgNothingLeft,
  expectPgOnTarget,
  expectPgRollsBack,
  expectPgSequenceSynced,
  finalizeWave,
  labForFile,
  labPorts,
  pgQuery as q,
} from './helpers.js'

let s: Scenario
const lab = labForFile(
  {template: 'postgres-rds', name: 'app', startLoad: startPgLoad},
  (b) => setupRdsPostgres(labPorts(b)),
  (x) => (s = x),
)
/** The source's port, reserved at run time; the target's is the next. */
const base = () => lab.db.port

const preflight = (service: string, target = s.targetUrl) => dbPreflight(s, {engine: 'postgres', service, target})

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
    await expectPgRollsBack(s, lab, base())
  })

  test('run again: cutover under load, zero lost, zero failed; finalize leaves no slot', {
    timeout: 180_000,
  }, async () => {
    const {stats} = await cutoverUnderLoad(s, lab, s.params, [
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
    await expectPgOnTarget(s, stats, base() + 1)
    // The subscription and the reverse publication belong to the master user, not to a superuser.
    expect(
      await q(
        s.targetAdminUrl,
        'SELECT pubname, r.rolname, r.rolsuper FROM pg_publication p JOIN pg_roles r ON r.oid = p.pubowner',
      ),
    ).toEqual([{pubname: 'mig_back_pub', rolname: 'master', rolsuper: false}])
    await expectPgSequenceSynced(s)

    await finalizeWave(s, lab)
    await expectPgNothingLeft(s)
  })
})
