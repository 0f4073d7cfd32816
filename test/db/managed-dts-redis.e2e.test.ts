// Redis → Tair through DTS end to end: `migrate` calls the DTS API (signed, through @alicloud/openapi-core) on a
// local endpoint that moves data for real into a Redis whose REPLICAOF, SLAVEOF and CONFIG clients cannot run (as on
// Tair); HAProxy in front and a writer running throughout.
// 0. the replicaof path is blocked before anything changes; DTS refuses a reverse task for Redis, and pre-flight says
//    what a rollback after cutover is instead;
// 1. a failing smoke test after cutover rolls back by copying the keys back: nothing acknowledged is lost;
// 2. a new DTS job: cutover under load, zero lost writes; finalize stops the job.
import {describe, expect, test} from 'vitest'
import {startRedisLoad} from '../../src/db/lab/load.js'
import {
  cutoverUnderLoad,
  dbPreflight,
  errorBlockerCodes,
  expectEveryWriteOn,
  finalizeWave,
  labForFile,
  migrate,
  redisCall,
  rollbackUnderLoad,
} from './helpers.js'
import {type DtsScenario, setupDtsRedis} from './managed-dts-helpers.js'

let s: DtsScenario
const lab = labForFile(
  {template: 'alicloud-dts-redis', name: 'cache', startLoad: startRedisLoad},
  setupDtsRedis,
  (x) => (s = x),
)

const role = async (url: string) => String(((await redisCall(url, 'ROLE')) as unknown[])[0])
const dtsPreflight = (source: string) =>
  migrate(s, [
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
    source,
    '--target',
    s.targetUrl,
  ])

describe.sequential('redis → tair through dts', () => {
  test('the replicaof path is blocked on Tair; pre-flight of the DTS path passes and says what rollback is', {
    timeout: 60_000,
  }, async () => {
    const p = await dbPreflight(s, {engine: 'redis', target: s.targetUrl})
    expect(p.exitCode).toBe(1)
    const d = await dtsPreflight(s.sourceUrl)
    expect(d.exitCode, d.stdout + d.stderr).toBe(0)
    expect(JSON.parse(d.stdout).result.findings.map((f: {code: string}) => f.code)).toEqual([
      'DTS_JOB',
      'DTS_NO_REVERSE',
    ])
    const pg = await dtsPreflight('redis://127.0.0.1:1')
    expect(errorBlockerCodes(pg.stdout)).toEqual(['DTS_SOURCE_UNREACHABLE'])
  })

  test('a failing smoke test after cutover rolls back by copying keys back: nothing lost', {
    timeout: 180_000,
  }, async () => {
    const params = {...s.params, app_url: s.params.source_url}
    const {stats} = await rollbackUnderLoad(s, lab, params, {undone: ['cutover', 'replicate']})
    await expectEveryWriteOn('redis', s.sourceUrl, stats)
    expect(s.fixture.jobs.get('job-1')?.status).toBe('Finished')
    expect(s.fixture.requests.map((x) => x.action)).not.toContain('CreateReverseDtsJob')
  })

  test('a new DTS job: cutover under load, zero lost; finalize', {timeout: 180_000}, async () => {
    const {stats} = await cutoverUnderLoad(s, lab, {...s.params, dts_job_id: 'job-2'}, [
      'preflight',
      'replicate',
      'wait-caught-up',
      'approve-cutover',
      'cutover',
      'smoke-test',
    ])
    await expectEveryWriteOn('redis', s.targetUrl, stats)
    expect(await role(s.targetUrl)).toBe('master')
    await finalizeWave(s, lab)
    expect(s.fixture.jobs.get('job-2')?.status).toBe('Finished')
  })
})
