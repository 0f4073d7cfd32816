// MariaDB → RDS for MariaDB end to end, against a real mariadbd whose master user has exactly RDS's privileges and
// RDS's mysql.rds_* procedures (SQL SECURITY DEFINER), HAProxy in front and a writer running throughout:
// 0. the stand-in refuses what RDS refuses; a runbook that still uses CHANGE MASTER fails and rolls back;
// 1. pre-flight knows the target: the self-managed path is blocked on it, the managed path passes, and its blockers
//    (strict GTID in one domain, foreign DEFINERs, no way-back user) are found before anything changes;
// 2. a failing smoke test after cutover rolls back through the reverse replication: nothing lost;
// 3. run again: cutover under load, zero lost writes, the source replicates back from RDS; finalize stops that.
import {describe, expect, test} from 'vitest'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {parse, stringify} from 'yaml'
import {setupRdsMariadb} from '../../src/db/lab/managed.js'
import type {Scenario} from '../../src/db/lab/scenarios.js'
import {writePlanDir} from '../../src/db/lab/scenarios.js'
import {startMariadbLoad} from '../../src/db/lab/load.js'
import {mariadb} from '../../src/db/lab/servers.js'
import {
  ROOT,
  blockerCodes as codes,
  cutoverUnderLoad,
  dbPreflight,
  expectEveryWriteOn,
  expectMariadbReplicatingBack,
  finalizeWave,
  journal,
  labForFile,
  labPorts,
  lastRun,
  mariadbRollsBack,
  migrate,
  mysqlQuery as q,
  stepsWith,
} from './helpers.js'

let s: Scenario
const lab = labForFile(
  {template: 'mariadb-rds', name: 'app', startLoad: startMariadbLoad},
  (b) => setupRdsMariadb(labPorts(b)),
  (x) => (s = x),
)
/** The source's port, reserved at run time; the target's is the next. */
const base = () => lab.db.port

const target = () => `mysql://admin@127.0.0.1:${base() + 1}/`
const passwordEnv = ['--target-password-env', 'MIGRATE_RDS_PASSWORD']
const preflight = (service: string, extra: string[] = []) =>
  dbPreflight(s, {engine: 'mariadb', service, target: target()}, [...passwordEnv, ...extra])

describe.sequential('mariadb → rds for mariadb', () => {
  test('the master user is refused what RDS withholds', async () => {
    for (const sql of [
      "CHANGE MASTER TO MASTER_HOST='127.0.0.1'",
      'SET GLOBAL read_only = 1',
      'SET SESSION sql_log_bin = 0',
      'SHOW SLAVE STATUS',
      "SET GLOBAL gtid_slave_pos = ''",
      'STOP SLAVE',
    ])
      await expect(q(s.targetUrl.replace(/app$/, ''), sql), sql).rejects.toMatchObject({errno: 1227})
    expect(await q(s.targetUrl.replace(/app$/, ''), 'CALL mysql.rds_replica_status()')).toEqual([[], expect.anything()])
  })

  test('pre-flight: self-managed path blocked on RDS, managed path passes, its blockers are found', {
    timeout: 60_000,
  }, async () => {
    const self = await preflight('self-managed')
    expect(self.exitCode, self.stdout).toBe(1)
    expect(codes(self.stdout)).toEqual(['MARIADB_TARGET_PRIVILEGES'])
    expect(
      JSON.parse(self.stdout).error.data.findings.find((f: {code: string}) => f.code === 'MARIADB_TARGET_PRIVILEGES')
        .hint,
    ).toMatch(/mariadb-rds/)
    // Without --target-service: the default is the self-managed path, so the old template's pre-flight blocks too.
    const dflt = await dbPreflight(s, {engine: 'mariadb', target: target()}, passwordEnv)
    expect(dflt.exitCode).toBe(1)
    for (const service of ['rds', 'auto']) {
      const ok = await preflight(service, ['--repl-user', 'repl'])
      expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0)
      expect(codes(ok.stdout)).toEqual([])
    }
    // The managed path against a self-managed server (root on the source itself): no procedures.
    const notRds = await dbPreflight(s, {
      engine: 'mariadb',
      service: 'rds',
      target: `mysql://root@127.0.0.1:${base()}/`,
    })
    expect(codes(notRds.stdout)).toContain('RDS_PROCEDURES_MISSING')
    // Neighbours: strict GTID mode in the same domain, a view whose DEFINER the master user cannot be, no way-back user.
    await mariadb(s.servers[1], 'SET GLOBAL gtid_strict_mode = 1')
    await mariadb(
      s.servers[0],
      'SET sql_log_bin = 0; CREATE DEFINER = root@localhost VIEW app.big_orders AS SELECT * FROM app.orders WHERE amount > 50; SET sql_log_bin = 1',
    )
    try {
      const bad = await preflight('rds', ['--repl-user', 'nobody'])
      expect(bad.exitCode).toBe(1)
      expect(codes(bad.stdout).sort()).toEqual([
        'RDS_DEFINER',
        'RDS_GTID_STRICT_SAME_DOMAIN',
        'RDS_NO_REVERSE_REPL_USER',
      ])
    } finally {
      await mariadb(s.servers[1], 'SET GLOBAL gtid_strict_mode = 0')
      await mariadb(s.servers[0], 'SET sql_log_bin = 0; DROP VIEW app.big_orders; SET sql_log_bin = 1')
    }
  })

  test('a runbook that still says CHANGE MASTER fails on RDS and rolls back', {timeout: 120_000}, async () => {
    const tpl = parse(readFileSync(path.join(ROOT, 'templates', 'mariadb-rds.yaml'), 'utf8'))
    const rep = tpl.steps.find((x: {id: string}) => x.id === 'replicate')
    rep.run = [
      'migrate',
      'db',
      'mariadb-replicate',
      '--source',
      'mysql://root@{{ params.source_host }}:{{ params.source_port }}/',
      '--target',
      'mysql://{{ params.master_user }}@{{ params.target_endpoint }}:{{ params.target_port }}/',
      '--repl-user',
      '{{ params.repl_user }}',
      '--target-password-env',
      '{{ params.target_password_env }}',
    ]
    // A plan directory of its own, so the later tests start from a fresh journal.
    const dir = path.join(path.dirname(s.planDir), 'plan-withheld')
    mkdirSync(path.join(dir, 'templates'), {recursive: true})
    writeFileSync(path.join(dir, 'templates', 'mariadb-rds.yaml'), stringify(tpl))
    writePlanDir(dir, 'mariadb', 'mariadb-rds', s.params, lab.db)
    const r = await migrate(s, ['execute', 'wave', '1', '--plan', dir, '--yes'])
    expect(r.exitCode, r.stdout + r.stderr).not.toBe(0)
    const events = lastRun(journal(dir))
    expect(stepsWith(events, 'step-failed')).toEqual(['replicate'])
    expect(JSON.stringify(events.filter((e) => e.type === 'step-failed'))).toMatch(/REPLICATION SLAVE ADMIN/)
    expect(stepsWith(events, 'rollback-succeeded')).toContain('load')
    expect(await q(`mysql://root@127.0.0.1:${base() + 1}/`, "SHOW DATABASES LIKE 'app'")).toEqual([])
  })

  test('a failing smoke test after cutover rolls back: clients on the source, nothing lost', {
    timeout: 180_000,
  }, async () => {
    const stats = await mariadbRollsBack(s, lab, base())
    // The fail-back locked the app account on RDS; that lock came to the source through the way back and is lifted there.
    expect((await q(s.clientUrl, 'SELECT CURRENT_USER() AS u'))[0].u).toBe('app@127.0.0.1')
    await expect(q(`mysql://app@127.0.0.1:${base() + 1}/app`, 'SELECT 1')).rejects.toThrow(/locked/)
    await expectEveryWriteOn('mariadb', s.sourceUrl, stats)
  })

  test('run again: cutover under load, zero lost, the way back open; finalize closes it', {
    timeout: 180_000,
  }, async () => {
    const {stats} = await cutoverUnderLoad(s, lab, s.params, [
      'preflight',
      'dump',
      'load',
      'replicate',
      'wait-caught-up',
      'approve-cutover',
      'cutover',
      'smoke-test',
      'reverse-replication-healthy',
    ])
    await expectEveryWriteOn('mariadb', s.targetUrl, stats)
    expect((await q(s.clientUrl, 'SELECT @@port AS p'))[0].p).toBe(base() + 1)
    // RDS no longer replicates (rds_reset_external_master); the source replicates from RDS and is read-only.
    expect(await q(s.targetUrl, 'CALL mysql.rds_replica_status()')).toEqual([[], expect.anything()])
    await expectMariadbReplicatingBack(s, base() + 1)
    const retention = (await q(s.targetUrl, 'CALL mysql.rds_show_configuration()'))[0].find(
      (x: {name: string}) => x.name === 'binlog retention hours',
    )
    expect(retention.value).toBe('24')
    // The app accounts an earlier fail-back locked on RDS are open again.
    expect((await q(s.clientUrl, 'SELECT CURRENT_USER() AS u'))[0].u).toBe('app@127.0.0.1')

    await finalizeWave(s, lab)
    expect(await q(s.sourceUrl, 'SHOW SLAVE STATUS')).toEqual([])
  })
})
