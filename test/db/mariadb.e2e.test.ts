// MariaDB end to end, on one pair of real servers behind HAProxy with a writer running throughout:
// 1. a verify that fails after cutover rolls back automatically: clients go back to the source through HAProxy
//    and the writes they made on the target came back with the reverse replication;
// 2. fixed and run again, the wave cuts over: every acknowledged write is on the target, the journal holds every step.
import {describe, expect, test} from 'vitest'
import {setupMariadb, type Scenario} from '../../src/db/lab/scenarios.js'
import {lostWrites, startMariadbLoad} from '../../src/db/lab/load.js'
import {
  cutoverUnderLoad,
  expectEveryWriteOn,
  expectMariadbReplicatingBack,
  finalizeWave,
  labForFile,
  labPorts,
  mariadbRollsBack,
  mysqlQuery as q,
} from './helpers.js'

let s: Scenario
const lab = labForFile(
  {template: 'mariadb-gtid-replication', name: 'app', startLoad: startMariadbLoad},
  (b) => setupMariadb(labPorts(b)),
  (x) => (s = x),
)
/** The source's and the target's ports, reserved at run time. */
const SRC = () => s.servers[0].port
const DST = () => s.servers[1].port

describe.sequential('mariadb gtid replication cutover', () => {
  test('a failing verify after cutover rolls back: clients on the source, nothing lost', {
    timeout: 180_000,
  }, async () => {
    const stats = await mariadbRollsBack(s, lab, SRC())
    expect(await lostWrites('mariadb', s.sourceUrl, stats.acks)).toEqual([])
  })

  test('fixed and run again: cutover under load, zero lost, every step journaled', {timeout: 180_000}, async () => {
    const {stats, events} = await cutoverUnderLoad(s, lab, s.params, [
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
    await expectEveryWriteOn('mariadb', s.targetUrl, stats)
    expect((await q(s.clientUrl, 'SELECT @@port AS p'))[0].p).toBe(DST())
    // The source is read-only and replicates from the target: the way back is open.
    await expectMariadbReplicatingBack(s, DST())

    // Finalize (short soak): the source stops replicating from the target.
    await finalizeWave(s, lab)
    expect(await q(s.sourceUrl, 'SHOW SLAVE STATUS')).toEqual([])
  })
})
