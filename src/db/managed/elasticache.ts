// Redis/Valkey → Amazon ElastiCache (node-based, cluster mode disabled) through the service's online migration:
// StartMigration makes the ElastiCache primary a replica of our node, CompleteMigration promotes it; clients
// cannot run REPLICAOF, SLAVEOF or CONFIG there, so everything on the target side goes through the control plane
// (@aws-sdk/client-elasticache), and the target's data plane is only read (INFO) or copied from (SCAN/DUMP).
// ElastiCache does not let an outside node replicate from it (SYNC/PSYNC are restricted), so there is no reverse
// replication: a rollback after CompleteMigration copies the keys back from ElastiCache to the source with
// DUMP/RESTORE while clients are held off; keys deleted on ElastiCache after the cutover are not deleted on the source.
import {createRequire} from 'node:module'
import type * as Ec from '@aws-sdk/client-elasticache'
import {EXIT, MigrateError, badInput} from '../../errors.js'
import {parseInfo, redactUrl, sleep, withRedis} from '../connect.js'
import type {Finding} from '../types.js'
import {elasticacheError} from './elasticache-errors.js'

type EcModule = typeof Ec

export interface ElastiCacheTarget {
  replicationGroupId: string
  region: string
  /** Endpoint override (a VPC endpoint, or a test fixture); AWS_ENDPOINT_URL_ELASTICACHE is honoured by the SDK too. */
  endpoint?: string
  maxAttempts?: number
}

export interface GroupState {
  id: string
  status: string
  primary: {host: string; port: number}
  multiAZ: boolean
  transitEncryption: boolean
  clusterEnabled: boolean
  nodeType: string
  engine: string
  engineVersion?: string
}

function sdk(): EcModule {
  // The SDK's notice that future releases need Node 22 is for its maintainers, not for the user of a pinned SDK.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  return createRequire(import.meta.url)('@aws-sdk/client-elasticache') as EcModule
}

function client(t: ElastiCacheTarget): {m: EcModule; c: Ec.ElastiCacheClient} {
  const m = sdk()
  return {
    m,
    c: new m.ElastiCacheClient({
      region: t.region,
      ...(t.endpoint ? {endpoint: t.endpoint} : {}),
      maxAttempts: t.maxAttempts ?? 5,
      retryMode: 'standard',
    }),
  }
}

async function call<T>(
  t: ElastiCacheTarget,
  action: string,
  fn: (m: EcModule, c: Ec.ElastiCacheClient) => Promise<T>,
): Promise<T> {
  const {m, c} = client(t)
  try {
    return await fn(m, c)
  } catch (e) {
    throw elasticacheError(e, t, action)
  } finally {
    c.destroy()
  }
}

/** DescribeReplicationGroups + DescribeCacheClusters (the engine version lives on the cache cluster). */
export async function describeGroup(t: ElastiCacheTarget, opts: {withVersion?: boolean} = {}): Promise<GroupState> {
  const g = await call(
    t,
    'DescribeReplicationGroups',
    async (m, c) =>
      (await c.send(new m.DescribeReplicationGroupsCommand({ReplicationGroupId: t.replicationGroupId})))
        .ReplicationGroups?.[0],
  )
  if (!g)
    throw new MigrateError(`ElastiCache has no replication group ${t.replicationGroupId} in ${t.region}`, {
      code: 'ELASTICACHE_GROUP_NOT_FOUND',
      exitCode: EXIT.BAD_INPUT,
    })
  const ep = g.NodeGroups?.[0]?.PrimaryEndpoint
  const state: GroupState = {
    id: g.ReplicationGroupId!,
    status: g.Status ?? 'unknown',
    primary: {host: ep?.Address ?? '', port: ep?.Port ?? 6379},
    multiAZ: g.MultiAZ === 'enabled',
    transitEncryption: !!g.TransitEncryptionEnabled,
    clusterEnabled: !!g.ClusterEnabled,
    nodeType: g.CacheNodeType ?? '',
    engine: g.Engine ?? 'redis',
  }
  if (opts.withVersion && g.MemberClusters?.[0]) {
    const cc = await call(
      t,
      'DescribeCacheClusters',
      async (m, c) =>
        (await c.send(new m.DescribeCacheClustersCommand({CacheClusterId: g.MemberClusters![0]}))).CacheClusters?.[0],
    )
    state.engineVersion = cc?.EngineVersion
  }
  return state
}

/** Memory of the common node types (GiB, AWS "Supported node types"); ElastiCache keeps 25% of it for itself by default. */
export const NODE_MEMORY_GIB: Record<string, number> = {
  'cache.t3.micro': 0.5,
  'cache.t3.small': 1.37,
  'cache.t3.medium': 3.09,
  'cache.t4g.micro': 0.5,
  'cache.t4g.small': 1.37,
  'cache.t4g.medium': 3.09,
  'cache.m5.large': 6.38,
  'cache.m5.xlarge': 12.93,
  'cache.m5.2xlarge': 26.04,
  'cache.m5.4xlarge': 52.26,
  'cache.m6g.large': 6.38,
  'cache.m6g.xlarge': 12.93,
  'cache.m6g.2xlarge': 26.04,
  'cache.m7g.large': 6.38,
  'cache.m7g.xlarge': 12.93,
  'cache.r5.large': 13.07,
  'cache.r5.xlarge': 26.32,
  'cache.r5.2xlarge': 52.82,
  'cache.r6g.large': 13.07,
  'cache.r6g.xlarge': 26.32,
  'cache.r6g.2xlarge': 52.82,
  'cache.r7g.large': 13.07,
  'cache.r7g.xlarge': 26.32,
  'cache.r7g.2xlarge': 52.82,
}

function versionBelow(v: string, min: number[]): boolean {
  const p = v.split('.').map((x) => Number.parseInt(x, 10) || 0)
  for (let i = 0; i < min.length; i++) if ((p[i] ?? 0) !== min[i]) return (p[i] ?? 0) < min[i]
  return false
}

/** The online-migration prerequisites (vendor docs), checked before anything changes. */
export async function elasticacheFindings(
  source: string,
  t: ElastiCacheTarget,
  sourcePasswordEnv?: string,
): Promise<Finding[]> {
  const g = await describeGroup(t, {withVersion: true})
  const findings = groupFindings(g)
  await withRedis(source, sourcePasswordEnv, async (r) => {
    const s = parseInfo(String(await r.info('server')))
    const m = parseInfo(String(await r.info('memory')))
    const cl = parseInfo(String(await r.info('cluster')))
    findings.push(...sourceFindings(g, s, m, cl))
  })
  findings.push({
    severity: 'info',
    code: 'ELASTICACHE_NO_REVERSE',
    message:
      'ElastiCache cannot be replicated from: a rollback after cutover copies keys back (DUMP/RESTORE), keys deleted on ElastiCache after cutover stay on the source',
  })
  return findings
}

/** The group: available, cluster mode and in-transit encryption off, Multi-AZ on, Redis OSS 5.0.6 or later. */
function groupFindings(g: GroupState): Finding[] {
  const findings: Finding[] = []
  if (g.status === 'migrating')
    findings.push({
      severity: 'blocker',
      code: 'ELASTICACHE_ALREADY_MIGRATING',
      message: `replication group ${g.id} is already migrating`,
      hint: 'Complete or abandon that migration first (CompleteMigration --force)',
    })
  else if (g.status !== 'available')
    findings.push({
      severity: 'blocker',
      code: 'ELASTICACHE_NOT_AVAILABLE',
      message: `replication group ${g.id} is ${g.status}`,
      hint: 'Wait until it is available',
    })
  if (g.clusterEnabled)
    findings.push({
      severity: 'blocker',
      code: 'ELASTICACHE_CLUSTER_MODE',
      message: `${g.id} runs in cluster mode: online migration here covers cluster-mode-disabled groups`,
      hint: 'Create the group with cluster mode disabled, or migrate per shard',
    })
  if (g.transitEncryption)
    findings.push({
      severity: 'blocker',
      code: 'ELASTICACHE_TRANSIT_ENCRYPTION',
      message: `${g.id} has in-transit encryption enabled, which online migration does not support`,
      hint: 'Create the group without in-transit encryption for the migration (enable it afterwards by modification)',
    })
  if (!g.multiAZ)
    findings.push({
      severity: 'blocker',
      code: 'ELASTICACHE_MULTI_AZ',
      message: `${g.id} has Multi-AZ disabled; online migration requires it`,
      hint: 'Enable Multi-AZ (a replica in another AZ and automatic failover)',
    })
  if (g.engineVersion && g.engine === 'redis' && versionBelow(g.engineVersion, [5, 0, 6]))
    findings.push({
      severity: 'blocker',
      code: 'ELASTICACHE_VERSION',
      message: `${g.id} runs Redis OSS ${g.engineVersion}; online migration needs 5.0.6 or later`,
      hint: 'Upgrade the group (or create it) with a newer engine version',
    })
  return findings
}

/** The source against the group: not a cluster, not newer than the group, its data fits the node type. */
function sourceFindings(
  g: GroupState,
  s: Record<string, string>,
  m: Record<string, string>,
  cl: Record<string, string>,
): Finding[] {
  const findings: Finding[] = []
  if (cl.cluster_enabled === '1')
    findings.push({
      severity: 'blocker',
      code: 'REDIS_CLUSTER',
      message: 'the source runs in cluster mode',
      hint: 'Migrate each shard into a cluster-mode-enabled group instead',
    })
  if (
    g.engineVersion &&
    g.engine === 'redis' &&
    versionBelow(g.engineVersion, s.redis_version.split('.').slice(0, 2).map(Number))
  )
    findings.push({
      severity: 'blocker',
      code: 'ELASTICACHE_OLDER_THAN_SOURCE',
      message: `${g.id} runs ${g.engineVersion}, older than the source's ${s.redis_version}: it cannot load the source's RDB`,
      hint: 'Use an engine version at least the source’s',
    })
  const mem = NODE_MEMORY_GIB[g.nodeType]
  const used = Number(m.used_memory)
  if (mem === undefined)
    findings.push({
      severity: 'warning',
      code: 'ELASTICACHE_MEMORY_UNKNOWN',
      message: `node type ${g.nodeType} is not in migrate's table: memory not checked (source uses ${(used / 1048576).toFixed(1)} MiB)`,
    })
  else if (used > mem * 0.75 * 1024 ** 3)
    findings.push({
      severity: 'blocker',
      code: 'ELASTICACHE_MEMORY',
      message: `the source uses ${(used / 1048576).toFixed(0)} MiB; ${g.nodeType} has ${mem} GiB, of which 25% is reserved by default`,
      hint: 'Choose a larger node type',
    })
  else
    findings.push({
      severity: 'info',
      code: 'ELASTICACHE_MEMORY',
      message: `source ${(used / 1048576).toFixed(1)} MiB of ${g.nodeType}'s ${(mem * 0.75).toFixed(2)} GiB usable`,
    })
  return findings
}

/** StartMigration from `sourceAddr` (as the group's VPC reaches it); idempotent when already migrating from it. */
export async function elasticacheStart(
  t: ElastiCacheTarget,
  sourceAddr: {host: string; port: number},
): Promise<GroupState> {
  const g = await describeGroup(t)
  if (g.status === 'migrating') return g
  await call(t, 'StartMigration', (m, c) =>
    c.send(
      new m.StartMigrationCommand({
        ReplicationGroupId: t.replicationGroupId,
        CustomerNodeEndpointList: [{Address: sourceAddr.host, Port: sourceAddr.port}],
      }),
    ),
  )
  return describeGroup(t)
}

/** CompleteMigration, then waits until the group is available again (it passes through modifying). */
export async function elasticacheComplete(
  t: ElastiCacheTarget,
  opts: {force?: boolean; timeoutMs?: number} = {},
): Promise<GroupState> {
  const g = await describeGroup(t)
  if (g.status !== 'migrating') {
    if (opts.force) return g
  }
  await call(t, 'CompleteMigration', (m, c) =>
    c.send(new m.CompleteMigrationCommand({ReplicationGroupId: t.replicationGroupId, Force: opts.force})),
  )
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000)
  for (;;) {
    const s = await describeGroup(t)
    if (s.status === 'available') return s
    if (Date.now() > deadline)
      throw new MigrateError(`${t.replicationGroupId} is still ${s.status} after CompleteMigration`, {
        code: 'ELASTICACHE_WRONG_STATE',
        hint: 'Watch DescribeReplicationGroups; the primary already takes writes once the migration completed',
      })
    await sleep(100)
  }
}

/** The data-plane URL of the group's primary endpoint. */
export function primaryUrl(g: GroupState): string {
  return `redis://${g.primary.host}:${g.primary.port}`
}

/** Copies every key of `from` into `to` with DUMP/PTTL → RESTORE REPLACE (the rollback after cutover). */
export async function copyKeysBack(
  from: string,
  to: string,
  opts: {fromPasswordEnv?: string; toPasswordEnv?: string} = {},
): Promise<{keys: number}> {
  let keys = 0
  await withRedis(from, opts.fromPasswordEnv, (src) =>
    withRedis(to, opts.toPasswordEnv, async (dst) => {
      let cursor = '0'
      do {
        const [next, batch] = await src.scan(cursor, 'COUNT', 1000)
        cursor = next
        if (batch.length === 0) continue
        const read = src.pipeline()
        for (const k of batch) read.dumpBuffer(k).pttl(k)
        const res = (await read.exec()) ?? []
        const write = dst.pipeline()
        for (let i = 0; i < batch.length; i++) {
          const dump = res[2 * i]?.[1] as Buffer | null
          const ttl = Number(res[2 * i + 1]?.[1])
          if (!dump) continue
          write.restore(batch[i], Math.max(ttl, 0), dump, 'REPLACE')
          keys++
        }
        const out = (await write.exec()) ?? []
        const failed = out.find(([err]) => err)
        if (failed)
          throw new MigrateError(`copying keys back to ${redactUrl(to)} failed: ${failed[0]!.message}`, {
            code: 'ELASTICACHE_COPY_BACK',
            hint: 'The source must run a Redis version that reads the target’s DUMP format (same or newer)',
          })
      } while (cursor !== '0')
    }),
  )
  return {keys}
}

export function parseAddr(v: string, what: string): {host: string; port: number} {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(v)
  if (!m)
    throw badInput(`${what} ${v} is not host:port`, 'DB_BAD_ADDR', `Write ${what} as host:port, e.g. 10.0.0.7:6379`)
  return {host: m[1], port: Number(m[2])}
}
