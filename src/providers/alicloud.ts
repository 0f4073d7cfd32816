// Alibaba Cloud ECS as a discovery source: instances (paged with MaxResults/NextToken), their disks (DescribeDisks),
// tags, specs (Cpu/Memory), private IPs and EIPs, for every --region, regions in parallel. Credentials through
// @alicloud/credentials: ALIBABA_CLOUD_ACCESS_KEY_ID/…SECRET (and …SECURITY_TOKEN), the profile file, or a RAM role.
// The SDK loads lazily: its import is slow (figures: bench/README.md).
import {createRequire} from 'node:module'
import type {Server} from '../schema/inventory.js'
import {emptyResult, type DiscoverySource} from '../discover/types.js'
import {badInput} from '../errors.js'
import {alicloudError} from './alicloud-errors.js'
import {mapWithLimit} from '../map-limit.js'
import type {CloudOptions} from './cloud-options.js'

export interface AlicloudOptions extends CloudOptions {
  /** host[:port] of the ECS endpoint, or a URL (http:// for a plain-HTTP endpoint). Default ecs.<region>.aliyuncs.com. */
  endpoint?: string
  /** Attempts per call when throttled. */
  maxAttempts?: number
}

export {ALICLOUD_PERMISSIONS, alicloudError} from './alicloud-errors.js'

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
    const sdk = loadSdk()
    const ep = o.endpoint ? parseAlicloudEndpoint(o.endpoint) : undefined
    const client = clientMaker(o, sdk, ep)
    const endpointOf = (region: string) => ep?.host ?? `ecs.${region}.aliyuncs.com`
    const regions = o.allRegions ? await allRegions(o, sdk, client, emit, profile, endpointOf) : o.regions
    const result = emptyResult('alicloud', regions)
    const perRegion = await mapWithLimit(regions, o.concurrency ?? 8, async (region) => {
      const task = `alicloud ${region}`
      emit({task, status: 'start'})
      const failed = {action: 'DescribeInstances'}
      try {
        const servers = await discoverRegion(sdk, client(region), region, o, failed, (message) =>
          emit({task, status: 'progress', message}),
        )
        emit({task, status: 'done', message: `${servers.length} instances`})
        return servers
      } catch (error) {
        emit({task, status: 'failed'})
        throw alicloudError(error, {profile, region, action: failed.action, endpoint: endpointOf(region)})
      }
    })
    for (const s of perRegion) result.servers.push(...s)
    return result
  },
}

type Emit = Parameters<DiscoverySource<AlicloudOptions>['discover']>[1]

/** The SDK's modules, loaded now (their import is slow). */
function loadSdk() {
  const require = createRequire(import.meta.url)
  const ecsMod: typeof import('@alicloud/ecs20140526') = require('@alicloud/ecs20140526')
  const coreMod: typeof import('@alicloud/openapi-core') = require('@alicloud/openapi-core')
  const credsMod: typeof import('@alicloud/credentials') = require('@alicloud/credentials')
  // CommonJS packages: Node puts module.exports on .default; other loaders (vitest) expose the names directly.
  return {
    ecs: {default: cjs<typeof ecsMod>(ecsMod, 'DescribeInstancesRequest')},
    core: {default: cjs<typeof coreMod>(coreMod, '$OpenApiUtil')},
    creds: {default: cjs<typeof credsMod>(credsMod, 'Config')},
  }
}

type Sdk = ReturnType<typeof loadSdk>

/** An ECS client per region: keys from the environment, else the credentials chain (--profile); throttling retried. */
function clientMaker(
  o: AlicloudOptions,
  sdk: Sdk,
  ep: ReturnType<typeof parseAlicloudEndpoint> | undefined,
): (region: string) => EcsClient {
  const Ecs = sdk.ecs.default.default
  const env = process.env
  let credential: unknown
  if (env.ALIBABA_CLOUD_ACCESS_KEY_ID && env.ALIBABA_CLOUD_ACCESS_KEY_SECRET) {
    credential = undefined
  } else {
    if (o.profile) env.ALIBABA_CLOUD_PROFILE = o.profile
    const Credential = sdk.creds.default.default
    credential = new Credential()
  }
  const retryOptions = retryOptionsOf(o.maxAttempts ?? 5)
  return (region: string): EcsClient =>
    new Ecs(
      new sdk.core.default.$OpenApiUtil.Config({
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
}

/** The shape @darabonba/typescript's shouldRetry/getBackoffDelay read: throttling is retried with jittered backoff. */
function retryOptionsOf(maxAttempts: number) {
  return {
    retryable: true,
    retryCondition: [
      {
        maxAttempts: maxAttempts - 1,
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
}

/** --all-regions: the regions DescribeRegions lists, asked of the first --region (or the home region). */
async function allRegions(
  o: AlicloudOptions,
  sdk: Sdk,
  client: (region: string) => EcsClient,
  emit: Emit,
  profile: string,
  endpointOf: (region: string) => string,
): Promise<string[]> {
  const home = o.regions[0] ?? process.env.ALIBABA_CLOUD_REGION_ID ?? 'ap-southeast-1'
  const task = 'alicloud (all regions)'
  emit({task, status: 'start'})
  let regions: string[]
  try {
    const r = await client(home).describeRegions(new sdk.ecs.default.DescribeRegionsRequest({}))
    regions = (r.body?.regions?.region ?? [])
      .map((x) => x.regionId!)
      .filter(Boolean)
      .sort()
  } catch (error) {
    emit({task, status: 'failed'})
    throw alicloudError(error, {profile, region: home, action: 'DescribeRegions', endpoint: endpointOf(home)})
  }
  emit({task, status: 'done', message: `${regions.length} regions`})
  return regions
}

/**
 * One region's instances with their disks. Instances and disks are listed concurrently; each page becomes small
 * records at once, so the SDK's model objects die young (less memory, less GC). `failed.action` names the call that
 * failed, for the error.
 */
async function discoverRegion(
  sdk: Sdk,
  c: EcsClient,
  region: string,
  o: AlicloudOptions,
  failed: {action: string},
  progress: (message: string) => void,
): Promise<Server[]> {
  const [servers, disks] = await Promise.all([
    listInstances(sdk, c, region, o.pageSize ?? 100, progress),
    listDisks(sdk, c, region).catch((e) => {
      failed.action = 'DescribeDisks'
      throw e
    }),
  ])
  for (const sv of servers) sv.disks = (disks.get(sv.id) ?? []).sort((x, y) => x.name.localeCompare(y.name))
  return servers
}

async function listInstances(
  sdk: Sdk,
  c: EcsClient,
  region: string,
  pageSize: number,
  progress: (message: string) => void,
): Promise<Server[]> {
  const out: Server[] = []
  let nextToken: string | undefined
  do {
    const r = await c.describeInstances(
      new sdk.ecs.default.DescribeInstancesRequest({
        regionId: region,
        maxResults: Math.min(pageSize, 100),
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
    progress(`${out.length} instances`)
  } while (nextToken)
  return out
}

/** Instance id → its disks. */
async function listDisks(
  sdk: Sdk,
  c: EcsClient,
  region: string,
): Promise<Map<string, {name: string; sizeGiB: number; type?: string}[]>> {
  const byInstance = new Map<string, {name: string; sizeGiB: number; type?: string}[]>()
  let nextToken: string | undefined
  do {
    const r = await c.describeDisks(
      new sdk.ecs.default.DescribeDisksRequest({
        regionId: region,
        maxResults: 500,
        ...(nextToken ? {nextToken} : {}),
      }),
    )
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
