// MariaDB end to end, on one pair of real servers behind HAProxy with a writer running throughout:
// 1. a verify that fails after cutover rolls back automatically: clients go back to the source through HAProxy
//    and the writes they made on the target came back with the reverse replication;
// 2. fixed and run again, the wave cuts over: every acknowledged write is on the target, the journal holds every step.
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import mysql from 'mysql2/promise'
import {setupMariadb, type Scenario} from '../../src/db/lab/scenarios.js'
import {lostWrites, startMariadbLoad} from '../../src/db/lab/load.js'
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
  const c = await mysql.createConnection({uri: url})
  try {
    return (await c.query(sql))[0] as any[]
  } finally {
    await c.end()
  }
}

const lab: Lab = {
  template: 'mariadb-gtid-replication',
  db: {host: '127.0.0.1', port: 0, name: 'app'},
  startLoad: startMariadbLoad,
}
let s: Scenario
/** The source's and the target's ports, reserved at run time. */
let SRC = 0
let DST = 0
beforeAll(async () => {
  s = await onLabPorts(setupMariadb)
  lab.db.port = SRC = s.servers[0].port
  DST = s.servers[1].port
}, 120_000)
afterAll(async () => {
  await s?.stop()
})

describe.sequential('mariadb gtid replication cutover', () => {
  test('a failing verify after cutover rolls back: clients on the source, nothing lost', {
    timeout: 180_000,
  }, async () => {
    const {r, stats} = await executeWaveUnderLoad(s, lab, {...s.params, smoke_expect: 'not-this'})
    expect(r.exitCode, r.stdout + r.stderr).toBe(3)
    const events = journal(s.planDir)
    expect(stepsWith(events, 'step-failed')).toContain('smoke-test')
    expect(stepsWith(events, 'rollback-succeeded')).toEqual(['cutover', 'replicate', 'load'])
    expect(stepsWith(events, 'rollback-failed')).toEqual([])
    expect((await q(s.clientUrl, 'SELECT @@port AS p'))[0].p).toBe(SRC)
    expect((await q(s.sourceUrl, 'SELECT @@read_only AS r'))[0].r).toBe(0)
    expect(await q(s.sourceUrl, 'SHOW SLAVE STATUS')).toEqual([])
    expect(await lostWrites('mariadb', s.sourceUrl, stats.acks)).toEqual([])
  })

  test('fixed and run again: cutover under load, zero lost, every step journaled', {timeout: 180_000}, async () => {
    const {r, stats} = await executeWaveUnderLoad(s, lab, s.params, {warmup: true})
    const events = lastRun(journal(s.planDir))
    expect(stepsWith(events, 'step-succeeded'), r.stdout + r.stderr).toEqual([
      'preflight',
      'dump',
      'load',
      'replicate',
      'wait-caught-up',
      'cutover-check',
      'approve-cutover',
      'cutover',
      'smoke-test',
      'reverse-replication-healthy',
    ])
    expect(events.some((e) => e.type === 'gate-waiting' && e.step === 'finalize')).toBe(true)
    expect(stats.committed).toBeGreaterThan(50)
    expect(await lostWrites('mariadb', s.targetUrl, stats.acks)).toEqual([])
    expect((await q(s.clientUrl, 'SELECT @@port AS p'))[0].p).toBe(DST)
    // The source is read-only and replicates from the target: the way back is open.
    expect((await q(s.sourceUrl, 'SELECT @@read_only AS r'))[0].r).toBe(1)
    const st = (await q(s.sourceUrl, 'SHOW SLAVE STATUS'))[0]
    expect([st.Slave_IO_Running, st.Slave_SQL_Running, st.Master_Port]).toEqual(['Yes', 'Yes', DST])

    // Finalize (short soak): the source stops replicating from the target.
    shortSoakTemplate(s.planDir, lab.template)
    const f = await migrate(s, ['execute', 'wave', '1', '--plan', s.planDir, '--approve', 'finalize'])
    expect(f.exitCode, f.stdout + f.stderr).toBe(0)
    expect(await q(s.sourceUrl, 'SHOW SLAVE STATUS')).toEqual([])
  })
})
