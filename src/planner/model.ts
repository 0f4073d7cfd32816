// The planner's view of an estate: applications (sorted by name, indexed by number), what each one moves
// (servers, databases, data), its strategy and template, and the application graph aggregated from server-,
// database- and application-level dependencies. Pure: inventory + settings in, typed arrays out.
import {badInput} from '../errors.js'
import {nearest} from '../inventory/check.js'
import type {Strategy, TargetCloud} from '../schema/common.js'
import type {Application, Database, Inventory, Server} from '../schema/inventory.js'
import type {PlanSettings} from '../schema/plan.js'

export const ENV_ORDER = {dev: 0, test: 1, staging: 2, prod: 3} as const
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
  replaced: Set<number>
  /** Databases moved to a managed service. */
  replatformed: Set<number>
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
}

const MANAGED_ENGINES = new Set(Object.keys(DB_TEMPLATES))

export function unknownAppError(name: string, where: string, known: Map<string, number>): Error {
  const near = nearest(name, [...known.keys()])
  return badInput(`${where} names application "${name}", which is not in the inventory`, 'UNKNOWN_APP', near ? `Did you mean "${near}"?` : 'Use an application name from the inventory')
}

function matches(rule: PlanSettings['strategyRules'][number]['match'], a: Application): boolean {
  if (rule.app !== undefined && rule.app !== a.name && !(rule.app.endsWith('*') && a.name.startsWith(rule.app.slice(0, -1)))) return false
  if (rule.environment !== undefined && rule.environment !== a.environment) return false
  if (rule.criticality !== undefined && rule.criticality !== a.criticality) return false
  if (rule.tag) for (const [k, v] of Object.entries(rule.tag)) if (a.tags[k] !== v) return false
  return true
}

function serverDataGiB(s: Server): number {
  let sum = 0
  for (const d of s.disks) sum += d.usedGiB ?? d.sizeGiB
  return sum
}

/** Builds the model; refuses an inventory whose servers are not all assigned to applications. */
export function buildModel(inventory: Inventory, settings: PlanSettings): EstateModel {
  const unassigned = [...new Set([...inventory.unassigned, ...inventory.servers.filter((s) => s.application === undefined).map((s) => s.id)])].sort()
  if (unassigned.length > 0) {
    throw badInput(
      `${unassigned.length} server${unassigned.length === 1 ? '' : 's'} belong${unassigned.length === 1 ? 's' : ''} to no application: ${unassigned.slice(0, 5).join(', ')}${unassigned.length > 5 ? ', …' : ''}`,
      'UNASSIGNED_SERVERS',
      'Set `application:` on each of them in the inventory (and remove them from `unassigned`), or tag them before discovery; the planner moves applications, not loose servers',
    )
  }
  const sortedApps = [...inventory.applications].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const appIndex = new Map<string, number>()
  sortedApps.forEach((a, i) => appIndex.set(a.name, i))
  for (const name of Object.keys(settings.targets)) if (!appIndex.has(name)) throw unknownAppError(name, `settings.targets`, appIndex)

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
      replaced: new Set(),
      replatformed: new Set(),
      dataGiB: 0,
      changeGiBPerDay: 0,
      cloud: t.cloud,
      region: t.region,
      observedDeps: false,
      utilKnown: 0,
    }
  })

  const serverIdx = new Map<string, number>()
  inventory.servers.forEach((s, i) => {
    serverIdx.set(s.id, i)
    const ai = appIndex.get(s.application!)
    if (ai === undefined) throw unknownAppError(s.application!, `server ${s.id}`, appIndex)
    apps[ai].servers.push(i)
    if (s.utilization?.cpuP95 !== undefined) apps[ai].utilKnown++
  })
  const dbApp = (d: Database): number | undefined => {
    if (d.application !== undefined) return appIndex.get(d.application)
    const si = d.serverId !== undefined ? serverIdx.get(d.serverId) : undefined
    return si === undefined ? undefined : appIndex.get(inventory.servers[si].application!)
  }
  inventory.databases.forEach((d, i) => {
    const ai = dbApp(d)
    if (ai !== undefined) apps[ai].dbs.push(i)
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
      for (const i of managedDbs) {
        node.replatformed.add(i)
        const d = inventory.databases[i]
        if (d.engine === 'redis') kv = true
        else sql = true
        const si = d.serverId !== undefined ? serverIdx.get(d.serverId) : undefined
        if (si !== undefined) node.replaced.add(si)
      }
      for (const si of node.servers) {
        const role = inventory.servers[si].role
        if ((role === 'database' && sql) || (role === 'cache' && kv)) node.replaced.add(si)
      }
    }
    let data = 0
    let change = 0
    for (const si of node.servers) if (!node.replaced.has(si)) data += serverDataGiB(inventory.servers[si])
    for (const di of node.dbs) {
      const d = inventory.databases[di]
      if (node.replatformed.has(di) || d.serverId === undefined || !serverIdx.has(d.serverId)) data += d.sizeGiB
      change += d.changeGiBPerDay ?? 0
    }
    node.dataGiB = data
    node.changeGiBPerDay = change
  }

  // Dependencies: resolve each end (application, server or database) to its application; aggregate per pair.
  const owner = (ref: string): number | undefined => {
    const a = appIndex.get(ref)
    if (a !== undefined) return a
    const si = serverIdx.get(ref)
    if (si !== undefined) return appIndex.get(inventory.servers[si].application!)
    return undefined
  }
  const dbOwner = new Map<string, number>()
  inventory.databases.forEach((d) => {
    const ai = dbApp(d)
    if (ai !== undefined) dbOwner.set(d.id, ai)
  })
  const n = apps.length
  const pairIndex = new Map<number, number>()
  let cap = Math.max(16, inventory.dependencies.length)
  let from = new Int32Array(cap)
  let to = new Int32Array(cap)
  let weight = new Float64Array(cap)
  let latency = new Uint8Array(cap)
  let count = 0
  for (const dep of inventory.dependencies) {
    const a = owner(dep.from) ?? dbOwner.get(dep.from)
    const b = owner(dep.to) ?? dbOwner.get(dep.to)
    if (a === undefined || b === undefined) continue
    if (dep.learnt === 'observed') {
      apps[a].observedDeps = true
      apps[b].observedDeps = true
    }
    if (a === b) continue
    const key = a * n + b
    let e = pairIndex.get(key)
    if (e === undefined) {
      if (count === cap) {
        cap *= 2
        const grow = <T extends Int32Array | Float64Array | Uint8Array>(arr: T, C: new (n: number) => T): T => {
          const x = new C(cap)
          x.set(arr)
          return x
        }
        from = grow(from, Int32Array)
        to = grow(to, Int32Array)
        weight = grow(weight, Float64Array)
        latency = grow(latency, Uint8Array)
      }
      e = count++
      pairIndex.set(key, e)
      from[e] = a
      to[e] = b
    }
    weight[e] += dep.weight
    if (dep.latencySensitive) latency[e] = 1
  }
  return {inventory, settings, apps, appIndex, edges: {from, to, weight, latency, count}}
}
