// PostgreSQL end to end, on one pair of real servers behind PgBouncer with a writer running throughout:
// 1. `migrate execute wave 1` with a verify that fails after cutover rolls back automatically: clients are on the
//    source again, and nothing written (also on the target, in between) is lost;
// 2. fixed and run again, the wave cuts over: every acknowledged write is on the target, the client saw no failed
//    transaction, and the journal holds every step; then finalize leaves no slot behind.
import {describe, expect, test} from 'vitest'
import {setupPostgres, type Scenario} from '../../src/db/lab/scenarios.js'
import {startPgLoad} from '../../src/db/lab/load.js'
import {
  cutoverUnderLoad,
  expectPgNothingLeft,
  expectPgOnTarget,
  expectPgRollsBack,
  expectPgSequenceSynced,
  finalizeWave,
  labForFile,
  labPorts,
} from './helpers.js'

let s: Scenario
const lab = labForFile(
  {template: 'postgres-logical-replication', name: 'app', startLoad: startPgLoad},
  (b) => setupPostgres(labPorts(b)),
  (x) => (s = x),
)
/** The source's and the target's ports, reserved at run time. */
const SRC = () => s.servers[0].port
const DST = () => s.servers[1].port

describe.sequential('postgres logical replication cutover', () => {
  test('a failing verify after cutover rolls back: clients on the source, nothing lost', {
    timeout: 180_000,
  }, async () => {
    // Every step with a rollback command was undone, newest first; clients are back on the source, and every
    // acknowledged write (also those made on the target) is there.
    await expectPgRollsBack(s, lab, SRC())
  })

  test('fixed and run again: cutover under load, zero lost, zero failed, every step journaled, finalize', {
    timeout: 180_000,
  }, async () => {
    const {stats, events} = await cutoverUnderLoad(s, lab, s.params, [
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
    // Clients are on the target; sequences were synced (no duplicate keys), writes flow back to the source.
    await expectPgOnTarget(s, stats, DST())
    await expectPgSequenceSynced(s)

    // Finalize with a short soak (a plan-local copy of the template): the reverse path and every slot are gone.
    await finalizeWave(s, lab)
    await expectPgNothingLeft(s)
  })
})
