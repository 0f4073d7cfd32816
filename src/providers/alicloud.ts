// Alibaba Cloud ECS as a discovery source: instances (paged with MaxResults/NextToken), their disks (DescribeDisks),
// tags, specs (Cpu/Memory), private IPs and EIPs, for every --region, regions in parallel. Credentials through
// @alicloud/credentials: ALIBABA_CLOUD_ACCESS_KEY_ID/…SECRET (and …SECURITY_TOKEN), the profile file, or a RAM role.
// The SDK loads lazily: its import is slow (figures: bench/README.md).
import {createRequire} from 'node:module'
import type {Server} from '../schema/inventory.js'
import {emptyResult, type DiscoverySource} from '../discover/types.js'
import {badInput, MigrateError, EXIT} from '../errors.js'
import {mapWithLimit} from '../map-limit.js'
import type {CloudOptions} from './cloud-options.js'

export interface AlicloudOptions extends CloudOptions {
  /** host[:port] of the ECS endpoint, or a URL (http:// for a plain-HTTP endpoint). Default ecs.<region>.aliyuncs.com. */
  endpoint?: string
  /** Attempts per call when throttled. */
  maxAttempts?: number
}

export const ALICLOUD_PERMISSIONS = ['ecs:DescribeInstances', 'ecs:DescribeDisks', 'ecs:DescribeRegions']

type EcsModule = typeof import('@alicloud/ecs20140526')
type EcsClient = InstanceType<EcsModule['default']>

/** Splits --endpoint into host[:port] and protocol; a bare loopback address means plain HTTP (a local endpoint). */
export function parseAlicloudEndpoint(endpoint: string): {host: string; protocol: 'http' | 'https'} {
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(endpoint)
  if (m) return {host: m[2], protocol: m[1] as 'http' | 'https'}
  if (/^[^/\s]+$/.test(endpoint))
    return {
      host: endpoint,
      protocol: /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(endpoint) ? 'http' : 'https',
    }
  throw badInput(
    `--endpoint ${endpoint}: expected host[:port] or http(s)://host[:port]`,
    'BAD_ENDPOINT',
    'For example --endpoint ecs-vpc.ap-southeast-5.aliyuncs.com',
  )
}

export const alicloudSource: DiscoverySource<AlicloudOptions> = {
  kind: 'alicloud',
  tasks: (o) => (o.allRegions ? ['alicloud (all regions)'] : o.regions.map((r) => `alicloud ${r}`)),
  async discover(o, emit) {
    if (!o.allRegions && o.regions.length === 0)
      throw badInput(
        'alicloud: no region given',
        'ALICLOUD_NO_REGION',
        'Pass --region REGION (repeatable), e.g. --region ap-southeast-5 (Jakarta), or --all-regions',
      )
    const profile = o.profile ?? process.env.ALIBABA_CLOUD_PROFILE ?? 'default'
    const require = createRequire(import.meta.url)
    const ecsMod: typeof import('@alicloud/ecs20140526') = require('@alicloud/ecs20140526')
    const coreMod: typeof import('@alicloud/openapi-core') = require('@alicloud/openapi-core')
    const credsMod: typeof import('@alicloud/credentials') = require('@alicloud/credentials')
    // CommonJS packages: Node puts module.exports on .default; other loaders (vitest) expose the names directly.
    const ecs = {default: cjs<typeof ecsMod>(ecsMod, 'DescribeInstancesRequest')}
    const core = {default: cjs<typeof coreMod>(coreMod, '$OpenApiUtil')}
    const creds = {default: cjs<typeof credsMod>(credsMod, 'Config')}
    const Ecs = ecs.default.default
    const ep = o.endpoint ? parseAlicloudEndpoint(o.endpoint) : undefined
    const env = process.env
    let credential: unknown
    if (env.ALIBABA_CLOUD_ACCESS_KEY_ID && env.ALIBABA_CLOUD_ACCESS_KEY_SECRET) {
      credential = undefined
    } else {
      if (o.profile) env.ALIBABA_CLOUD_PROFILE = o.profile
      const Credential = creds.default.default
      credential = new Credential()
    }
    // The shape @darabonba/typescript's shouldRetry/getBackoffDelay read: throttling is retried with jittered backoff.
    const retryOptions = {
      retryable: true,
      retryCondition: [
        {
          maxAttempts: (o.maxAttempts ?? 5) - 1,
          exception: ['ThrottlingError'],
          errorCode: ['Throttling', 'Throttling.User', 'Throttling.Api', 'ServiceUnavailable'],
          maxDelay: 20_000,
          backoff: {
            getDelayTime: (ctx: {retriesAttempted: number}) =>
              Math.min(20_000, 200 * 2 ** ctx.retriesAttempted) * (0.5 + Math.random() / 2),
          },
        },
      ],
      noRetryCondition: [],
    }
    const client = (region: string): EcsClient =>
      new Ecs(
        new core.default.$OpenApiUtil.Config({
          ...(credential === undefined
            ? {
                accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
                accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
                ...(env.ALIBABA_CLOUD_SECURITY_TOKEN ? {securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN} : {}),
              }
            : {credential: credential as never}),
          regionId: region,
          endpoint: ep?.host ?? `ecs.${region}.aliyuncs.com`,
          ...(ep ? {protocol: ep.protocol} : {}),
          connectTimeout: 10_000,
          readTimeout: 30_000,
          retryOptions,
        } as never),
      )
    const endpointOf = (region: string) => ep?.host ?? `ecs.${region}.aliyuncs.com`
    let regions = o.regions
    if (o.allRegions) {
      const home = o.regions[0] ?? env.ALIBABA_CLOUD_REGION_ID ?? 'ap-southeast-1'
      const task = 'alicloud (all regions)'
      emit({task, status: 'start'})
      try {
        const r = await client(home).describeRegions(new ecs.default.DescribeRegionsRequest({}))
        regions = (r.body?.regions?.region ?? [])
          .map((x) => x.regionId!)
          .filter(Boolean)
          .sort()
      } catch (error) {
        emit({task, status: 'failed'})
        throw alicloudError(error, {profile, region: home, action: 'DescribeRegions', endpoint: endpointOf(home)})
      }
      emit({task, status: 'done', message: `${regions.length} regions`})
    }
    const result = emptyResult('alicloud', regions)
    const perRegion = await mapWithLimit(regions, o.concurrency ?? 8, async (region) => {
      const task = `alicloud ${region}`
      emit({task, status: 'start'})
      let action = 'DescribeInstances'
      try {
        const c = client(region)
        // Each page becomes small records at once, so the SDK's model objects die young (less memory, less GC).
        const instancesP = (async () => {
          const out: Server[] = []
          let nextToken: string | undefined
          do {
            const r = await c.describeInstances(
              new ecs.default.DescribeInstancesRequest({
                regionId: region,
                maxResults: Math.min(o.pageSize ?? 100, 100),
                ...(nextToken ? {nextToken} : {}),
              }),
            )
            const page = r.body?.instances?.instance
            if (!r.body || (page !== undefined && !Array.isArray(page)))
              throw Object.assign(new Error('malformed DescribeInstances response'), {code: 'MalformedResponse'})
            for (const i of page ?? []) {
              const s = ecsServer(i, region)
              if (s) out.push(s)
            }
            nextToken = r.body.nextToken || undefined
            emit({task, status: 'progress', message: `${out.length} instances`})
          } while (nextToken)
          return out
        })()
        const disksP = (async () => {
          const byInstance = new Map<string, {name: string; sizeGiB: number; type?: string}[]>()
          let nextToken: string | undefined
          do {
            const r = await c
              .describeDisks(
                new ecs.default.DescribeDisksRequest({
                  regionId: region,
                  maxResults: 500,
                  ...(nextToken ? {nextToken} : {}),
                }),
              )
              .catch((e) => {
                action = 'DescribeDisks'
                throw e
              })
            for (const d of r.body?.disks?.disk ?? []) {
              if (!d.instanceId) continue
              const list = byInstance.get(d.instanceId) ?? []
              list.push({
                name: d.device || d.diskId || 'disk',
                sizeGiB: d.size ?? 0,
                ...(d.category ? {type: d.category} : {}),
              })
              byInstance.set(d.instanceId, list)
            }
            nextToken = r.body?.nextToken || undefined
          } while (nextToken)
          return byInstance
        })()
        const [servers, disks] = await Promise.all([instancesP, disksP])
        for (const sv of servers) sv.disks = (disks.get(sv.id) ?? []).sort((x, y) => x.name.localeCompare(y.name))
        emit({task, status: 'done', message: `${servers.length} instances`})
        return servers
      } catch (error) {
        emit({task, status: 'failed'})
        throw alicloudError(error, {profile, region, action, endpoint: endpointOf(region)})
      }
    })
    for (const s of perRegion) result.servers.push(...s)
    return result
  },
}

type EcsInstance = NonNullable<
  NonNullable<NonNullable<Awaited<ReturnType<EcsClient['describeInstances']>>['body']>['instances']>['instance']
>[number]

/** One ECS instance as a server (disks are attached once DescribeDisks is read). */
function ecsServer(i: EcsInstance, region: string): Server | undefined {
  if (!i.instanceId) return undefined
  const tags: Record<string, string> = {}
  for (const t of i.tags?.tag ?? []) if (t.tagKey) tags[t.tagKey] = t.tagValue ?? ''
  const privateIps = [...(i.vpcAttributes?.privateIpAddress?.ipAddress ?? []), ...(i.innerIpAddress?.ipAddress ?? [])]
  const publicIps = [
    ...(i.publicIpAddress?.ipAddress ?? []),
    ...(i.eipAddress?.ipAddress ? [i.eipAddress.ipAddress] : []),
  ]
  const status = (i.status ?? '').toLowerCase()
  return {
    id: i.instanceId,
    name: i.instanceName || i.instanceId,
    provider: 'alicloud',
    region,
    zone: i.zoneId,
    hostname: i.hostName || undefined,
    privateIps: [...new Set(privateIps)],
    publicIps: [...new Set(publicIps)],
    vcpus: i.cpu && i.cpu > 0 ? i.cpu : 1,
    memoryMiB: i.memory && i.memory > 0 ? i.memory : 1,
    disks: [],
    os: {
      family: i.OSType === 'windows' ? 'windows' : i.OSType === 'linux' ? 'linux' : 'other',
      ...(i.OSName ? {name: i.OSName} : {}),
    },
    instanceType: i.instanceType,
    state:
      status === 'running'
        ? 'running'
        : status === 'stopped' || status === 'stopping'
          ? 'stopped'
          : status === 'starting' || status === 'pending'
            ? 'pending'
            : 'unknown',
    tags,
    source: {kind: 'alicloud', ref: `${region}/${i.instanceId}`},
  }
}

function cjs<T>(mod: unknown, key: string): T {
  const m = mod as Record<string, unknown> & {default?: Record<string, unknown>}
  return (m.default && key in m.default ? m.default : m) as T
}

interface Ctx {
  profile: string
  region: string
  action: string
  endpoint: string
}

export function alicloudError(error: unknown, ctx: Ctx): MigrateError {
  const e = error as {
    name?: string
    code?: string
    message?: string
    statusCode?: number
    data?: {statusCode?: number}
    cause?: {code?: string}
  }
  const code = String(e?.code ?? '')
  const msg = String(e?.message ?? error)
  const where = `alicloud (profile ${ctx.profile}, region ${ctx.region})`
  const perm = `ecs:${ctx.action}`
  const data = {profile: ctx.profile, region: ctx.region, action: ctx.action, alicloudCode: code}
  const net =
    /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN|socket hang up|timeout/i.exec(
      `${code} ${msg} ${e?.cause?.code ?? ''}`,
    )
  if (
    /credentials|AccessKey.*(not set|empty)|unable to get|provider chain|Please set up the credentials/i.test(msg) &&
    !code.includes('.')
  ) {
    return new MigrateError(`${where}: no Alibaba Cloud credentials found`, {
      code: 'ALICLOUD_NO_CREDENTIALS',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure a profile (aliyun configure) and pass --profile NAME',
      data,
    })
  }
  if (/^Forbidden|NoPermission|^Forbidden\.RAM|AccessDenied/i.test(code)) {
    return new MigrateError(`${where}: access denied to ${perm} (${code})`, {
      code: 'ALICLOUD_ACCESS_DENIED',
      exitCode: EXIT.BAD_INPUT,
      hint: `Grant the RAM user or role ${ALICLOUD_PERMISSIONS.join(', ')} (e.g. the AliyunECSReadOnlyAccess policy)`,
      data,
    })
  }
  if (/Expired/i.test(code)) {
    return new MigrateError(`${where}: the security token has expired (${code}) calling ${perm}`, {
      code: 'ALICLOUD_TOKEN_EXPIRED',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Get a fresh STS token (or assume the RAM role again) and set ALIBABA_CLOUD_SECURITY_TOKEN',
      data,
    })
  }
  if (
    /InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature|InvalidAccessKeySecret|InvalidSecurityToken/i.test(
      code,
    )
  ) {
    return new MigrateError(`${where}: the credentials were rejected (${code}) calling ${perm}`, {
      code: 'ALICLOUD_BAD_CREDENTIALS',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Check ALIBABA_CLOUD_ACCESS_KEY_ID / …SECRET or the profile, and the clock of this machine',
      data,
    })
  }
  if (/InvalidRegionId/i.test(code)) {
    return new MigrateError(`${where}: unknown region (${code})`, {
      code: 'ALICLOUD_BAD_REGION',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Use a region id such as ap-southeast-5 (Jakarta) or ap-southeast-1 (Singapore)',
      data,
    })
  }
  if (/Throttling/i.test(code)) {
    return new MigrateError(`${where}: ECS kept throttling ${perm} after retries (${code})`, {
      code: 'ALICLOUD_THROTTLED',
      exitCode: EXIT.FAILURE,
      hint: 'Run again later, or with fewer regions at once (--concurrency)',
      data,
    })
  }
  if (net) {
    return new MigrateError(`${where}: cannot reach the ECS endpoint ${ctx.endpoint} (${net[0]})`, {
      code: 'ALICLOUD_UNREACHABLE',
      exitCode: EXIT.FAILURE,
      hint: 'Check the network path, proxy and --endpoint, then run discover again',
      data,
    })
  }
  if (e instanceof SyntaxError || code === 'MalformedResponse' || /JSON|Unexpected (end|token)|malformed/i.test(msg)) {
    return new MigrateError(`${where}: the answer to ${perm} was not a valid ECS response`, {
      code: 'ALICLOUD_BAD_RESPONSE',
      exitCode: EXIT.FAILURE,
      hint: 'The endpoint did not answer like ECS: check --endpoint and any proxy in between',
      data,
    })
  }
  return new MigrateError(`${where}: ${perm} failed: ${code || e?.name || 'error'}: ${msg.split('\n')[0]}`, {
    code: 'ALICLOUD_ERROR',
    exitCode: EXIT.FAILURE,
    hint: 'Run again with --debug for details',
    data,
  })
}
