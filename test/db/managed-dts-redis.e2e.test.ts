// Redis → Tair through DTS end to end: `migrate` calls the DTS API (signed, through @alicloud/openapi-core) on a
// local endpoint that moves data for real into a Redis whose REPLICAOF, SLAVEOF and CONFIG clients cannot run (as on
// Tair); HAProxy in front and a writer running throughout.
// 0. the replicaof path is blocked before anything changes; DTS refuses a reverse task for Redis, and pre-flight says
//    what a rollback after cutover is instead;
// 1. a failing smoke test after cutover rolls back by copying the keys back: nothing acknowledged is lost;
// 2. a new DTS job: cutover under load, zero lost writes; finalize stops the job.
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {lostWrites, startRedisLoad} from '../../src/db/lab/load.js'
import {onFreePorts} from '../helpers/ports.js'
import {executeWaveUnderLoad, journal, lastRun, migrate, shortSoakTemplate, stepsWith, type Lab} from './helpers.js'
import {type DtsScenario, setupDtsRedis} from './managed-dts-helpers.js'

let s: DtsScenario
let lab: Lab
beforeAll(async () => {
  let base = 0
  s = await onFreePorts(4, (b) => setupDtsRedis((base = b)))
  lab = {template: 'alicloud-dts-redis', db: {host: '127.0.0.1', port: base, name: 'cache'}, startLoad: startRedisLoad}
}, 120_000)
afterAll(async () => {
  await s?.stop()
})

async function role(url: string): Promise<string> {
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
    return String(((await r.call('ROLE')) as unknown[])[0])
  } finally {
    r.disconnect()
  }
}

describe.sequential('redis → tair through dts', () => {
  test('the replicaof path is blocked on Tair; pre-flight of the DTS path passes and says what rollback is', {
    timeout: 60_000,
  }, async () => {
    const p = await migrate(s, [
      'db',
      'preflight',
      '--json',
      '--engine',
      'redis',
      '--source',
      s.sourceUrl,
      '--target',
      s.targetUrl,
    ])
    expect(p.exitCode).toBe(1)
    const d = await migrate(s, [
      'db',
      'dts-preflight',
      '--json',
      '--engine',
      'redis',
      '--dts-job-id',
      'job-1',
      '--region',
      'ap-southeast-5',
      '--endpoint',
      s.fixture.host,
      '--source',
      s.sourceUrl,
      '--target',
      s.targetUrl,
    ])
    expect(d.exitCode, d.stdout + d.stderr).toBe(0)
    expect(JSON.parse(d.stdout).result.findings.map((f: {code: string}) => f.code)).toEqual([
      'DTS_JOB',
      'DTS_NO_REVERSE',
    ])
    const pg = await migrate(s, [
      'db',
      'dts-preflight',
      '--json',
      '--engine',
      'redis',
      '--dts-job-id',
      'job-1',
      '--region',
      'ap-southeast-5',
      '--endpoint',
      s.fixture.host,
      '--source',
      'redis://127.0.0.1:1',
      '--target',
      s.targetUrl,
    ])
    expect(
      JSON.parse(pg.stdout)
        .error.data.findings.filter((f: {severity: string}) => f.severity === 'blocker')
        .map((f: {code: string}) => f.code),
    ).toEqual(['DTS_SOURCE_UNREACHABLE'])
  })

  test('a failing smoke test after cutover rolls back by copying keys back: nothing lost', {
    timeout: 180_000,
  }, async () => {
    const {r, stats} = await executeWaveUnderLoad(s, lab, {...s.params, app_url: s.params.source_url})
    expect(r.exitCode, r.stdout + r.stderr).toBe(3)
    const events = journal(s.planDir)
    expect(stepsWith(events, 'step-failed')).toContain('smoke-test')
    expect(stepsWith(events, 'rollback-succeeded')).toEqual(['cutover', 'replicate'])
    expect(stats.committed).toBeGreaterThan(50)
    expect(await lostWrites('redis', s.sourceUrl, stats.acks)).toEqual([])
    expect(s.fixture.jobs.get('job-1')?.status).toBe('Finished')
    expect(s.fixture.requests.map((x) => x.action)).not.toContain('CreateReverseDtsJob')
  })

  test('a new DTS job: cutover under load, zero lost; finalize', {timeout: 180_000}, async () => {
    const {r, stats} = await executeWaveUnderLoad(s, lab, {...s.params, dts_job_id: 'job-2'}, {warmup: true})
    const events = lastRun(journal(s.planDir))
    expect(
      stepsWith(events, 'step-succeeded'),
      r.stdout.slice(-1500) + JSON.stringify(events.filter((e) => e.type === 'step-failed')),
    ).toEqual(['preflight', 'replicate', 'wait-caught-up', 'approve-cutover', 'cutover', 'smoke-test'])
    expect(stats.committed).toBeGreaterThan(50)
    expect(await lostWrites('redis', s.targetUrl, stats.acks)).toEqual([])
    expect(await role(s.targetUrl)).toBe('master')
    shortSoakTemplate(s.planDir, lab.template)
    const f = await migrate(s, ['execute', 'wave', '1', '--plan', s.planDir, '--approve', 'finalize'])
    expect(f.exitCode, f.stdout + f.stderr).toBe(0)
    expect(s.fixture.jobs.get('job-2')?.status).toBe('Finished')
  })
})
