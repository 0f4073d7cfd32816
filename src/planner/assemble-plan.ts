// The planner's pure core: (inventory, settings, prior state) → Plan, synchronous and deterministic.
// It builds the application graph and its move groups, assigns them to waves by the ranked rules, puts the waves on
// the calendar, sizes the targets, and writes down every reason. Same input, same output, byte for byte.
import {badInput} from '../errors.js'
import {inventoryDigest} from '../inventory/digest.js'
import {API_VERSION} from '../schema/common.js'
import type {Inventory} from '../schema/inventory.js'
import type {AppPlan, Plan, PlanSettings} from '../schema/plan.js'
import {deadlineError, lastCutover} from './advice.js'
import {checkPins, groupAttrs} from './group-attrs.js'
import {rulesOf} from './rule-ranking.js'
import {assignWaves} from './wave-scheduler.js'
import type {AssignInput, Assignment, FixedWave} from './waves.js'
import {Calendar, dayOfIso, formatDay} from './calendar.js'
import {buildGroups, describeGroup, groupName, type GroupGraph} from './graph.js'
import {managedParams, managedRequires, managedTemplate} from './managed.js'
import {buildModel, DB_TEMPLATES, NO_TEMPLATE, REHOST_TEMPLATES, type EstateModel} from './model.js'
import {buildWaves, finalTally, markPilots, placementReason, type Placement} from './explain.js'
import {measure, type Quality} from './quality.js'
import {loadCatalogs, Sizer, type Catalogs} from './sizing.js'

export const PLANNER_VERSION = 'migrate-planner/1'

/** What a re-plan keeps: the previous plan and the waves the state journal shows as started or finished. */
export interface PriorState {
  plan: Plan
  startedWaves: number[]
}

export interface AssembleOptions {
  name?: string
  /** Path of the inventory relative to the plan file. */
  inventoryPath?: string
  /** sha256 of the inventory file; computed from the parsed inventory when absent. */
  inventoryDigest?: string
  catalogs?: Catalogs
  /** When given, filled with milliseconds per phase (model, groups, waves, targets, report). */
  timings?: Record<string, number>
}

export function assemblePlan(
  inventory: Inventory,
  settings: PlanSettings,
  prior?: PriorState,
  options: AssembleOptions = {},
): Plan {
  return assemble(inventory, settings, prior, options).plan
}

/** assemblePlan with the quality figures and internals, for the command's report and the benchmark. */
export function assemble(
  inventory: Inventory,
  settings: PlanSettings,
  prior?: PriorState,
  options: AssembleOptions = {},
): {plan: Plan; quality: Quality} {
  const t = options.timings
  let t0 = t ? performance.now() : 0
  const lap = (name: string) => {
    if (!t) return
    const now = performance.now()
    t[name] = (t[name] ?? 0) + now - t0
    t0 = now
  }
  const cal = new Calendar(settings)
  if (cal.deadlineDay !== undefined && cal.deadlineDay <= cal.startDay) {
    throw badInput(
      `the deadline ${settings.deadline} is not after the start date ${settings.startDate}`,
      'BAD_SETTINGS',
      'Set settings.deadline (or --deadline) after settings.startDate',
    )
  }
  const model = buildModel(inventory, settings)
  lap('model')
  const rules = rulesOf(settings)
  const graph = buildGroups(model, {mergeLinks: rules.groups, dependencyOrder: rules.deps})
  lap('groups')

  // Waves that have started keep their applications and dates.
  const fixedWaves: FixedWave[] = []
  const fixedOfApp = new Map<number, number>()
  if (prior) {
    for (const n of [...new Set(prior.startedWaves)].sort((a, b) => a - b)) {
      const pw = prior.plan.waves.find((w) => w.number === n)
      if (!pw) continue
      fixedWaves.push({
        number: n,
        name: pw.name,
        cutoverDay: dayOfIso(cal.timeZone, pw.cutover.start),
        replicationStart: pw.replicationStart,
        test: pw.test,
        cutover: pw.cutover,
        pilot: pw.pilot,
        ...(pw.replicationDays !== undefined ? {replicationDays: pw.replicationDays} : {}),
      })
      for (const name of pw.applications) {
        const i = model.appIndex.get(name)
        if (i !== undefined && model.apps[i].inScope && !fixedOfApp.has(i)) fixedOfApp.set(i, n)
      }
    }
  }
  const attrs = groupAttrs(model, graph, fixedOfApp)
  const latestWave = checkPins(model, graph, attrs)
  const priorWaves =
    prior && sameSettings(prior.plan.settings, settings) ? priorWavesOf(model, graph, prior.plan) : undefined
  const input: AssignInput = {model, graph, attrs, latestWave, cal, fixedWaves, prior: priorWaves}
  const asg = assignChecked(input)
  if (cal.deadlineDay !== undefined && lastCutover(asg) > cal.deadlineDay)
    throw deadlineError(input, asg, (s) => assignWith(input, s))
  lap('waves')

  const appWave = new Int32Array(model.apps.length)
  model.apps.forEach((_, a) => {
    const g = graph.groupOf[a]
    appWave[a] = g >= 0 ? asg.waveOf[g] : 0
  })
  const waveDay = (w: number): number => {
    const s = asg.waves[w - 1]
    return s.fixed ? s.fixed.cutoverDay : s.schedule!.slot.day
  }
  const tally = finalTally(model, appWave, asg.waves.length)
  const placement: Placement = {model, graph, attrs, asg, appWave, tally, waveDay, prior: priorWaves}
  markPilots(placement)
  const quality = measure(
    model,
    graph,
    appWave,
    asg.waves.map((s) => ({
      number: s.number,
      cutoverDay: waveDay(s.number),
      inBlackout: s.fixed ? cal.cutoverBlackout(s.fixed.cutover.start, s.fixed.cutover.end) !== undefined : false,
    })),
    cal,
  )
  const catalogs = options.catalogs ?? loadCatalogs()
  lap('quality')
  const applications = buildApps(placement, catalogs)
  lap('targets')
  const waves = buildWaves(placement, applications, cal)
  lap('report')
  const metrics: Record<string, number> = {
    dependencyDaysSplit: quality.dependencyDaysSplit,
    durationDays: quality.durationDays,
    rulesViolated: quality.rulesViolated,
    splitDependencies: quality.splitDependencies,
    wavesUsed: quality.wavesUsed,
  }
  for (const [k, n] of Object.entries(quality.violations)) if (n > 0) metrics[`violations.${k}`] = n
  const plan: Plan = {
    apiVersion: API_VERSION,
    kind: 'Plan',
    metadata: {
      name: options.name ?? inventory.metadata.name,
      inventory: options.inventoryPath ?? 'inventory.yaml',
      inventoryDigest: options.inventoryDigest ?? inventoryDigest(inventory),
      plannerVersion: PLANNER_VERSION,
    },
    settings,
    waves,
    applications,
    metrics: Object.fromEntries(Object.entries(metrics).sort(([a], [b]) => (a < b ? -1 : 1))),
  }
  return {plan, quality}
}

/** Assigns waves; when local improvement broke a notBefore date (a wave's data grew), assigns again without it. */
function assignChecked(input: AssignInput): Assignment {
  let asg = assignWaves(input)
  if (notBeforeBroken(input, asg)) asg = assignWaves(input, {improve: false})
  checkPinDates(input, asg)
  return asg
}

/** The same planning problem under other settings (for advice): its assignment. */
function assignWith(input: AssignInput, settings: PlanSettings): Assignment {
  const model: EstateModel = {...input.model, settings}
  const fixedOfApp = new Map<number, number>()
  input.graph.groupOf.forEach((g, a) => {
    if (g >= 0 && input.attrs.fixed[g]) fixedOfApp.set(a, input.attrs.fixed[g])
  })
  const attrs = groupAttrs(model, input.graph, fixedOfApp)
  const latestWave = checkPins(model, input.graph, attrs)
  return assignChecked({...input, model, attrs, latestWave, cal: new Calendar(settings)})
}

function sameSettings(a: PlanSettings, b: PlanSettings): boolean {
  return stableJson(a) === stableJson(b)
}

function stableJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(stableJson).join(',')}]`
  if (x && typeof x === 'object')
    return `{${Object.keys(x)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((x as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(x) ?? 'null'
}

/** The previous plan's wave of each group: the earliest of its applications' (0 when none of them was placed). */
function priorWavesOf(model: EstateModel, graph: GroupGraph, plan: Plan): Int32Array {
  const out = new Int32Array(graph.count)
  for (const ap of plan.applications) {
    const a = model.appIndex.get(ap.name)
    if (a === undefined || ap.wave === null) continue
    const g = graph.groupOf[a]
    if (g >= 0 && (out[g] === 0 || ap.wave < out[g])) out[g] = ap.wave
  }
  return out
}

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

function notBeforeBroken(input: AssignInput, asg: Assignment): boolean {
  const {graph, attrs} = input
  for (let g = 0; g < graph.count; g++) {
    if (attrs.notBefore[g] === Number.NEGATIVE_INFINITY || attrs.pin[g] || attrs.fixed[g]) continue
    const s = asg.waves[asg.waveOf[g] - 1]
    if (s.schedule && s.schedule.slot.day < attrs.notBefore[g]) return true
  }
  return false
}

function checkPinDates(input: AssignInput, asg: Assignment): void {
  const {graph, attrs, model} = input
  const name = (g: number) => model.apps[graph.members[g][0]].name
  for (let g = 0; g < graph.count; g++) {
    if (attrs.notBefore[g] === Number.NEGATIVE_INFINITY) continue
    const s = asg.waves[asg.waveOf[g] - 1]
    const day = s.fixed ? s.fixed.cutoverDay : s.schedule!.slot.day
    if (day >= attrs.notBefore[g]) continue
    if (attrs.pin[g]) {
      throw badInput(
        `"${name(g)}" is pinned to wave ${attrs.pin[g]}, which cuts over on ${formatDay(day)}, but also not before ${formatDay(attrs.notBefore[g])}`,
        'PIN_CONFLICT',
        'Pin it to a later wave, or drop one of the two in settings.pins',
      )
    }
    // Pulled early by a pinned application that depends on it: find that one.
    let culprit = -1
    const seen = new Set<number>([g])
    const queue = [g]
    for (let q = 0; q < queue.length && culprit < 0; q++) {
      const v = queue[q]
      for (let k = graph.succStart[v]; k < graph.succStart[v + 1]; k++) {
        const t = graph.succList[k]
        if (seen.has(t)) continue
        seen.add(t)
        if (attrs.pin[t] || attrs.fixed[t]) {
          culprit = t
          break
        }
        queue.push(t)
      }
    }
    throw badInput(
      `"${name(g)}" may not move before ${formatDay(attrs.notBefore[g])}, but ${culprit >= 0 ? `"${name(culprit)}", which depends on it, is ${attrs.pin[culprit] ? 'pinned to' : 'already running in'} wave ${attrs.pin[culprit] || attrs.fixed[culprit]}` : `it had to move in wave ${asg.waveOf[g]}`} (cutover ${formatDay(day)})`,
      'PIN_CONTRADICTS_ORDER',
      'A dependency target moves in the same or an earlier wave: move the pin to a later wave, or drop the notBefore date in settings.pins',
    )
  }
}

function buildApps(placement: Placement, catalogs: Catalogs): AppPlan[] {
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
    const dbTargets = n.dbs
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
    let template: string
    if (!n.inScope) template = NO_TEMPLATE
    else if (n.ruleTemplate) template = n.ruleTemplate
    else if (n.strategy === 'replatform' && serverTargets.length === 0 && dbTargets.length > 0)
      template = dbTargets[0].template
    else template = REHOST_TEMPLATES[n.cloud]
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
