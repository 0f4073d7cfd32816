// Each application's entry in the plan: its wave and move group, the target of each server and managed database
// (sized), the runbook template, the parameters of a managed database's template, and the reasons for all of it.
import type {Inventory} from '../schema/inventory.js'
import type {AppPlan} from '../schema/plan.js'
import {describeGroup, groupName, type GroupGraph} from './graph.js'
import {managedParams, managedRequires, managedTemplate} from './managed.js'
import {DB_TEMPLATES, NO_TEMPLATE, REHOST_TEMPLATES, type EstateModel} from './model.js'
import {placementReason, type Placement} from './explain.js'
import {Sizer, type Catalogs} from './sizing.js'

/** The three latest-moving dependencies of application a outside its group (then the heaviest), as a reason. */
function dependsOn(
  model: EstateModel,
  graph: GroupGraph,
  appWave: Int32Array,
  a: number,
  outStart: Int32Array,
  outList: Int32Array,
): string | undefined {
  const {edges} = model
  const g = graph.groupOf[a]
  const top = [-1, -1, -1]
  let others = 0
  const better = (e: number, f: number): boolean => {
    const we = appWave[edges.to[e]]
    const wf = appWave[edges.to[f]]
    if (we !== wf) return we > wf
    if (edges.weight[e] !== edges.weight[f]) return edges.weight[e] > edges.weight[f]
    return model.apps[edges.to[e]].name < model.apps[edges.to[f]].name
  }
  for (let k = outStart[a]; k < outStart[a + 1]; k++) {
    const e = outList[k]
    const b = edges.to[e]
    if (!appWave[b] || graph.groupOf[b] === g) continue
    others++
    let x = e
    for (let t = 0; t < 3; t++) {
      if (top[t] < 0 || better(x, top[t])) {
        const y = top[t]
        top[t] = x
        x = y
        if (x < 0) break
      }
    }
  }
  const shown = top.filter((e) => e >= 0)
  if (shown.length === 0) return undefined
  return `depends on ${shown.map((e) => `${model.apps[edges.to[e]].name} (wave ${appWave[edges.to[e]]})`).join(', ')}${others > 3 ? ` and ${others - 3} more` : ''}`
}

type AppNode = EstateModel['apps'][number]
type DbTarget = ReturnType<typeof dbTargetsOf>[number]

/** The managed target of each replatformed database of the application, sized, by id. */
function dbTargetsOf(model: EstateModel, n: AppNode, sizer: Sizer) {
  const {inventory} = model
  return n.dbs
    .filter((di) => n.replatformed.has(di))
    .map((di) => {
      const d = inventory.databases[di]
      const hi = d.serverId !== undefined ? model.dbHosts.get(d.serverId) : undefined
      const host = hi !== undefined ? inventory.servers[hi] : undefined
      const sized = sizer.sizeDatabase(d, host)
      if (!sized) return undefined
      const template = managedTemplate(n.cloud, d.engine, DB_TEMPLATES[d.engine])
      const requires = template ? managedRequires(template, n.name, d) : undefined
      return {
        id: d.id,
        service: sized.service,
        instanceClass: sized.instanceClass,
        template,
        reason:
          `${d.engine} ${d.version ?? ''}`.trim() +
          `, ${d.sizeGiB === undefined ? 'size unknown' : `${d.sizeGiB} GiB`}: ${sized.reason}`,
        ...(requires ? {engine: d.engine, ...(d.version ? {version: d.version} : {}), requires} : {}),
      }
    })
    .filter((x): x is NonNullable<typeof x> => x !== undefined)
    .sort((x, y) => (x.id < y.id ? -1 : 1))
}

/** The target of each server that moves (not those a managed service replaces), sized, by id. */
function serverTargetsOf(model: EstateModel, n: AppNode, sizer: Sizer): AppPlan['servers'] {
  const {inventory} = model
  const serverTargets: AppPlan['servers'] = []
  if (n.inScope) {
    const replaced = n.replaced.size > 0 ? n.replaced : undefined
    for (let k = 0; k < n.servers.length; k++) {
      const si = n.servers[k]
      if (replaced?.has(si)) continue
      const s = inventory.servers[si]
      const sz = sizer.sizeServer(s)
      serverTargets.push({
        id: s.id,
        instanceType: sz.instanceType,
        vcpus: sz.vcpus,
        memoryMiB: sz.memoryMiB,
        reason: sz.reason,
      })
    }
  }
  if (!sortedById(serverTargets)) serverTargets.sort((x, y) => (x.id < y.id ? -1 : 1))
  return serverTargets
}

/** The runbook template: none out of scope, a strategy rule's, the managed database's when only it moves, else rehost. */
function templateOf(n: AppNode, serverTargets: AppPlan['servers'], dbTargets: DbTarget[]): string {
  if (!n.inScope) return NO_TEMPLATE
  else if (n.ruleTemplate) return n.ruleTemplate
  else if (n.strategy === 'replatform' && serverTargets.length === 0 && dbTargets.length > 0)
    return dbTargets[0].template
  else return REHOST_TEMPLATES[n.cloud]
}

export function buildApps(placement: Placement, catalogs: Catalogs): AppPlan[] {
  const {model, graph, appWave} = placement
  const {inventory, settings, edges} = model
  const sizers = {aws: new Sizer(catalogs.aws), alicloud: new Sizer(catalogs.alicloud)}
  // Outgoing dependencies per application, heaviest first, for the reasons.
  const outStart = new Int32Array(model.apps.length + 1)
  for (let e = 0; e < edges.count; e++) outStart[edges.from[e] + 1]++
  for (let i = 0; i < model.apps.length; i++) outStart[i + 1] += outStart[i]
  const fill = outStart.slice(0, model.apps.length)
  const outList = new Int32Array(edges.count)
  for (let e = 0; e < edges.count; e++) outList[fill[edges.from[e]]++] = e
  const afterOf = new Map<number, string[]>()
  for (const c of settings.constraints) {
    if (!('before' in c)) continue
    const b = model.appIndex.get(c.before[1])
    if (b !== undefined) afterOf.set(b, [...(afterOf.get(b) ?? []), c.before[0]])
  }
  const pinOf = new Map(settings.pins.map((p) => [p.app, p]))
  return model.apps.map((n, a) => {
    const g = graph.groupOf[a]
    const w = appWave[a]
    const sizer = sizers[n.cloud]
    const target = {cloud: n.cloud, region: n.region}
    const dbTargets = dbTargetsOf(model, n, sizer)
    const serverTargets = serverTargetsOf(model, n, sizer)
    const template = templateOf(n, serverTargets, dbTargets)
    const reasons: string[] = []
    if (!n.inScope) {
      reasons.push(`${n.strategyReason}: stays out of the waves`)
    } else {
      reasons.push(
        placementReason(
          placement,
          a,
          afterOf,
          pinOf.get(n.name),
          dependsOn(model, graph, appWave, a, outStart, outList),
        ),
      )
      const ms = graph.members[g]
      if (ms.length > 1)
        reasons.push(
          `moves with ${describeGroup(
            model,
            ms.filter((x) => x !== a),
            graph.why[g],
          ).replace(/^move group /, '')}`,
        )
      reasons.push(n.strategyReason)
      const replaced = n.replaced.size === 0 ? 0 : n.servers.filter((si) => n.replaced.has(si)).length
      if (replaced > 0)
        reasons.push(
          `${replaced} database/cache server${replaced === 1 ? '' : 's'} replaced by the managed service${dbTargets.length === 1 ? '' : 's'} (${[...new Set(dbTargets.map((d) => d.service))].join(', ')})`,
        )
    }
    const out: AppPlan = {
      name: n.name,
      wave: w || null,
      moveGroup: g >= 0 ? groupName(model, graph.members[g]) : n.name,
      strategy: n.strategy,
      template,
      target,
      servers: serverTargets,
      databases: dbTargets,
      params:
        n.inScope && dbTargets.length === 1
          ? dbParams(
              inventory,
              n.dbs.find((di) => inventory.databases[di].id === dbTargets[0].id)!,
              model,
              n.name,
              dbTargets[0].template,
              n.region,
            )
          : {},
      reasons,
    }
    return out
  })
}

/**
 * Source-side template parameters of an application's one replatformed database (host, port, database name; never
 * credentials). With several databases the names would collide (params are per application): left to the operator.
 */
function sourceParams(inventory: Inventory, dbIndex: number, model: EstateModel): Record<string, string> {
  const d = inventory.databases[dbIndex]
  const hi = d.serverId !== undefined ? model.dbHosts.get(d.serverId) : undefined
  const hostServer = hi !== undefined ? inventory.servers[hi] : undefined
  const host = d.host ?? hostServer?.privateIps[0] ?? hostServer?.hostname
  if (!host) return {}
  const port = d.port ?? {postgres: 5432, mysql: 3306, mariadb: 3306, redis: 6379}[d.engine as 'postgres']
  switch (d.engine) {
    case 'postgres':
      return {
        source_conninfo: `host=${host} port=${port} dbname=${d.name}`,
        source_url: `postgresql://${host}:${port}/${d.name}`,
      }
    case 'mysql':
    case 'mariadb':
      return {database: d.name, source_host: host, source_port: String(port)}
    case 'redis':
      return {source_url: `redis://${host}:${port}`}
    default:
      return {}
  }
}

/** Source-side parameters, and the target-side ones the plan can derive for a managed template. */
function dbParams(
  inventory: Inventory,
  dbIndex: number,
  model: EstateModel,
  app: string,
  template: string | undefined,
  region: string,
): Record<string, string> {
  const src = sourceParams(inventory, dbIndex, model)
  const d = inventory.databases[dbIndex]
  if (template === 'redis-elasticache' && src.source_url) src.source_addr = src.source_url.replace(/^redis:\/\//, '')
  return template ? {...src, ...managedParams(template, app, d, region)} : src
}

function sortedById(xs: {id: string}[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i - 1].id > xs[i].id) return false
  return true
}
