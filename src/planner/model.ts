// The planner's view of an estate: applications (sorted by name, indexed by number), what each one moves
// (servers, databases, data), its strategy and template, and the application graph aggregated from server-,
// database- and application-level dependencies. Pure: inventory + settings in, typed arrays out.
import {badInput} from '../errors.js'
import {nearest} from '../inventory/check.js'
import type {Strategy, TargetCloud} from '../schema/common.js'
import type {Application, Inventory} from '../schema/inventory.js'
import type {PlanSettings} from '../schema/plan.js'
import {aggregateEdges, chooseStrategy, indexOwners, tallyData} from './model-index.js'

export const ENV_ORDER = {dev: 0, test: 1, staging: 2, prod: 3} as const
/** Environment names by their ENV_ORDER. */
export const ENV_NAMES = ['dev', 'test', 'staging', 'prod'] as const
export const CRIT_ORDER = {low: 0, medium: 1, high: 2, critical: 3} as const
export const COMPLEXITY_ORDER = {low: 0, medium: 1, high: 2} as const

import {DB_TEMPLATES, REHOST_TEMPLATES} from './templates.js'

export {DB_TEMPLATES, NO_TEMPLATE, REHOST_TEMPLATES} from './templates.js'

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

/** Builds the model; refuses an inventory whose servers are not all assigned to applications. */
export function buildModel(inventory: Inventory, settings: PlanSettings): EstateModel {
  refuseUnassigned(inventory)
  const sortedApps = [...inventory.applications].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const appIndex = new Map<string, number>()
  sortedApps.forEach((a, i) => {
    appIndex.set(a.name, i)
  })
  for (const name of Object.keys(settings.targets))
    if (!appIndex.has(name)) throw unknownAppError(name, `settings.targets`, appIndex)
  for (const s of inventory.servers)
    if (!appIndex.has(s.application!)) throw unknownAppError(s.application!, `server ${s.id}`, appIndex)

  const apps: AppNode[] = sortedApps.map((a) => appNode(a, settings))
  const owners = indexOwners(inventory, apps, appIndex)
  for (const node of apps) {
    chooseStrategy(node, inventory, settings, owners.dbHosts)
    tallyData(node, inventory, owners.dbHosts)
  }
  const edges = aggregateEdges(inventory, apps, owners)
  return {inventory, settings, apps, appIndex, edges, dbHosts: owners.dbHosts}
}

function refuseUnassigned(inventory: Inventory): void {
  const unassigned = [
    ...new Set([
      ...inventory.unassigned,
      ...inventory.servers.filter((s) => s.application === undefined).map((s) => s.id),
    ]),
  ].sort()
  if (unassigned.length === 0) return
  throw badInput(
    `${unassigned.length} server${unassigned.length === 1 ? '' : 's'} belong${unassigned.length === 1 ? 's' : ''} to no application: ${unassigned.slice(0, 5).join(', ')}${unassigned.length > 5 ? ', …' : ''}`,
    'UNASSIGNED_SERVERS',
    'Set `application:` on each of them in the inventory (and remove them from `unassigned`), or tag them before discovery; the planner moves applications, not loose servers',
  )
}

function appNode(a: Application, settings: PlanSettings): AppNode {
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
}

/** The runbooks moving an application exercises: its VMs' template (unless all are replaced) and its databases'. */
export function runbooks(model: EstateModel, n: AppNode): string[] {
  const out: string[] = []
  if (n.servers.length > n.replaced.size || n.ruleTemplate) out.push(n.ruleTemplate ?? REHOST_TEMPLATES[n.cloud])
  for (const di of n.replatformed) out.push(DB_TEMPLATES[model.inventory.databases[di].engine])
  return out
}
