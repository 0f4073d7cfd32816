// AWS EC2 as a discovery source: instances (paged), their volumes, instance type sizes (cached), every region named
// or all of them, regions in parallel. The SDK is imported lazily, inside discover(), so no other command pays for
// its slow import (figures: bench/README.md). Credentials come from the SDK's default chain (env, profiles, SSO, instance role).
import {createRequire} from 'node:module'
import type {Diagnostic} from '../diagnostics.js'
import type {Server} from '../schema/inventory.js'
import {emptyResult, type DiscoverySource} from '../discover/types.js'
import {badInput} from '../errors.js'
import {awsError} from './aws-errors.js'
import {mapWithLimit} from '../map-limit.js'
import type {CloudOptions} from './cloud-options.js'

export interface AwsOptions extends CloudOptions {
  /** Endpoint URL for every region (a VPC endpoint or a test fixture); AWS_ENDPOINT_URL_EC2 is honoured by the SDK. */
  endpoint?: string
  /** SDK attempts per call (throttling and 5xx are retried with backoff). */
  maxAttempts?: number
  /** Instances per DescribeInstances page, 5–1000. */
  pageSize?: number
}

export {AWS_PERMISSIONS, awsError} from './aws-errors.js'

type Ec2Module = typeof import('@aws-sdk/client-ec2')

/** Instance type → [vCPUs, MiB], shared across regions and runs in one process. */
const typeCache = new Map<string, [number, number]>()

export const awsSource: DiscoverySource<AwsOptions> = {
  kind: 'aws',
  tasks: (o) => (o.allRegions ? ['aws (all regions)'] : o.regions.map((r) => `aws ${r}`)),
  async discover(o, emit) {
    if (!o.allRegions && o.regions.length === 0) {
      throw badInput(
        'aws: no region given',
        'AWS_NO_REGION',
        'Pass --region REGION (repeatable), e.g. --region ap-southeast-1, or --all-regions',
      )
    }
    // The SDK's own notice is a multi-line process warning on stderr (it would break --json and the live view):
    // off, and said once, in one line, as a warning of this source's result (nodeSupportNote()).
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
    // require() loads the SDK's single-file CommonJS build, cheaper than import() of its many ESM files (bench/README.md).
    const require = createRequire(import.meta.url)
    const sdk: Ec2Module = require('@aws-sdk/client-ec2')
    const profile = o.profile ?? process.env.AWS_PROFILE ?? 'default'
    const endpoint = o.endpoint ?? process.env.AWS_ENDPOINT_URL_EC2 ?? process.env.AWS_ENDPOINT_URL
    const client = (region: string) =>
      new sdk.EC2Client({
        region,
        ...(o.profile ? {profile: o.profile} : {}),
        ...(o.endpoint ? {endpoint: o.endpoint} : {}),
        maxAttempts: o.maxAttempts ?? 5,
        retryMode: 'standard',
      })
    let regions = o.regions
    if (o.allRegions) {
      const home = o.regions[0] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1'
      const task = 'aws (all regions)'
      emit({task, status: 'start', message: `DescribeRegions in ${home}`})
      try {
        const r = await client(home).send(new sdk.DescribeRegionsCommand({}))
        regions = (r.Regions ?? [])
          .map((x) => x.RegionName!)
          .filter(Boolean)
          .sort()
      } catch (error) {
        emit({task, status: 'failed'})
        throw awsError(error, {profile, region: home, action: 'DescribeRegions', endpoint})
      }
      emit({task, status: 'done', message: `${regions.length} regions: ${regions.join(', ')}`})
    }
    const result = emptyResult('aws', regions)
    result.warnings.push(...nodeSupportNote(process.versions.node))
    const perRegion = await mapWithLimit(regions, o.concurrency ?? 8, async (region) => {
      const task = o.allRegions ? `aws ${region}` : `aws ${region}`
      emit({task, status: 'start'})
      try {
        const servers = await discoverRegion(sdk, client(region), region, o.pageSize ?? 1000, (m) =>
          emit({task, status: 'progress', message: m}),
        )
        emit({task, status: 'done', message: `${servers.length} instances`})
        return servers
      } catch (error) {
        emit({task, status: 'failed', message: error instanceof Error ? error.message : String(error)})
        throw awsError(error, {
          profile,
          region,
          action: (error as {$action?: string}).$action ?? 'DescribeInstances',
          endpoint,
        })
      }
    })
    for (const s of perRegion) result.servers.push(...s)
    // The account this run read (the owner of its instances): its scope is these regions of that account only.
    const account = result.servers.find((s) => s.source?.account)?.source?.account
    if (account) result.account = account
    return result
  },
}

async function discoverRegion(
  sdk: Ec2Module,
  client: InstanceType<Ec2Module['EC2Client']>,
  region: string,
  pageSize: number,
  progress: (m: string) => void,
): Promise<Server[]> {
  const tag = <T>(action: string, p: Promise<T>): Promise<T> =>
    p.catch((error) => {
      if (error && typeof error === 'object') (error as {$action?: string}).$action = action
      throw error
    })
  // Instances and volumes are listed concurrently; both are paged by the SDK's paginators. Each page becomes small
  // records at once, so the SDK's large response objects die young (less memory, less GC).
  const volumeIds = new Map<Server, (string | undefined)[]>()
  const instancesP = tag(
    'DescribeInstances',
    (async () => {
      const out: Server[] = []
      for await (const page of sdk.paginateDescribeInstances({client, pageSize}, {})) {
        for (const r of page.Reservations ?? []) {
          for (const i of r.Instances ?? []) {
            const s = toServer(i, region, r.OwnerId || undefined)
            if (!s) continue
            out.push(s)
            volumeIds.set(
              s,
              (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId),
            )
          }
        }
        progress(`${out.length} instances`)
      }
      return out
    })(),
  )
  const volumesP = tag(
    'DescribeVolumes',
    (async () => {
      const sizes = new Map<string, {size: number; type?: string}>()
      for await (const page of sdk.paginateDescribeVolumes({client, pageSize: 500}, {})) {
        for (const v of page.Volumes ?? [])
          if (v.VolumeId) sizes.set(v.VolumeId, {size: v.Size ?? 0, type: v.VolumeType})
      }
      return sizes
    })(),
  )
  const [servers, volumes] = await Promise.all([instancesP, volumesP])
  const missing = [...new Set(servers.map((s) => s.instanceType).filter((t): t is string => !!t && !typeCache.has(t)))]
  for (let k = 0; k < missing.length; k += 100) {
    const r = await tag(
      'DescribeInstanceTypes',
      client.send(new sdk.DescribeInstanceTypesCommand({InstanceTypes: missing.slice(k, k + 100) as never})),
    )
    for (const t of r.InstanceTypes ?? []) {
      if (t.InstanceType) typeCache.set(t.InstanceType, [t.VCpuInfo?.DefaultVCpus ?? 1, t.MemoryInfo?.SizeInMiB ?? 1])
    }
  }
  for (const s of servers) {
    const spec = s.instanceType ? typeCache.get(s.instanceType) : undefined
    if (spec) {
      s.vcpus = spec[0]
      s.memoryMiB = spec[1]
    }
    const ids = volumeIds.get(s) ?? []
    s.disks.forEach((d, k) => {
      const v = ids[k] ? volumes.get(ids[k]!) : undefined
      if (v) {
        d.sizeGiB = v.size
        if (v.type) d.type = v.type
      }
    })
  }
  return servers
}

/** One EC2 instance as a server (sizes and disk sizes are filled in once the types and volumes are known). */
function toServer(
  i: import('@aws-sdk/client-ec2').Instance,
  region: string,
  account: string | undefined,
): Server | undefined {
  const state = i.State?.Name
  if (!i.InstanceId || state === 'terminated' || state === 'shutting-down') return undefined
  const tags: Record<string, string> = {}
  for (const t of i.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? ''
  const cpuFromOptions = (i.CpuOptions?.CoreCount ?? 0) * (i.CpuOptions?.ThreadsPerCore ?? 1)
  const privateIps = new Set<string>()
  if (i.PrivateIpAddress) privateIps.add(i.PrivateIpAddress)
  for (const n of i.NetworkInterfaces ?? [])
    for (const a of n.PrivateIpAddresses ?? []) if (a.PrivateIpAddress) privateIps.add(a.PrivateIpAddress)
  const windows = String(i.Platform ?? '').toLowerCase() === 'windows' || /windows/i.test(i.PlatformDetails ?? '')
  const id = i.InstanceId
  const s: Server = {
    id,
    name: tags.Name || id,
    provider: 'aws',
    region,
    zone: i.Placement?.AvailabilityZone,
    hostname: i.PrivateDnsName || undefined,
    privateIps: [...privateIps],
    publicIps: i.PublicIpAddress ? [i.PublicIpAddress] : [],
    vcpus: cpuFromOptions || 1,
    memoryMiB: 1,
    disks: (i.BlockDeviceMappings ?? []).map((b) => ({name: b.DeviceName ?? b.Ebs?.VolumeId ?? 'disk', sizeGiB: 0})),
    os: {family: windows ? 'windows' : 'linux', ...(i.PlatformDetails ? {name: i.PlatformDetails} : {})},
    instanceType: i.InstanceType,
    state:
      state === 'running'
        ? 'running'
        : state === 'pending'
          ? 'pending'
          : state === 'stopped' || state === 'stopping'
            ? 'stopped'
            : 'unknown',
    tags,
    source: {kind: 'aws', ref: `${region}/${id}`, ...(account ? {account} : {})},
  }
  return s
}

/**
 * One line for the user on a Node older than 22: migrate supports Node >= 20.19 (what the target machines run), but
 * Node 20 left maintenance in April 2026 and AWS SDK releases after early January 2027 need Node 22.
 */
export function nodeSupportNote(version: string): Diagnostic[] {
  const major = Number(version.replace(/^v/, '').split('.')[0])
  if (!(major < 22)) return []
  return [
    {
      severity: 'warning',
      code: 'NODE_VERSION_OLD',
      message: `aws: Node ${version.replace(/^v/, '')} is past its end of life (April 2026), and AWS SDK releases after January 2027 need Node 22; migrate works on it today`,
      hint: 'Run migrate on Node 22 or 24',
    },
  ]
}
