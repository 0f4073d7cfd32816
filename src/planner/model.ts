// The planner's view of an estate: applications (sorted by name, indexed by number), what each one moves
// (servers, databases, data), its strategy and template, and the application graph aggregated from server-,
// database- and application-level dependencies. Pure: inventory + settings in, typed arrays out.
import {badInput} from '../errors.js'
import {nearest} from '../inventory/check.js'
import type {Strategy, TargetCloud} from '../schema/common.js'
import type {Application, Database, Inventory, Server} from '../schema/inventory.js'
import type {PlanSettings} from '../schema/plan.js'
import {StrTable} from './str-table.js'

export const ENV_ORDER = {dev: 0, test: 1, staging: 2, prod: 3} as const
/** Environment names by their ENV_ORDER. */
export const ENV_NAMES = ['dev', 'test', 'staging', 'prod'] as const
export const CRIT_ORDER = {low: 0, medium: 1, high: 2, critical: 3} as const
export const COMPLEXITY_ORDER = {low: 0, medium: 1, high: 2} as const

/** Engines with a managed target and a replication template. */
export const DB_TEMPLATES: Record<string, string> = {
  postgres: 'postgres-logical-replication',
  mysql: 'mariadb-gtid-replication',
  mariadb: 'mariadb-gtid-replication',
  redis: 'redis-replicaof',
}

export const REHOST_TEMPLATES: Record<TargetCloud, string> = {
  aws: 'aws-mgn-rehost',
  alicloud: 'alicloud-smc-rehost',
}

/** The template name of applications that stay out of the waves (retain/retire). */
export const NO_TEMPLATE = 'none'

export interface AppNode {
  name: string
  app: Application
  inScope: boolean
  strategy: Strategy
  strategyReason: string
  /** Template forced by a strategy rule. */
  ruleTemplate?: string
  env: number
  crit: number
  complexity: number
  servers: number[]
  dbs: number[]
  /** Servers replaced by a managed database (not rehosted). */
  replaced: ReadonlySet<number>
  /** Databases moved to a managed service. */
  replatformed: ReadonlySet<number>
  dataGiB: number
  changeGiBPerDay: number
  cloud: TargetCloud
  region: string
  observedDeps: boolean
  utilKnown: number
}

export interface AppEdges {
  /** Edge e: apps[from[e]] depends on apps[to[e]] (calls, reads, writes). */
  from: Int32Array
  to: Int32Array
  weight: Float64Array
  latency: Uint8Array
  count: number
}

export interface EstateModel {
  inventory: Inventory
  settings: PlanSettings
  apps: AppNode[]
  appIndex: Map<string, number>
  edges: AppEdges
  /** Server index by id, for the servers databases run on. */
  dbHosts: Map<string, number>
}

const MANAGED_ENGINES = new Set(Object.keys(DB_TEMPLATES))
/** Shared by the applications that replace nothing (most of them); never written to. */
const NONE: ReadonlySet<number> = new Set<number>()

export function unknownAppError(name: string, where: string, known: Map<string, number>): Error {
  const near = nearest(name, [...known.keys()])
  return badInput(
    `${where} names application "${name}", which is not in the inventory`,
    'UNKNOWN_APP',
    near ? `Did you mean "${near}"?` : 'Use an application name from the inventory',
  )
}

function matches(rule: PlanSettings['strategyRules'][number]['match'], a: Application): boolean {
  if (
    rule.app !== undefined &&
    rule.app !== a.name &&
    !(rule.app.endsWith('*') && a.name.startsWith(rule.app.slice(0, -1)))
  )
    return false
  if (rule.environment !== undefined && rule.environment !== a.environment) return false
  if (rule.criticality !== undefined && rule.criticality !== a.criticality) return false
  if (rule.tag) for (const [k, v] of Object.entries(rule.tag)) if (a.tags[k] !== v) return false
  return true
}

function serverDataGiB(s: Server): number {
  let sum = 0
  const disks = s.disks
  for (let i = 0; i < disks.length; i++) sum += disks[i].usedGiB ?? disks[i].sizeGiB
  return sum
}

/** Builds the model; refuses an inventory whose servers are not all assigned to applications. */
export function buildModel(inventory: Inventory, settings: PlanSettings): EstateModel {
  const unassigned = [
    ...new Set([
      ...inventory.unassigned,
      ...inventory.servers.filter((s) => s.application === undefined).map((s) => s.id),
    ]),
  ].sort()
  if (unassigned.length > 0) {
    throw badInput(
      `${unassigned.length} server${unassigned.length === 1 ? '' : 's'} belong${unassigned.length === 1 ? 's' : ''} to no application: ${unassigned.slice(0, 5).join(', ')}${unassigned.length > 5 ? ', …' : ''}`,
      'UNASSIGNED_SERVERS',
      'Set `application:` on each of them in the inventory (and remove them from `unassigned`), or tag them before discovery; the planner moves applications, not loose servers',
    )
  }
  const sortedApps = [...inventory.applications].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const appIndex = new Map<string, number>()
  sortedApps.forEach((a, i) => {
    appIndex.set(a.name, i)
  })
  for (const name of Object.keys(settings.targets))
    if (!appIndex.has(name)) throw unknownAppError(name, `settings.targets`, appIndex)

  const apps: AppNode[] = sortedApps.map((a) => {
    const t = settings.targets[a.name] ?? settings.target
    return {
      name: a.name,
      app: a,
      inScope: true,
      strategy: 'rehost',
      strategyReason: '',
      env: ENV_ORDER[a.environment],
      crit: CRIT_ORDER[a.criticality],
      complexity: COMPLEXITY_ORDER[a.complexity],
      servers: [],
      dbs: [],
      replaced: NONE,
      replatformed: NONE,
      dataGiB: 0,
      changeGiBPerDay: 0,
      cloud: t.cloud,
      region: t.region,
      observedDeps: false,
      utilKnown: 0,
    }
  })

  // One table from every id a dependency may name to a slot: servers 0..S-1, applications S.., databases S+A..;
  // ownerApp[slot] is the application. Database hosts resolve through the same table (no second map).
  const servers = inventory.servers
  const S = servers.length
  const A = apps.length
  const ownerOf = new StrTable(A + S + inventory.databases.length)
  const ownerApp = new Int32Array(S + A + inventory.databases.length).fill(-1)
  for (let i = 0; i < S; i++) {
    const s = servers[i]
    const ai = appIndex.get(s.application!)
    if (ai === undefined) throw unknownAppError(s.application!, `server ${s.id}`, appIndex)
    ownerOf.add(s.id, i)
    ownerApp[i] = ai
    apps[ai].servers.push(i)
    if (s.utilization?.cpuP95 !== undefined) apps[ai].utilKnown++
  }
  for (const [name, i] of appIndex) {
    ownerOf.add(name, S + i)
    ownerApp[S + i] = i
  }
  const serverIdx = new Map<string, number>()
  const hostOf = (d: Database): number | undefined => {
    if (d.serverId === undefined) return undefined
    const slot = ownerOf.get(d.serverId)
    return slot >= 0 && slot < S ? slot : undefined
  }
  inventory.databases.forEach((d, i) => {
    const host = hostOf(d)
    if (host !== undefined) serverIdx.set(d.serverId!, host)
    const ai =
      d.application !== undefined ? appIndex.get(d.application) : host !== undefined ? ownerApp[host] : undefined
    if (ai === undefined) return
    apps[ai].dbs.push(i)
    if (ownerOf.add(d.id, S + A + i)) ownerApp[S + A + i] = ai
  })
  // Strategy: rules first, then the application's hint, then its lifecycle tag, then the defaults.
  for (const node of apps) {
    const a = node.app
    const rule = settings.strategyRules.find((r) => matches(r.match, a))
    const managedDbs = node.dbs.filter((i) => MANAGED_ENGINES.has(inventory.databases[i].engine))
    if (rule) {
      node.strategy = rule.strategy
      node.ruleTemplate = rule.template
      node.strategyReason = `${rule.strategy}: strategy rule ${JSON.stringify(rule.match)}`
    } else if (a.strategyHint) {
      node.strategy = a.strategyHint
      node.strategyReason = `${a.strategyHint}: the inventory's strategy hint`
    } else if (a.tags.lifecycle === 'retire' || a.tags.lifecycle === 'retain') {
      node.strategy = a.tags.lifecycle
      node.strategyReason = `${a.tags.lifecycle}: tagged lifecycle=${a.tags.lifecycle}`
    } else if (managedDbs.length > 0) {
      node.strategy = 'replatform'
      const engines = [...new Set(managedDbs.map((i) => inventory.databases[i].engine))].sort()
      node.strategyReason = `replatform: ${engines.map((e) => `${inventory.databases[managedDbs.find((i) => inventory.databases[i].engine === e)!].managed ? '' : 'self-managed '}${e} → managed ${e}`).join(', ')}; application VMs rehosted`
    } else {
      node.strategy = 'rehost'
      node.strategyReason = 'rehost: application VMs are rehosted unless told otherwise'
    }
    node.inScope = node.strategy !== 'retire' && node.strategy !== 'retain'
    if (node.strategy === 'replatform') {
      let sql = false
      let kv = false
      const replaced = new Set<number>()
      const replatformed = new Set<number>()
      node.replaced = replaced
      node.replatformed = replatformed
      for (const i of managedDbs) {
        replatformed.add(i)
        const d = inventory.databases[i]
        if (d.engine === 'redis') kv = true
        else sql = true
        const si = d.serverId !== undefined ? serverIdx.get(d.serverId) : undefined
        if (si !== undefined) replaced.add(si)
      }
      for (const si of node.servers) {
        const role = inventory.servers[si].role
        if ((role === 'database' && sql) || (role === 'cache' && kv)) replaced.add(si)
      }
    }
    let data = 0
    let change = 0
    for (let k = 0; k < node.servers.length; k++) {
      const si = node.servers[k]
      if (node.replaced.size === 0 || !node.replaced.has(si)) data += serverDataGiB(inventory.servers[si])
    }
    for (const di of node.dbs) {
      const d = inventory.databases[di]
      if (node.replatformed.has(di) || d.serverId === undefined || !serverIdx.has(d.serverId)) data += d.sizeGiB ?? 0
      change += d.changeGiBPerDay ?? 0
    }
    node.dataGiB = data
    node.changeGiBPerDay = change
  }

  // Dependencies: resolve each end to its application, then aggregate per (from, to) pair: bucket by `from`
  // (counting sort) and merge repeated `to`s with a stamp array. O(edges), no hashing of pairs.
  const n = apps.length
  const deps = inventory.dependencies
  const m = deps.length
  const ea = new Int32Array(m)
  const eb = new Int32Array(m)
  for (let i = 0; i < m; i++) {
    const dep = deps[i]
    const sa = ownerOf.get(dep.from)
    const sb = ownerOf.get(dep.to)
    const a = sa < 0 ? -1 : ownerApp[sa]
    const b = sb < 0 ? -1 : ownerApp[sb]
    if (a < 0 || b < 0) {
      ea[i] = -1
      continue
    }
    if (dep.learnt === 'observed') {
      apps[a].observedDeps = true
      apps[b].observedDeps = true
    }
    ea[i] = a === b ? -1 : a
    eb[i] = b
  }
  const bucket = new Int32Array(n + 1)
  for (let i = 0; i < m; i++) if (ea[i] >= 0) bucket[ea[i] + 1]++
  for (let i = 0; i < n; i++) bucket[i + 1] += bucket[i]
  const fillPos = bucket.slice(0, n)
  const byFrom = new Int32Array(bucket[n])
  for (let i = 0; i < m; i++) if (ea[i] >= 0) byFrom[fillPos[ea[i]]++] = i
  const from = new Int32Array(bucket[n])
  const to = new Int32Array(bucket[n])
  const weight = new Float64Array(bucket[n])
  const latency = new Uint8Array(bucket[n])
  const stamp = new Int32Array(n).fill(-1)
  const pos = new Int32Array(n)
  let count = 0
  for (let a = 0; a < n; a++) {
    for (let k = bucket[a]; k < bucket[a + 1]; k++) {
      const i = byFrom[k]
      const b = eb[i]
      let e: number
      if (stamp[b] !== a) {
        stamp[b] = a
        e = pos[b] = count++
        from[e] = a
        to[e] = b
      } else e = pos[b]
      weight[e] += deps[i].weight
      if (deps[i].latencySensitive) latency[e] = 1
    }
  }
  return {inventory, settings, apps, appIndex, edges: {from, to, weight, latency, count}, dbHosts: serverIdx}
}

/** The runbooks moving an application exercises: its VMs' template (unless all are replaced) and its databases'. */
export function runbooks(model: EstateModel, n: AppNode): string[] {
  const out: string[] = []
  if (n.servers.length > n.replaced.size || n.ruleTemplate) out.push(n.ruleTemplate ?? REHOST_TEMPLATES[n.cloud])
  for (const di of n.replatformed) out.push(DB_TEMPLATES[model.inventory.databases[di].engine])
  return out
}
