// The inventory: what exists at the source. Written by `migrate discover`, read by `migrate plan`.
import {z} from 'zod'
import {API_VERSION, AppName, Criticality, Environment, Id, IsoDateTime, Provider, Strategy, Tags} from './common.js'

export const Disk = z.strictObject({
  name: z.string().min(1),
  sizeGiB: z.number().nonnegative(),
  type: z.string().optional(),
  /** Used space, when known; replication time is estimated from it. */
  usedGiB: z.number().nonnegative().optional(),
})

export const OsInfo = z.strictObject({
  family: z.enum(['linux', 'windows', 'other']),
  name: z.string().optional(),
  version: z.string().optional(),
})

export const Utilization = z.strictObject({
  /** 95th percentile CPU use over the observation period, 0–100. */
  cpuP95: z.number().min(0).max(100).optional(),
  /** 95th percentile memory use, 0–100. */
  memoryP95: z.number().min(0).max(100).optional(),
  /** Days the figures were collected over. */
  days: z.number().positive().optional(),
})

export const ServerRole = z.enum([
  'web',
  'app',
  'api',
  'worker',
  'cache',
  'database',
  'queue',
  'search',
  'lb',
  'batch',
  'storage',
  'other',
])

export const Server = z.strictObject({
  id: Id,
  name: z.string().min(1),
  provider: Provider,
  region: z.string().optional(),
  zone: z.string().optional(),
  hostname: z.string().optional(),
  privateIps: z.array(z.string()).default([]),
  publicIps: z.array(z.string()).default([]),
  vcpus: z.number().int().positive(),
  memoryMiB: z.number().int().positive(),
  disks: z.array(Disk).default([]),
  os: OsInfo,
  instanceType: z.string().optional(),
  state: z.enum(['running', 'stopped', 'pending', 'terminated', 'unknown']).default('running'),
  tags: Tags.default({}),
  /** Application name; servers without one go to the inventory's `unassigned` list. */
  application: z.string().optional(),
  role: ServerRole.optional(),
  environment: Environment.optional(),
  utilization: Utilization.optional(),
  /** Listening services seen by a probe (port → service). */
  services: z
    .array(z.strictObject({port: z.number().int(), process: z.string().optional(), service: z.string().optional()}))
    .optional(),
  /** Where this record came from: source kind and its own id (instance id, CMDB row, host); for a cloud, the account. */
  source: z.strictObject({kind: z.string(), ref: z.string().optional(), account: z.string().optional()}).optional(),
})
export type Server = z.infer<typeof Server>

export const DbEngine = z.enum(['postgres', 'mysql', 'mariadb', 'redis', 'mongodb', 'oracle', 'sqlserver', 'other'])
export type DbEngine = z.infer<typeof DbEngine>

export const Database = z.strictObject({
  id: Id,
  name: z.string().min(1),
  engine: DbEngine,
  version: z.string().optional(),
  /** The server it runs on, when it is self-managed on an inventoried VM. */
  serverId: z.string().optional(),
  host: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  /** Data size; absent when unknown (a probe saw the port listening but did not log in). */
  sizeGiB: z.number().nonnegative().optional(),
  /** Daily change volume; replication catch-up is estimated from it. */
  changeGiBPerDay: z.number().nonnegative().optional(),
  application: z.string().optional(),
  managed: z.boolean().default(false),
  /** Replication role as read from the server; absent when unknown. */
  role: z.enum(['primary', 'replica', 'standalone']).optional(),
  /** Settings that matter for migration, as read from the server (wal_level, binlog_format, gtid_mode, …). */
  settings: z.record(z.string(), z.string()).optional(),
  tags: Tags.default({}),
  /** Which source last saw it: kind and its own reference (the probed host, the --db endpoint, the CMDB file). */
  source: z.strictObject({kind: z.string(), ref: z.string().optional()}).optional(),
})
export type Database = z.infer<typeof Database>

export const Application = z.strictObject({
  name: AppName,
  owner: z.string().optional(),
  criticality: Criticality.default('medium'),
  environment: Environment.default('prod'),
  complexity: z.enum(['low', 'medium', 'high']).default('medium'),
  strategyHint: Strategy.optional(),
  description: z.string().optional(),
  tags: Tags.default({}),
})
export type Application = z.infer<typeof Application>

export const Dependency = z.strictObject({
  /** An application name, server id or database id. */
  from: z.string().min(1),
  to: z.string().min(1),
  kind: z.enum(['calls', 'reads', 'writes', 'replicates', 'depends']).default('calls'),
  protocol: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  /** How it was learnt: declared by a person/CMDB, or observed on the wire (ssh probe). */
  learnt: z.enum(['declared', 'observed']).default('declared'),
  /** Chatty or latency-sensitive links keep both ends in one wave. */
  latencySensitive: z.boolean().default(false),
  /** Relative traffic weight (connections or requests); 1 when unknown. */
  weight: z.number().positive().default(1),
})
export type Dependency = z.infer<typeof Dependency>

export const InventorySource = z.strictObject({
  kind: z.enum(['aws', 'alicloud', 'file', 'ssh', 'db', 'example', 'generated']),
  /** Regions, file path or hosts; never credentials. */
  scope: z.array(z.string()).default([]),
  at: IsoDateTime,
  count: z.number().int().nonnegative().optional(),
})

export const Inventory = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Inventory'),
  metadata: z.strictObject({
    name: Id,
    description: z.string().optional(),
    generatedAt: IsoDateTime.optional(),
    sources: z.array(InventorySource).default([]),
  }),
  applications: z.array(Application).default([]),
  servers: z.array(Server).default([]),
  databases: z.array(Database).default([]),
  dependencies: z.array(Dependency).default([]),
  /** Server ids that belong to no application yet; `migrate plan` refuses until they are resolved. */
  unassigned: z.array(z.string()).default([]),
})
export type Inventory = z.infer<typeof Inventory>
export type InventoryInput = z.input<typeof Inventory>
