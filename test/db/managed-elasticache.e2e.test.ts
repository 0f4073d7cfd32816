// Redis → ElastiCache end to end: the real @aws-sdk/client-elasticache (through `migrate`) against a local endpoint
// that speaks the ElastiCache Query API with SigV4 and acts on a real redis-server whose REPLICAOF, SLAVEOF, CONFIG,
// SYNC and PSYNC are renamed away, as ElastiCache presents them; HAProxy in front and a writer running throughout.
// 0. the replicaof path is blocked before anything changes; the service's errors (wrong state, invalid parameter,
//    unknown group, throttling, bad signature) come back as clear errors; pre-flight checks the prerequisites;
// 1. a failing smoke test after cutover rolls back by copying the keys back: nothing acknowledged is lost;
// 2. run again: cutover under load, zero lost writes; finalize.
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
  redisCall as redis,
  rollbackUnderLoad,
} from './helpers.js'
import {setupElastiCache, type ElastiCacheScenario} from './managed-helpers.js'

let s: ElastiCacheScenario
const lab = labForFile(
  {template: 'redis-elasticache', name: 'cache', startLoad: startRedisLoad},
  setupElastiCache,
  (x) => (s = x),
)

const group = () => s.fixture.groups['shop-cache']
const ec = (cmd: string, extra: string[] = [], env: Record<string, string> = {}) =>
  migrate({...s, env: {...s.env, ...env}}, [
    'db',
    cmd,
    '--json',
    '--replication-group-id',
    'shop-cache',
    '--region',
    'us-east-1',
    '--endpoint',
    s.fixture.url,
    ...extra,
  ])
const err = (out: string) => JSON.parse(out).error?.code

describe.sequential('redis → elasticache', () => {
  test('clients cannot run REPLICAOF, SLAVEOF or CONFIG on the node; the replicaof path is blocked in pre-flight', {
    timeout: 30_000,
  }, async () => {
    for (const c of [
      ['REPLICAOF', '127.0.0.1', '1'],
      ['SLAVEOF', 'NO', 'ONE'],
      ['CONFIG', 'GET', 'save'],
    ])
      await expect(redis(s.targetUrl, ...c)).rejects.toThrow(/unknown command/)
    const p = await dbPreflight(s, {engine: 'redis', target: s.targetUrl})
    expect(p.exitCode).toBe(1)
    expect(errorBlockerCodes(p.stdout)).toEqual(['REDIS_TARGET_COMMANDS'])
  })

  test('the service’s errors: wrong state, invalid parameter, unknown group, throttling, bad signature', {
    timeout: 90_000,
  }, async () => {
    expect(err((await ec('elasticache-complete')).stdout)).toBe('ELASTICACHE_NOT_MIGRATING')
    const bad = await ec('elasticache-start', ['--source-addr', '127.0.0.1:1'])
    expect([bad.exitCode, err(bad.stdout)]).toEqual([64, 'ELASTICACHE_BAD_PARAMETER'])
    expect(group().status).toBe('available')
    const none = await migrate(s, [
      'db',
      'elasticache-start',
      '--json',
      '--replication-group-id',
      'nope',
      '--region',
      'us-east-1',
      '--endpoint',
      s.fixture.url,
      '--source-addr',
      s.params.source_addr,
    ])
    expect(err(none.stdout)).toBe('ELASTICACHE_GROUP_NOT_FOUND')
    // Throttling: the SDK retries it (3 answers Throttling, the 4th passes); a storm outlasts the retries.
    s.fixture.faults.throttle = 3
    const before = s.fixture.requests.length
    const ok = await ec('elasticache-check', ['--via', s.params.source_url])
    expect(err(ok.stdout)).toBe('ELASTICACHE_NOT_BEHIND_PROXY')
    expect(s.fixture.requests.slice(before).filter((r) => r.action === 'DescribeReplicationGroups').length).toBe(4)
    s.fixture.faults.throttle = 50
    expect(err((await ec('elasticache-start', ['--source-addr', s.params.source_addr])).stdout)).toBe(
      'ELASTICACHE_THROTTLED',
    )
    s.fixture.faults.throttle = 0
    expect(group().status).toBe('available')
    const wrongKey = await ec('elasticache-complete', [], {AWS_SECRET_ACCESS_KEY: 'wrong'})
    expect(err(wrongKey.stdout)).toBe('AWS_BAD_CREDENTIALS')
    // The endpoint can come from the SDK's own variable instead of the flag.
    const viaEnv = await migrate({...s, env: {...s.env, AWS_ENDPOINT_URL_ELASTICACHE: s.fixture.url}}, [
      'db',
      'elasticache-check',
      '--json',
      '--replication-group-id',
      'shop-cache',
      '--region',
      'us-east-1',
      '--via',
      s.targetUrl,
    ])
    expect(viaEnv.exitCode, viaEnv.stdout).toBe(0)
  })

  test('pre-flight checks the online-migration prerequisites', {timeout: 60_000}, async () => {
    const pf = () => ec('elasticache-preflight', ['--source', s.sourceUrl])
    const ok = await pf()
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0)
    const g = group()
    const saved = {...g}
    const cases: [Partial<typeof g>, string][] = [
      [{multiAZ: false}, 'ELASTICACHE_MULTI_AZ'],
      [{transitEncryption: true}, 'ELASTICACHE_TRANSIT_ENCRYPTION'],
      [{engineVersion: '5.0.5'}, 'ELASTICACHE_VERSION'],
      [{clusterEnabled: true}, 'ELASTICACHE_CLUSTER_MODE'],
      [{status: 'migrating'}, 'ELASTICACHE_ALREADY_MIGRATING'],
    ]
    try {
      for (const [change, code] of cases) {
        Object.assign(g, saved, change)
        const r = await pf()
        expect(r.exitCode).toBe(1)
        expect(errorBlockerCodes(r.stdout), code).toContain(code)
      }
      Object.assign(g, saved, {nodeType: 'cache.x9.huge'})
      expect(JSON.parse((await pf()).stdout).result.findings.map((f: {code: string}) => f.code)).toContain(
        'ELASTICACHE_MEMORY_UNKNOWN',
      )
    } finally {
      Object.assign(g, saved)
    }
  })

  test('a failing smoke test after cutover rolls back by copying keys back: nothing lost', {
    timeout: 180_000,
  }, async () => {
    const params = {...s.params, proxy_url: s.params.source_url}
    const {stats} = await rollbackUnderLoad(s, lab, params, {undone: ['cutover', 'replicate'], failed: []})
    await expectEveryWriteOn('redis', s.sourceUrl, stats)
    expect(await redis(s.clientUrl, 'INFO', 'server')).toMatch(new RegExp(`tcp_port:${lab.db.port}\\b`))
    expect(group().status).toBe('available')
  })

  test('run again: cutover under load, zero lost; finalize', {timeout: 180_000}, async () => {
    const {stats} = await cutoverUnderLoad(s, lab, s.params, [
      'preflight',
      'replicate',
      'wait-caught-up',
      'approve-cutover',
      'cutover',
      'smoke-test',
    ])
    await expectEveryWriteOn('redis', s.targetUrl, stats)
    expect(group().status).toBe('available')
    expect(await redis(s.targetUrl, 'ROLE')).toEqual(expect.arrayContaining(['master']))
    const actions = s.fixture.requests.map((x) => x.action)
    expect(actions).toContain('StartMigration')
    expect(actions).toContain('CompleteMigration')
    expect(s.fixture.requests.every((x) => x.signed)).toBe(false) // the bad-secret request above was refused
    await finalizeWave(s, lab)
  })
})
