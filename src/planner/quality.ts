// The plan's quality in numbers, and a simple baseline to hold it against: rules violated (per rule),
// dependency-days spent split across the two sites, waves used. The baseline is what a spreadsheet does:
// applications ordered by criticality (least critical first), packed into waves by capacity, same calendar.
import type {Inventory} from '../schema/inventory.js'
import type {Plan, PlanSettings} from '../schema/plan.js'
import {scheduleWave} from './wave-schedule.js'
import {Calendar, dayOfIso} from './calendar.js'
import {buildGroups, type GroupGraph} from './graph.js'
import {buildModel, CRIT_ORDER, ENV_ORDER, type EstateModel} from './model.js'
import {SwapSearch} from './swap.js'
import {emptySoft, WaveTally, type RampLimits, type SoftViolations} from './tally.js'

export const VIOLATION_KINDS = [
  'move-groups-together',
  'dependencies-first',
  'before-constraints',
  'environments-not-mixed',
  'dev-before-prod',
  'critical-not-early',
  'small-early-waves',
  'capacity',
  'blackout',
  'pins',
] as const
export type ViolationKind = (typeof VIOLATION_KINDS)[number]

export interface Quality {
  rulesViolated: number
  violations: Record<ViolationKind, number>
  /** Σ over dependent application pairs in different waves of the days between their cutovers. */
  dependencyDaysSplit: number
  /** Dependent application pairs that move in different waves. */
  splitDependencies: number
  wavesUsed: number
  /** Days from the start date to the last cutover. */
  durationDays: number
  /** The first wave that moves production applications: its number, applications, servers and high/critical ones. */
  firstProdWave?: {wave: number; apps: number; servers: number; critical: number}
}

export interface WaveFacts {
  number: number
  cutoverDay: number
  inBlackout: boolean
}

/** Measures an assignment (appWave[a] = wave number, 0 = out of the waves). */
export function measure(
  model: EstateModel,
  graph: GroupGraph,
  appWave: Int32Array,
  waves: WaveFacts[],
  cal: Calendar,
): Quality {
  const v: Record<ViolationKind, number> = Object.fromEntries(VIOLATION_KINDS.map((k) => [k, 0])) as Record<
    ViolationKind,
    number
  >
  const byNumber = new Map<number, WaveFacts>()
  for (const w of waves) byNumber.set(w.number, w)
  const day = (w: number) => byNumber.get(w)?.cutoverDay ?? cal.startDay
  v['move-groups-together'] = groupsSplit(graph, appWave)
  const deps = dependencySplits(model, appWave, day)
  v['dependencies-first'] = deps.dependentFirst
  v['before-constraints'] = beforesBroken(model, appWave)
  // Per-wave tallies: capacity here, the soft rules (counted per environment) by WaveTally.
  const W = waves.reduce((m, w) => Math.max(m, w.number), 0)
  const {tally, perWave} = waveTallies(model, appWave, W)
  const soft = emptySoft()
  tally.violations(soft)
  for (const k of Object.keys(soft) as (keyof SoftViolations)[]) v[k] = soft[k]
  v.capacity = overCapacity(model.settings, perWave)
  for (const w of waves) if (w.inBlackout) v.blackout++
  v.pins = pinsBroken(model, appWave, day, cal)
  const used = new Set<number>()
  for (const w of appWave) if (w) used.add(w)
  const last = waves.reduce((m, w) => Math.max(m, w.cutoverDay), cal.startDay)
  const firstProd = firstProdWave(model, appWave, tally, perWave)
  return {
    ...(firstProd ? {firstProdWave: firstProd} : {}),
    rulesViolated: Object.values(v).reduce((x, y) => x + y, 0),
    violations: v,
    dependencyDaysSplit: deps.splitDays,
    splitDependencies: deps.split,
    wavesUsed: used.size,
    durationDays: last - cal.startDay,
  }
}

/** Move groups whose applications are not all in one wave. */
function groupsSplit(graph: GroupGraph, appWave: Int32Array): number {
  let n = 0
  for (const ms of graph.members) {
    const first = appWave[ms[0]]
    if (ms.some((a) => appWave[a] !== first)) n++
  }
  return n
}

/**
 * Over the dependencies between placed applications: those whose target moves after the dependent, those split
 * across waves, and the days between the cutovers of the split ones.
 */
function dependencySplits(
  model: EstateModel,
  appWave: Int32Array,
  day: (w: number) => number,
): {dependentFirst: number; split: number; splitDays: number} {
  let dependentFirst = 0
  let split = 0
  let splitDays = 0
  const {edges} = model
  for (let e = 0; e < edges.count; e++) {
    const wa = appWave[edges.from[e]]
    const wb = appWave[edges.to[e]]
    if (!wa || !wb) continue
    if (wb > wa) dependentFirst++
    if (wa !== wb) {
      split++
      splitDays += Math.abs(day(wa) - day(wb))
    }
  }
  return {dependentFirst, split, splitDays}
}

/** `before` constraints between placed applications that the waves do not keep. */
function beforesBroken(model: EstateModel, appWave: Int32Array): number {
  let n = 0
  for (const c of model.settings.constraints) {
    if (!('before' in c)) continue
    const a = model.appIndex.get(c.before[0])
    const b = model.appIndex.get(c.before[1])
    if (a === undefined || b === undefined || !appWave[a] || !appWave[b]) continue
    if (appWave[a] >= appWave[b]) n++
  }
  return n
}

/** What a wave holds, against the capacity limits. */
interface WaveLoad {
  apps: number
  servers: number
  data: number
  crit: number
}

/** The soft rules' tally over waves 1..W, and each wave's load (every wave an application is in). */
function waveTallies(
  model: EstateModel,
  appWave: Int32Array,
  W: number,
): {tally: WaveTally; perWave: Map<number, WaveLoad>} {
  const tally = new WaveTally(W, rampOf(model.settings))
  const perWave = new Map<number, WaveLoad>()
  model.apps.forEach((n, a) => {
    const w = appWave[a]
    if (!w) return
    let t = perWave.get(w)
    if (!t) perWave.set(w, (t = {apps: 0, servers: 0, data: 0, crit: 0}))
    t.apps++
    t.servers += n.servers.length
    t.data += n.dataGiB
    if (n.crit >= CRIT_ORDER.high) t.crit++
    if (w <= W) tally.add(w, n.env, 1, n.servers.length, n.crit >= CRIT_ORDER.high || n.complexity >= 2 ? 1 : 0)
  })
  return {tally, perWave}
}

/** Waves over any capacity limit. */
function overCapacity(s: PlanSettings, perWave: Map<number, WaveLoad>): number {
  let n = 0
  for (const [, t] of perWave) {
    if (
      t.apps > s.capacity.apps ||
      t.servers > s.capacity.servers ||
      t.data > s.capacity.dataTiB * 1024 ||
      t.crit > s.capacity.critical
    )
      n++
  }
  return n
}

/** Pins the waves break: a placed application in another wave than its pin, or cutting over before its date. */
function pinsBroken(model: EstateModel, appWave: Int32Array, day: (w: number) => number, cal: Calendar): number {
  let n = 0
  for (const p of model.settings.pins) {
    const a = model.appIndex.get(p.app)
    if (a === undefined || !appWave[a]) continue
    if (p.wave !== undefined && appWave[a] !== p.wave) n++
    if (p.notBefore !== undefined && day(appWave[a]) < dayOfIso(cal.timeZone, p.notBefore)) n++
  }
  return n
}

/** The first wave that moves production applications: its production applications, servers and high/critical ones. */
function firstProdWave(
  model: EstateModel,
  appWave: Int32Array,
  tally: WaveTally,
  perWave: Map<number, WaveLoad>,
): Quality['firstProdWave'] {
  const fp = tally.firstProd
  if (!fp || !perWave.get(fp)) return undefined
  let critical = 0
  model.apps.forEach((n, a) => {
    appWave[a] === fp && n.env === ENV_ORDER.prod && n.crit >= CRIT_ORDER.high && critical++
  })
  return {
    wave: fp,
    apps: tally.apps[fp * 4 + ENV_ORDER.prod],
    servers: tally.servers[fp * 4 + ENV_ORDER.prod],
    critical,
  }
}

/** Quality of a written (possibly hand-edited) plan against its inventory. */
export function planQuality(plan: Plan, inventory: Inventory): Quality {
  const model = buildModel(inventory, plan.settings)
  const graph = buildGroups(model, {mergeLinks: true, dependencyOrder: true})
  const cal = new Calendar(plan.settings)
  const appWave = new Int32Array(model.apps.length)
  for (const a of plan.applications) {
    const i = model.appIndex.get(a.name)
    if (i !== undefined && a.wave !== null) appWave[i] = a.wave
  }
  const waves = plan.waves.map((w) => ({
    number: w.number,
    cutoverDay: dayOfIso(cal.timeZone, w.cutover.start),
    inBlackout: cal.cutoverBlackout(w.cutover.start, w.cutover.end) !== undefined,
  }))
  return measure(model, graph, appWave, waves, cal)
}

/** The baseline: in-scope applications by criticality (then name), packed into waves up to capacity. */
export function baselineQuality(inventory: Inventory, settings: PlanSettings): Quality {
  return baselinePlacement(inventory, settings).quality
}

/** The baseline's placement (application → wave) and its quality. */
export function baselinePlacement(
  inventory: Inventory,
  settings: PlanSettings,
): {waves: Map<string, number>; quality: Quality} {
  const model = buildModel(inventory, settings)
  const graph = buildGroups(model, {mergeLinks: true, dependencyOrder: true})
  const cal = new Calendar(settings)
  const cap = settings.capacity
  const order = model.apps.map((_, i) => i).filter((i) => model.apps[i].inScope)
  order.sort((x, y) => model.apps[x].crit - model.apps[y].crit || (model.apps[x].name < model.apps[y].name ? -1 : 1))
  const appWave = new Int32Array(model.apps.length)
  const totals: {data: number; change: number}[] = []
  let w = 0
  let t = {apps: 0, servers: 0, data: 0, crit: 0, change: 0}
  for (const a of order) {
    const n = model.apps[a]
    const c = n.crit >= CRIT_ORDER.high ? 1 : 0
    if (
      w === 0 ||
      t.apps + 1 > cap.apps ||
      (t.apps > 0 &&
        (t.servers + n.servers.length > cap.servers ||
          t.data + n.dataGiB > cap.dataTiB * 1024 ||
          t.crit + c > cap.critical))
    ) {
      if (w > 0) totals.push({data: t.data, change: t.change})
      w++
      t = {apps: 0, servers: 0, data: 0, crit: 0, change: 0}
    }
    appWave[a] = w
    t.apps++
    t.servers += n.servers.length
    t.data += n.dataGiB
    t.crit += c
    t.change += n.changeGiBPerDay
  }
  if (w > 0) totals.push({data: t.data, change: t.change})
  const waves: WaveFacts[] = []
  let prev: number | undefined
  totals.forEach((x, i) => {
    const sch = scheduleWave(cal, settings, prev, x.data, x.change, i + 1)
    prev = sch.slot.day
    waves.push({number: i + 1, cutoverDay: sch.slot.day, inBlackout: false})
  })
  const placed = new Map<string, number>()
  model.apps.forEach((n, a) => {
    appWave[a] && placed.set(n.name, appWave[a])
  })
  return {waves: placed, quality: measure(model, graph, appWave, waves, cal)}
}

/** The ramp limits of the settings: the first waves of each environment, and its first wave's size. */
export function rampOf(s: PlanSettings): RampLimits {
  return {earlyWaves: s.ramp.earlyWaves, earlyServers: s.ramp.earlyServers, pilotApps: s.pilot.apps}
}

/**
 * The most soft violations one move or swap of a move group could remove from a written plan while every hard rule
 * (dependency order, `before`, capacity, pins, notBefore) still holds, and that move. 0: no single swap helps.
 */
export function swapGain(plan: Plan, inventory: Inventory): {gain: number; move?: string} {
  const model = buildModel(inventory, plan.settings)
  const graph = buildGroups(model, {mergeLinks: true, dependencyOrder: true})
  const cal = new Calendar(plan.settings)
  const waveOf = new Int32Array(graph.count)
  for (const a of plan.applications) {
    const i = model.appIndex.get(a.name)
    if (i !== undefined && a.wave !== null && graph.groupOf[i] >= 0) waveOf[graph.groupOf[i]] = a.wave
  }
  const days = new Map(plan.waves.map((w) => [w.number, dayOfIso(cal.timeZone, w.cutover.start)]))
  const frozen = new Uint8Array(graph.count)
  const notBefore = new Float64Array(graph.count).fill(Number.NEGATIVE_INFINITY)
  for (const p of plan.settings.pins) {
    const i = model.appIndex.get(p.app)
    if (i === undefined || graph.groupOf[i] < 0) continue
    if (p.wave !== undefined) frozen[graph.groupOf[i]] = 1
    if (p.notBefore !== undefined)
      notBefore[graph.groupOf[i]] = Math.max(notBefore[graph.groupOf[i]], dayOfIso(cal.timeZone, p.notBefore))
  }
  const c = plan.settings.capacity
  const search = new SwapSearch({
    model,
    graph,
    waveOf,
    waves: plan.waves.reduce((m, w) => Math.max(m, w.number), 0),
    day: (w) => days.get(w) ?? cal.startDay,
    frozen,
    notBefore,
    capacity: {apps: c.apps, servers: c.servers, dataGiB: c.dataTiB * 1024, critical: c.critical},
    ramp: rampOf(plan.settings),
    rules: {env: true, devFirst: true, critical: true, smallEarly: true},
  })
  let best: {gain: number; move?: string} = {gain: 0}
  for (let g = 0; g < graph.count; g++) {
    const m = search.bestFor(g, false)
    if (m && m.gain > best.gain) {
      const name = (x: number) => model.apps[graph.members[x][0]].name
      best = {
        gain: m.gain,
        move:
          m.h < 0
            ? `${name(m.g)}: wave ${m.from} → ${m.to}`
            : `swap ${name(m.g)} (wave ${m.from}) with ${name(m.h)} (wave ${m.to})`,
      }
    }
  }
  return best
}
