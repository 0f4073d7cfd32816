// Redis end to end, on one pair of real servers behind HAProxy with a writer running throughout:
// 1. a verify that fails after cutover rolls back automatically: clients go back to the source, and the keys they
//    wrote on the target in between came back with the reverse replication;
// 2. fixed and run again, the wave cuts over: every acknowledged write is on the target, the journal holds every step.
import {describe, expect, test} from 'vitest'
import {Redis} from 'ioredis'
import {setupRedis, type Scenario} from '../../src/db/lab/scenarios.js'
import {lostWrites, startRedisLoad} from '../../src/db/lab/load.js'
import {cutoverUnderLoad, expectEveryWriteOn, finalizeWave, labForFile, labPorts, rollbackUnderLoad} from './helpers.js'

async function info(url: string, section = 'replication'): Promise<string> {
  const u = new URL(url)
  const r = new Redis({host: u.hostname, port: Number(u.port)})
  try {
    return await r.info(section)
  } finally {
    r.disconnect()
  }
}

let s: Scenario
const lab = labForFile(
  {template: 'redis-replicaof', name: 'cache', startLoad: startRedisLoad},
  (b) => setupRedis(labPorts(b)),
  (x) => (s = x),
)
/** The source's and the target's ports, reserved at run time. */
const SRC = () => s.servers[0].port
const DST = () => s.servers[1].port

describe.sequential('redis replicaof cutover', () => {
  test('a failing verify after cutover rolls back: clients on the source, nothing lost', {
    timeout: 180_000,
  }, async () => {
    const params = {...s.params, smoke_expect: 'not-this'}
    const {stats} = await rollbackUnderLoad(s, lab, params, {undone: ['cutover', 'replicate'], failed: []})
    expect(await info(s.sourceUrl)).toContain('role:master')
    expect(await info(s.clientUrl, 'server')).toContain(`tcp_port:${SRC()}`)
    // The replicate step's own rollback ended the target's replication last.
    expect(await info(s.targetUrl)).toContain('role:master')
    expect(await lostWrites('redis', s.sourceUrl, stats.acks)).toEqual([])
  })

  test('fixed and run again: cutover under load, zero lost, every step journaled', {timeout: 180_000}, async () => {
    const {stats, events} = await cutoverUnderLoad(s, lab, s.params, [
      'preflight',
      'replicate',
      'wait-link-up',
      'wait-lag',
      'cutover-check',
      'approve-cutover',
      'cutover',
      'smoke-test',
      'reverse-replication-healthy',
    ])
    expect(events.some((e) => e.type === 'gate-waiting' && e.step === 'finalize')).toBe(true)
    await expectEveryWriteOn('redis', s.targetUrl, stats)
    expect(await info(s.targetUrl)).toContain('role:master')
    expect(await info(s.sourceUrl)).toMatch(
      new RegExp(`role:slave[\\s\\S]*master_port:${DST()}[\\s\\S]*master_link_status:up`),
    )
    expect(await info(s.clientUrl, 'server')).toContain(`tcp_port:${DST()}`)

    // Finalize (short soak): the source stops replicating from the target.
    await finalizeWave(s, lab)
    expect(await info(s.sourceUrl)).toContain('role:master')
  })
})
