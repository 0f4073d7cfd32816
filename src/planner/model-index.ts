// The model's indexes, built once the inventory is known to be sound (buildModel checks it): which application owns
// each server, database and id a dependency may name; each application's strategy, data and change rate; and the
// application graph aggregated from server-, database- and application-level dependencies.
import type {Application, Database, Inventory, Server} from '../schema/inventory.js'
import type {PlanSettings} from '../schema/plan.js'
import type {AppEdges, AppNode} from './model.js'
import {DB_TEMPLATES} from './templates.js'

const MANAGED_ENGINES = new Set(Object.keys(DB_TEMPLATES))

/** Every id a dependency may name (servers, applications, databases) → the application that owns it. */
export interface Owners {
  /** Id → slot: servers 0..S-1, applications S.., databases S+A..; ownerApp[slot] is the application. */
  slotOf: Map<string, number>
  ownerApp: Int32Array
  /** Server index by id, for the servers databases run on. */
  dbHosts: Map<string, number>
}

/**
 * Fills each application's servers and databases, and indexes the owner of every id. Server ids win over
 * application names, and those over database ids (the first writer of an id keeps it).
 */
export function indexOwners(inventory: Inventory, apps: AppNode[], appIndex: Map<string, number>): Owners {
  const servers = inventory.servers
  const serverCount = servers.length
  const appCount = apps.length
  const slotOf = new Map<string, number>()
  const ownerApp = new Int32Array(serverCount + appCount + inventory.databases.length).fill(-1)
  const claim = (id: string, slot: number, app: number): void => {
    if (slotOf.has(id)) return
    slotOf.set(id, slot)
    ownerApp[slot] = app
  }
  for (let i = 0; i < serverCount; i++) {
    const s = servers[i]
    const ai = appIndex.get(s.application!)!
    claim(s.id, i, ai)
    apps[ai].servers.push(i)
    if (s.utilization?.cpuP95 !== undefined) apps[ai].utilKnown++
  }
  for (const [name, i] of appIndex) claim(name, serverCount + i, i)
  const dbHosts = new Map<string, number>()
  const hostOf = (d: Database): number | undefined => {
    const slot = d.serverId === undefined ? undefined : slotOf.get(d.serverId)
    return slot !== undefined && slot < serverCount ? slot : undefined
  }
  inventory.databases.forEach((d, i) => {
    const host = hostOf(d)
    if (host !== undefined) dbHosts.set(d.serverId!, host)
    const ai =
      d.application !== undefined ? appIndex.get(d.application) : host !== undefined ? ownerApp[host] : undefined
    if (ai === undefined) return
    apps[ai].dbs.push(i)
    claim(d.id, serverCount + appCount + i, ai)
  })
  return {slotOf, ownerApp, dbHosts}
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

/** Strategy: rules first, then the application's hint, then its lifecycle tag, then the defaults. */
export function chooseStrategy(
  node: AppNode,
  inventory: Inventory,
  settings: PlanSettings,
  dbHosts: Map<string, number>,
): void {
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
  if (node.strategy === 'replatform') replatform(node, managedDbs, inventory, dbHosts)
}

/** A replatformed application: its managed-engine databases move to managed services, their hosts are replaced. */
function replatform(node: AppNode, managedDbs: number[], inventory: Inventory, dbHosts: Map<string, number>): void {
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
    const si = d.serverId !== undefined ? dbHosts.get(d.serverId) : undefined
    if (si !== undefined) replaced.add(si)
  }
  for (const si of node.servers) {
    const role = inventory.servers[si].role
    if ((role === 'database' && sql) || (role === 'cache' && kv)) replaced.add(si)
  }
}

function serverDataGiB(s: Server): number {
  let sum = 0
  const disks = s.disks
  for (let i = 0; i < disks.length; i++) sum += disks[i].usedGiB ?? disks[i].sizeGiB
  return sum
}

/** The data an application moves (its kept servers' disks, its databases not on a known host) and its change rate. */
export function tallyData(node: AppNode, inventory: Inventory, dbHosts: Map<string, number>): void {
  let data = 0
  let change = 0
  for (let k = 0; k < node.servers.length; k++) {
    const si = node.servers[k]
    if (node.replaced.size === 0 || !node.replaced.has(si)) data += serverDataGiB(inventory.servers[si])
  }
  for (const di of node.dbs) {
    const d = inventory.databases[di]
    if (node.replatformed.has(di) || d.serverId === undefined || !dbHosts.has(d.serverId)) data += d.sizeGiB ?? 0
    change += d.changeGiBPerDay ?? 0
  }
  node.dataGiB = data
  node.changeGiBPerDay = change
}

/**
 * Dependencies: resolve each end to its application, then aggregate per (from, to) pair: bucket by `from`
 * (counting sort) and merge repeated `to`s with a stamp array. O(edges), no hashing of pairs.
 */
export function aggregateEdges(inventory: Inventory, apps: AppNode[], owners: Owners): AppEdges {
  const n = apps.length
  const deps = inventory.dependencies
  const m = deps.length
  const fromApp = new Int32Array(m)
  const toApp = new Int32Array(m)
  for (let i = 0; i < m; i++) {
    const dep = deps[i]
    const slotFrom = owners.slotOf.get(dep.from)
    const slotTo = owners.slotOf.get(dep.to)
    const a = slotFrom === undefined ? -1 : owners.ownerApp[slotFrom]
    const b = slotTo === undefined ? -1 : owners.ownerApp[slotTo]
    if (a < 0 || b < 0) {
      fromApp[i] = -1
      continue
    }
    if (dep.learnt === 'observed') {
      apps[a].observedDeps = true
      apps[b].observedDeps = true
    }
    fromApp[i] = a === b ? -1 : a
    toApp[i] = b
  }
  const bucket = new Int32Array(n + 1)
  for (let i = 0; i < m; i++) if (fromApp[i] >= 0) bucket[fromApp[i] + 1]++
  for (let i = 0; i < n; i++) bucket[i + 1] += bucket[i]
  const fillPos = bucket.slice(0, n)
  const byFrom = new Int32Array(bucket[n])
  for (let i = 0; i < m; i++) if (fromApp[i] >= 0) byFrom[fillPos[fromApp[i]]++] = i
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
      const b = toApp[i]
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
  return {from, to, weight, latency, count}
}
