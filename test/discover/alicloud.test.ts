// migrate discover alicloud: the real @alicloud/ecs20140526 client against a local endpoint that speaks the ECS RPC
// API and verifies ACS3-HMAC-SHA256 signatures.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {parse} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
// @ts-expect-error plain ESM fixture shared with the benchmark
import {makeEcsRegion, startEcsFixture} from '../fixtures/ecs-server.mjs'
import {alicloudSource, parseAlicloudEndpoint} from '../../src/providers/alicloud.js'
import {Inventory} from '../../src/schema/inventory.js'
import {migrate, tempDir} from './helpers.js'

const CREDS = {ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-test-ak', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-secret'}
const REGIONS = {
  'ap-southeast-5': makeEcsRegion('ap-southeast-5', 17),
  'ap-southeast-1': makeEcsRegion('ap-southeast-1', 8, {start: 500}),
}

describe('alicloud provider against the ECS RPC fixture', () => {
  const saved = {...process.env}
  beforeAll(() => {
    Object.assign(process.env, CREDS)
  })
  afterAll(() => {
    process.env = saved
  })

  it('pages with NextToken across regions, joins disks, tags, private IPs and EIPs', async () => {
    const f = await startEcsFixture({regions: REGIONS})
    try {
      const r = await alicloudSource.discover(
        {regions: ['ap-southeast-5', 'ap-southeast-1'], endpoint: f.host, pageSize: 5, maxAttempts: 1},
        () => {},
      )
      expect(r.servers).toHaveLength(25)
      const s = r.servers.find((x) => x.name === 'payments-0')!
      expect(s).toMatchObject({
        provider: 'alicloud',
        region: 'ap-southeast-5',
        zone: 'ap-southeast-5a',
        vcpus: 2,
        memoryMiB: 8192,
        instanceType: 'ecs.g7.large',
        privateIps: ['172.16.0.0'],
        publicIps: ['47.0.0.10'],
        os: {family: 'windows'},
      })
      expect(s.disks).toEqual([
        {name: '/dev/xvda', sizeGiB: 40, type: 'cloud_essd'},
        {name: '/dev/xvdb', sizeGiB: 200, type: 'cloud_essd'},
      ])
      expect(s.tags).toMatchObject({app: 'payments', role: 'db', env: 'staging'})
      const pages = f.requests.filter((q: any) => q.action === 'DescribeInstances' && q.region === 'ap-southeast-5')
      expect(pages).toHaveLength(4)
      expect(pages.slice(1).every((q: any) => q.params.NextToken)).toBe(true)
      expect(f.requests.every((q: any) => q.signed)).toBe(true)
    } finally {
      await f.close()
    }
  })

  it('retries Throttling.User with backoff, then succeeds', async () => {
    const f = await startEcsFixture({regions: REGIONS, faults: {throttle: 2}})
    try {
      const r = await alicloudSource.discover({regions: ['ap-southeast-1'], endpoint: f.url}, () => {})
      expect(r.servers).toHaveLength(8)
      expect(f.requests.length).toBe(4)
    } finally {
      await f.close()
    }
  })

  it('--all-regions asks DescribeRegions and reads each', async () => {
    const f = await startEcsFixture({regions: REGIONS})
    try {
      const r = await alicloudSource.discover(
        {regions: [], allRegions: true, endpoint: f.host, maxAttempts: 1},
        () => {},
      )
      expect(r.scope).toEqual(['ap-southeast-1', 'ap-southeast-5'])
      expect(r.servers).toHaveLength(25)
    } finally {
      await f.close()
    }
  })

  it('endpoint forms', () => {
    expect(parseAlicloudEndpoint('127.0.0.1:8080')).toEqual({host: '127.0.0.1:8080', protocol: 'http'})
    expect(parseAlicloudEndpoint('ecs-vpc.ap-southeast-5.aliyuncs.com')).toEqual({
      host: 'ecs-vpc.ap-southeast-5.aliyuncs.com',
      protocol: 'https',
    })
    expect(parseAlicloudEndpoint('https://ecs.example:443')).toEqual({host: 'ecs.example:443', protocol: 'https'})
  })
})

describe('migrate discover alicloud (CLI)', () => {
  let f: any
  const t = tempDir()
  beforeAll(async () => {
    f = await startEcsFixture({regions: REGIONS, faults: {expiredTokens: ['sts-expired']}})
  })
  afterAll(async () => {
    await f.close()
    t.cleanup()
  })

  it('writes a valid inventory for two regions', async () => {
    const out = path.join(t.dir, 'plans/jkt/inventory.yaml')
    const r = await migrate(
      [
        'discover',
        'alicloud',
        '--region',
        'ap-southeast-5',
        '--region',
        'ap-southeast-1',
        '--endpoint',
        f.host,
        '--out',
        out,
      ],
      CREDS,
    )
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/Wrote .*: 25 servers/)
    const inv = Inventory.parse(parse(readFileSync(out, 'utf8')))
    expect(new Set(inv.servers.map((s) => s.region))).toEqual(new Set(['ap-southeast-5', 'ap-southeast-1']))
    expect(inv.servers.find((s) => s.name === 'payments-0')?.environment).toBe('staging')
  })

  it('access denied (Forbidden.RAM): exit 64 naming the permission', async () => {
    const g = await startEcsFixture({regions: REGIONS, faults: {deny: ['DescribeInstances', 'DescribeDisks']}})
    try {
      const r = await migrate(
        [
          'discover',
          'alicloud',
          '--region',
          'ap-southeast-5',
          '--endpoint',
          g.host,
          '--out',
          path.join(t.dir, 'x.yaml'),
        ],
        CREDS,
      )
      expect(r.exitCode).toBe(64)
      expect(r.firstLine).toMatch(
        /^Error \[ALICLOUD_ACCESS_DENIED\]: alicloud \(profile default, region ap-southeast-5\): access denied to ecs:Describe(Instances|Disks) \(Forbidden\.RAM\)$/,
      )
      expect(r.stderr).not.toContain('test-secret')
    } finally {
      await g.close()
    }
  })

  it('expired STS token: exit 64', async () => {
    const r = await migrate(
      ['discover', 'alicloud', '--region', 'ap-southeast-5', '--endpoint', f.host, '--out', path.join(t.dir, 'x.yaml')],
      {...CREDS, ALIBABA_CLOUD_SECURITY_TOKEN: 'sts-expired'},
    )
    expect(r.exitCode).toBe(64)
    expect(r.firstLine).toMatch(
      /^Error \[ALICLOUD_TOKEN_EXPIRED\]: alicloud \(profile default, region ap-southeast-5\): the security token has expired \(InvalidSecurityToken\.Expired\)/,
    )
  })

  it('unreachable endpoint: exit 1; malformed response: exit 1', async () => {
    const g = await startEcsFixture({regions: REGIONS})
    const host = g.host
    await g.close()
    const r = await migrate(
      ['discover', 'alicloud', '--region', 'ap-southeast-5', '--endpoint', host, '--out', path.join(t.dir, 'x.yaml')],
      CREDS,
    )
    expect(r.exitCode).toBe(1)
    expect(r.firstLine).toBe(
      `Error [ALICLOUD_UNREACHABLE]: alicloud (profile default, region ap-southeast-5): cannot reach the ECS endpoint ${host} (ECONNREFUSED)`,
    )
    const m = await startEcsFixture({regions: REGIONS, faults: {malformed: 'DescribeInstances'}})
    try {
      const bad = await migrate(
        [
          'discover',
          'alicloud',
          '--region',
          'ap-southeast-5',
          '--endpoint',
          m.host,
          '--out',
          path.join(t.dir, 'x.yaml'),
        ],
        CREDS,
      )
      expect(bad.exitCode).toBe(1)
      expect(bad.firstLine).toBe(
        'Error [ALICLOUD_BAD_RESPONSE]: alicloud (profile default, region ap-southeast-5): the answer to ecs:DescribeInstances was not a valid ECS response',
      )
    } finally {
      await m.close()
    }
  })

  it('no credentials: exit 64', async () => {
    const r = await migrate([
      'discover',
      'alicloud',
      '--region',
      'ap-southeast-5',
      '--endpoint',
      f.host,
      '--out',
      path.join(t.dir, 'x.yaml'),
    ])
    expect(r.exitCode).toBe(64)
    expect(r.firstLine).toBe(
      'Error [ALICLOUD_NO_CREDENTIALS]: alicloud (profile default, region ap-southeast-5): no Alibaba Cloud credentials found',
    )
  })
})
