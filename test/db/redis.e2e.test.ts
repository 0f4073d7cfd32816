// Redis end to end, on one pair of real servers behind HAProxy with a writer running throughout:
// 1. a verify that fails after cutover rolls back automatically: clients go back to the source, and the keys they
//    wrote on the target in between came back with the reverse replication;
// 2. fixed and run again, the wave cuts over: every acknowledged write is on the target, the journal holds every step.
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {Redis} from 'ioredis'
import {setupRedis, type Scenario} from '../../src/db/lab/scenarios.js'
import {lostWrites, startRedisLoad} from '../../src/db/lab/load.js'
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

async function info(url: string, section = 'replication'): Promise<string> {
  const u = new URL(url)
  const r = new Redis({host: u.hostname, port: Number(u.port)})
  try {
    return await r.info(section)
  } finally {
    r.disconnect()
  }
}

const lab: Lab = {
  template: 'redis-replicaof',
  db: {host: '127.0.0.1', port: 0, name: 'cache'},
  startLoad: startRedisLoad,
}
let s: Scenario
/** The source's and the target's ports, reserved at run time. */
let SRC = 0
let DST = 0
beforeAll(async () => {
  s = await onLabPorts(setupRedis)
  lab.db.port = SRC = s.servers[0].port
  DST = s.servers[1].port
}, 120_000)
afterAll(async () => {
  await s?.stop()
})

describe.sequential('redis replicaof cutover', () => {
  test('a failing verify after cutover rolls back: clients on the source, nothing lost', {
    timeout: 180_000,
  }, async () => {
    const {r, stats} = await executeWaveUnderLoad(s, lab, {...s.params, smoke_expect: 'not-this'})
    expect(r.exitCode, r.stdout + r.stderr).toBe(3)
    const events = journal(s.planDir)
    expect(stepsWith(events, 'step-failed')).toContain('smoke-test')
    expect(stepsWith(events, 'rollback-succeeded')).toEqual(['cutover', 'replicate'])
    expect(stepsWith(events, 'rollback-failed')).toEqual([])
    expect(await info(s.sourceUrl)).toContain('role:master')
    expect(await info(s.clientUrl, 'server')).toContain(`tcp_port:${SRC}`)
    // The replicate step's own rollback ended the target's replication last.
    expect(await info(s.targetUrl)).toContain('role:master')
    expect(await lostWrites('redis', s.sourceUrl, stats.acks)).toEqual([])
  })

  test('fixed and run again: cutover under load, zero lost, every step journaled', {timeout: 180_000}, async () => {
    const {r, stats} = await executeWaveUnderLoad(s, lab, s.params, {warmup: true})
    const events = lastRun(journal(s.planDir))
    expect(stepsWith(events, 'step-succeeded'), r.stdout + r.stderr).toEqual([
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
    expect(stats.committed).toBeGreaterThan(50)
    expect(await lostWrites('redis', s.targetUrl, stats.acks)).toEqual([])
    expect(await info(s.targetUrl)).toContain('role:master')
    expect(await info(s.sourceUrl)).toMatch(
      new RegExp(`role:slave[\\s\\S]*master_port:${DST}[\\s\\S]*master_link_status:up`),
    )
    expect(await info(s.clientUrl, 'server')).toContain(`tcp_port:${DST}`)

    // Finalize (short soak): the source stops replicating from the target.
    shortSoakTemplate(s.planDir, lab.template)
    const f = await migrate(s, ['execute', 'wave', '1', '--plan', s.planDir, '--approve', 'finalize'])
    expect(f.exitCode, f.stdout + f.stderr).toBe(0)
    expect(await info(s.sourceUrl)).toContain('role:master')
  })
})
