// migrate discover aws: the real @aws-sdk/client-ec2 against a local endpoint that speaks the EC2 Query API and
// verifies SigV4 signatures. Engine tests call the provider; error cases run the built CLI and assert the one line
// and the exit code a user sees.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {execFileSync} from 'node:child_process'
import path from 'node:path'
import {parse} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
// @ts-expect-error plain ESM fixture shared with the benchmark
import {makeEc2Region, startEc2Fixture} from '../fixtures/ec2-server.mjs'
import {awsError, awsSource, nodeSupportNote} from '../../src/providers/aws.js'
import {Inventory} from '../../src/schema/inventory.js'
import {migrate, tempDir} from './helpers.js'

const CREDS = {AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret'}
const REGIONS = {
  'ap-southeast-1': makeEc2Region('ap-southeast-1', 23),
  'ap-southeast-3': makeEc2Region('ap-southeast-3', 12, {start: 1000}),
}

describe('aws provider against the EC2 Query fixture', () => {
  const saved = {...process.env}
  beforeAll(() => {
    Object.assign(process.env, CREDS, {AWS_EC2_METADATA_DISABLED: 'true'})
  })
  afterAll(() => {
    process.env = saved
  })

  it('reads several pages in several regions, with volumes, tags and instance type sizes', async () => {
    const f = await startEc2Fixture({regions: REGIONS})
    try {
      const events: string[] = []
      const r = await awsSource.discover(
        {regions: ['ap-southeast-1', 'ap-southeast-3'], endpoint: f.url, pageSize: 5, maxAttempts: 1},
        (e) => events.push(`${e.task}:${e.status}`),
      )
      expect(r.servers).toHaveLength(35)
      const first = r.servers.find((s) => s.name === 'payments-web-0')!
      expect(first).toMatchObject({
        provider: 'aws',
        region: 'ap-southeast-1',
        zone: 'ap-southeast-1a',
        instanceType: 't3.micro',
        vcpus: 2,
        memoryMiB: 1024,
        privateIps: ['10.0.0.0'],
        publicIps: ['54.0.0.0'],
        state: 'stopped',
      })
      expect(first.disks).toEqual([
        {name: '/dev/xvda', sizeGiB: 20, type: 'gp3'},
        {name: '/dev/xvdf', sizeGiB: 100, type: 'io2'},
      ])
      expect(first.tags).toMatchObject({app: 'payments', role: 'web', env: 'staging'})
      const pages = f.requests.filter((q: any) => q.action === 'DescribeInstances' && q.region === 'ap-southeast-1')
      expect(pages).toHaveLength(5)
      expect(pages.filter((q: any) => q.params.NextToken)).toHaveLength(4)
      expect(f.requests.every((q: any) => q.signed)).toBe(true)
      expect(new Set(f.requests.map((q: any) => q.region))).toEqual(new Set(['ap-southeast-1', 'ap-southeast-3']))
      expect(events).toEqual(
        expect.arrayContaining(['aws ap-southeast-1:start', 'aws ap-southeast-1:done', 'aws ap-southeast-3:done']),
      )
    } finally {
      await f.close()
    }
  })

  it('retries throttling (RequestLimitExceeded) with the SDK retry strategy, then succeeds', async () => {
    const f = await startEc2Fixture({regions: REGIONS, faults: {throttle: 2}})
    try {
      const r = await awsSource.discover({regions: ['ap-southeast-3'], endpoint: f.url}, () => {})
      expect(r.servers).toHaveLength(12)
      expect(f.requests.length).toBeGreaterThan(3)
    } finally {
      await f.close()
    }
  })

  it('--all-regions asks DescribeRegions and reads each', async () => {
    const f = await startEc2Fixture({regions: REGIONS})
    try {
      const r = await awsSource.discover({regions: [], allRegions: true, endpoint: f.url, maxAttempts: 1}, () => {})
      expect(r.scope).toEqual(['ap-southeast-1', 'ap-southeast-3'])
      expect(r.servers).toHaveLength(35)
    } finally {
      await f.close()
    }
  })
})

describe('the Node version note', () => {
  it('is one warning below Node 22, none from 22 on', () => {
    for (const v of ['v20.19.0', '20.20.2', 'v18.20.4', '21.7.3'])
      expect(nodeSupportNote(v)).toEqual([expect.objectContaining({severity: 'warning', code: 'NODE_VERSION_OLD'})])
    for (const v of ['v22.0.0', '22.12.0', 'v24.1.0', '25.0.0']) expect(nodeSupportNote(v)).toEqual([])
    expect(nodeSupportNote('v20.19.0')[0]!.message).toContain('Node 20.19.0')
  })
})

describe('aws error mapping', () => {
  const ctx = {profile: 'prod-sso', region: 'ap-southeast-3', action: 'DescribeInstances'}
  it('an expired SSO session is an expired token, not missing credentials', () => {
    const e = awsError(
      Object.assign(
        new Error(
          'The SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO session run aws sso login with the corresponding profile.',
        ),
        {name: 'CredentialsProviderError'},
      ),
      ctx,
    )
    expect(e).toMatchObject({code: 'AWS_TOKEN_EXPIRED', exitCode: 64})
    expect(e.hint).toContain('aws sso login --profile prod-sso')
  })
  it('a profile that does not exist is missing credentials', () => {
    const e = awsError(
      Object.assign(
        new Error('Could not resolve credentials using profile: [prod-sso] in configuration/credentials file(s).'),
        {name: 'CredentialsProviderError'},
      ),
      ctx,
    )
    expect(e).toMatchObject({
      code: 'AWS_NO_CREDENTIALS',
      exitCode: 64,
      message: 'aws (profile prod-sso, region ap-southeast-3): no AWS credentials found',
    })
  })
})

describe('migrate discover aws (CLI)', () => {
  let f: any
  const t = tempDir()
  beforeAll(async () => {
    f = await startEc2Fixture({regions: REGIONS, faults: {deny: [], expiredTokens: ['expired-token']}})
  })
  afterAll(async () => {
    await f.close()
    t.cleanup()
  })

  it('writes a valid inventory (AWS_ENDPOINT_URL_EC2 honoured), then shows what changed on the next run', async () => {
    const out = path.join(t.dir, 'plans/sea/inventory.yaml')
    const r = await migrate(
      ['discover', 'aws', '--region', 'ap-southeast-1', '--region', 'ap-southeast-3', '--out', out, '--json'],
      {...CREDS, AWS_ENDPOINT_URL_EC2: f.url},
    )
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const json = JSON.parse(r.stdout)
    expect(json.result.counts).toMatchObject({servers: 35, unassigned: 3})
    expect(json.result.diff).toBeUndefined()
    // On Node 20 the user is told once, in one line, that it is past its end of life (the SDK's notice stays off stderr).
    const nodeMajor = Number(execaNodeVersion().split('.')[0])
    expect(json.result.warnings.filter((w: string) => w.includes('NODE_VERSION_OLD'))).toHaveLength(
      nodeMajor < 22 ? 1 : 0,
    )
    const inv = Inventory.parse(parse(readFileSync(out, 'utf8')))
    expect(inv.metadata.name).toBe('sea')
    expect(inv.applications.map((a) => a.name)).toContain('payments')
    expect(inv.unassigned).toHaveLength(3)
    // Each instance names the account it was read in (the reservation's owner): a run in another account leaves it.
    expect(new Set(inv.servers.map((s) => s.source?.account))).toEqual(new Set(['123456789012']))
    expect(readFileSync(out, 'utf8')).toMatch(/^# yaml-language-server: \$schema=/)
    // The estate changes: one region shrinks, an instance is resized.
    const g = await startEc2Fixture({
      regions: {
        'ap-southeast-1': makeEc2Region('ap-southeast-1', 20),
        'ap-southeast-3': {
          ...REGIONS['ap-southeast-3'],
          instances: REGIONS['ap-southeast-3'].instances.map((x: any, i: number) =>
            i === 0 ? {...x, type: 'm5.2xlarge'} : x,
          ),
        },
      },
    })
    try {
      const again = await migrate(
        [
          'discover',
          'aws',
          '--region',
          'ap-southeast-1',
          '--region',
          'ap-southeast-3',
          '--endpoint',
          g.url,
          '--out',
          out,
          '--json',
        ],
        CREDS,
      )
      expect(again.exitCode).toBe(0)
      const d = JSON.parse(again.stdout).result.diff
      expect(d.removed).toHaveLength(3)
      expect(d.added).toEqual([])
      expect(d.resized).toEqual([expect.objectContaining({to: expect.objectContaining({vcpus: 8, memoryMiB: 32768})})])
      // The resize is a change of the instance type too, and says so.
      expect(d.servers.changed).toEqual([
        {
          id: d.resized[0].id,
          changes: expect.arrayContaining([expect.objectContaining({field: 'instanceType', to: 'm5.2xlarge'})]),
        },
      ])
      const human = await migrate(
        ['discover', 'aws', '--region', 'ap-southeast-1', '--endpoint', f.url, '--out', out],
        CREDS,
      )
      expect(human.stdout).toMatch(/Changes since the previous inventory: servers 3 added, 0 removed, \d+ changed/)
    } finally {
      await g.close()
    }
  })

  it('access denied: one line naming profile, region and permission; exit 64', async () => {
    const g = await startEc2Fixture({regions: REGIONS, faults: {deny: ['DescribeInstances', 'DescribeVolumes']}})
    try {
      // A named profile from the shared credentials file, as a person would use it.
      mkdirSync(path.join(t.dir, 'home/.aws'), {recursive: true})
      writeFileSync(
        path.join(t.dir, 'home/.aws/credentials'),
        '[audit]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n',
      )
      const r = await migrate(
        [
          'discover',
          'aws',
          '--profile',
          'audit',
          '--region',
          'ap-southeast-1',
          '--endpoint',
          g.url,
          '--out',
          path.join(t.dir, 'x.yaml'),
        ],
        {HOME: path.join(t.dir, 'home')},
      )
      expect(r.exitCode).toBe(64)
      expect(r.firstLine).toMatch(
        /^Error \[AWS_ACCESS_DENIED\]: aws \(profile audit, region ap-southeast-1\): access denied to ec2:Describe(Instances|Volumes) \(UnauthorizedOperation\)$/,
      )
      expect(r.stderr).toContain('ec2:DescribeInstances, ec2:DescribeVolumes, ec2:DescribeInstanceTypes')
      expect(r.stderr).not.toContain('secret')
    } finally {
      await g.close()
    }
  })

  it('expired session token: exit 64 with the refresh command', async () => {
    const r = await migrate(
      ['discover', 'aws', '--region', 'ap-southeast-1', '--endpoint', f.url, '--out', path.join(t.dir, 'x.yaml')],
      {...CREDS, AWS_SESSION_TOKEN: 'expired-token'},
    )
    expect(r.exitCode).toBe(64)
    expect(r.firstLine).toMatch(
      /^Error \[AWS_TOKEN_EXPIRED\]: aws \(profile default, region ap-southeast-1\): the security token has expired \(RequestExpired\)/,
    )
    expect(r.stderr).toContain('aws sso login --profile default')
    expect(r.stderr).not.toContain('expired-token')
  })

  it('wrong secret (signature rejected) and no credentials at all: exit 64', async () => {
    const bad = await migrate(
      ['discover', 'aws', '--region', 'ap-southeast-1', '--endpoint', f.url, '--out', path.join(t.dir, 'x.yaml')],
      {...CREDS, AWS_SECRET_ACCESS_KEY: 'not-the-secret'},
    )
    expect(bad.exitCode).toBe(64)
    expect(bad.firstLine).toMatch(/^Error \[AWS_BAD_CREDENTIALS\]: .*\(AuthFailure\)/)
    expect(bad.stderr).not.toContain('not-the-secret')
    const none = await migrate([
      'discover',
      'aws',
      '--region',
      'ap-southeast-1',
      '--endpoint',
      f.url,
      '--out',
      path.join(t.dir, 'x.yaml'),
    ])
    expect(none.exitCode).toBe(64)
    expect(none.firstLine).toBe(
      'Error [AWS_NO_CREDENTIALS]: aws (profile default, region ap-southeast-1): no AWS credentials found',
    )
  })

  it('unreachable endpoint: exit 1 naming the endpoint', async () => {
    const g = await startEc2Fixture({regions: REGIONS})
    const url = g.url
    await g.close()
    const r = await migrate(
      ['discover', 'aws', '--region', 'ap-southeast-3', '--endpoint', url, '--out', path.join(t.dir, 'x.yaml')],
      CREDS,
    )
    expect(r.exitCode).toBe(1)
    expect(r.firstLine).toBe(
      `Error [AWS_UNREACHABLE]: aws (profile default, region ap-southeast-3): cannot reach the EC2 endpoint ${url} (ECONNREFUSED)`,
    )
  })

  it('malformed response: exit 1, and no inventory is written', async () => {
    const g = await startEc2Fixture({regions: REGIONS, faults: {malformed: 'DescribeInstances'}})
    try {
      const out = path.join(t.dir, 'never/inventory.yaml')
      const r = await migrate(
        ['discover', 'aws', '--region', 'ap-southeast-1', '--endpoint', g.url, '--out', out],
        CREDS,
      )
      expect(r.exitCode).toBe(1)
      expect(r.firstLine).toBe(
        'Error [AWS_BAD_RESPONSE]: aws (profile default, region ap-southeast-1): the answer to ec2:DescribeInstances was not a valid EC2 response',
      )
      expect(() => readFileSync(out)).toThrow()
    } finally {
      await g.close()
    }
  })
})

/** The version of the `node` the CLI tests run (the first on PATH, as helpers.ts runs it). */
function execaNodeVersion(): string {
  return execFileSync('node', ['-p', 'process.versions.node'], {encoding: 'utf8'}).trim()
}
