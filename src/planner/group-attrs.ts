// What the scheduler knows of each move group: its totals, risk and teaching value from the model, its pins and
// the wave it keeps from a started wave; and the latest wave each group may go in, from the pins after it.
import {badInput} from '../errors.js'
import type {GroupGraph} from './graph.js'
import {describeGroup} from './graph.js'
import {CRIT_ORDER, runbooks, type EstateModel} from './model.js'

const INF = Number.POSITIVE_INFINITY

export interface GroupAttrs {
  apps: Int32Array
  servers: Int32Array
  dataGiB: Float64Array
  changeGiB: Float64Array
  crit: Int32Array
  env: Int8Array
  /** Holds a critical/high-criticality or high-complexity application. */
  blocked: Uint8Array
  risk: Float64Array
  /** Pinned wave, 0 when not pinned. */
  pin: Int32Array
  /** The pinned application's name, for messages. */
  pinName: (string | undefined)[]
  /** Earliest cutover day from notBefore pins, or -Infinity. */
  notBefore: Float64Array
  /** Wave kept from a previous plan because it has started, 0 when free. */
  fixed: Int32Array
  /** Highest criticality and complexity of the group's applications. */
  maxCrit: Int32Array
  maxComplexity: Int32Array
  /** What moving the group teaches: per runbook it exercises, how many in-scope applications use that runbook too. */
  teach: Float64Array
}

function emptyAttrs(count: number): GroupAttrs {
  return {
    apps: new Int32Array(count),
    servers: new Int32Array(count),
    dataGiB: new Float64Array(count),
    changeGiB: new Float64Array(count),
    crit: new Int32Array(count),
    env: new Int8Array(count),
    blocked: new Uint8Array(count),
    risk: new Float64Array(count),
    pin: new Int32Array(count),
    pinName: new Array<string | undefined>(count),
    notBefore: new Float64Array(count).fill(-INF),
    fixed: new Int32Array(count),
    maxCrit: new Int32Array(count),
    maxComplexity: new Int32Array(count),
    teach: new Float64Array(count),
  }
}

/** Per-group attributes from the model; `fixedOfApp` holds the started wave of applications that keep theirs. */
export function groupAttrs(model: EstateModel, graph: GroupGraph, fixedOfApp: Map<number, number>): GroupAttrs {
  const attrs = emptyAttrs(graph.count)
  // Runbooks each application exercises, and how many in-scope applications use each.
  const runbookUse = new Map<string, number>()
  const runbooksOf = model.apps.map((n) => (n.inScope ? runbooks(model, n) : []))
  for (const rs of runbooksOf) for (const r of rs) runbookUse.set(r, (runbookUse.get(r) ?? 0) + 1)
  for (let g = 0; g < graph.count; g++) {
    let risk = 0
    for (const a of graph.members[g]) {
      const n = model.apps[a]
      attrs.apps[g]++
      attrs.servers[g] += n.servers.length
      attrs.dataGiB[g] += n.dataGiB
      attrs.changeGiB[g] += n.changeGiBPerDay
      if (n.crit >= CRIT_ORDER.high) attrs.crit[g]++
      if (n.env > attrs.env[g]) attrs.env[g] = n.env
      if (n.crit >= CRIT_ORDER.high || n.complexity >= 2) attrs.blocked[g] = 1
      risk += n.crit * 4 + n.complexity * 2 + n.env + n.servers.length / 10
      if (n.crit > attrs.maxCrit[g]) attrs.maxCrit[g] = n.crit
      if (n.complexity > attrs.maxComplexity[g]) attrs.maxComplexity[g] = n.complexity
      const f = fixedOfApp.get(a)
      if (f !== undefined && (attrs.fixed[g] === 0 || f < attrs.fixed[g])) attrs.fixed[g] = f
    }
    const preds = graph.predStart[g + 1] - graph.predStart[g]
    const succs = graph.succStart[g + 1] - graph.succStart[g]
    attrs.risk[g] = risk + preds + succs
    const taught = new Set<string>()
    for (const a of graph.members[g]) for (const r of runbooksOf[a]) taught.add(r)
    for (const r of taught) attrs.teach[g] += runbookUse.get(r) ?? 0
  }
  applyPins(model, graph, attrs)
  return attrs
}

/** Records settings.pins on their groups; refuses pins of unknown or out-of-scope applications and conflicting ones. */
function applyPins(model: EstateModel, graph: GroupGraph, attrs: GroupAttrs): void {
  const pinApp = new Map<number, string>()
  for (const p of model.settings.pins) {
    const a = model.appIndex.get(p.app)
    if (a === undefined)
      throw badInput(
        `settings.pins names application "${p.app}", which is not in the inventory`,
        'UNKNOWN_APP',
        'Use an application name from the inventory',
      )
    const g = graph.groupOf[a]
    if (g < 0)
      throw badInput(
        `settings.pins names "${p.app}", which is ${model.apps[a].strategy === 'retire' ? 'retired' : 'retained'} and moves in no wave`,
        'PIN_OUT_OF_SCOPE',
        "Remove the pin, or change the application's strategy",
      )
    if (p.wave !== undefined) {
      if (attrs.pin[g] !== 0 && attrs.pin[g] !== p.wave) {
        throw badInput(
          `pins put "${pinApp.get(g)}" in wave ${attrs.pin[g]} and "${p.app}" in wave ${p.wave}, but they must move together (${describeGroup(model, graph.members[g], graph.why[g])})`,
          'PIN_CONFLICT',
          'Pin them to the same wave, or remove one of the pins in settings.pins',
        )
      }
      attrs.pin[g] = p.wave
      attrs.pinName[g] = p.app
      pinApp.set(g, p.app)
    }
    if (p.notBefore !== undefined) attrs.notBefore[g] = Math.max(attrs.notBefore[g], dayNumber(p.notBefore))
  }
}

function dayNumber(iso: string): number {
  const [y, m, d] = iso.split('-').map(Number)
  return Math.floor(Date.UTC(y, m - 1, d) / 86_400_000)
}

/**
 * Checks that pins agree with the order (a pinned group's predecessors fit before it); returns the latest wave each
 * group may go in (before the pinned or started groups that depend on it; Infinity when none does).
 */
export function checkPins(model: EstateModel, graph: GroupGraph, attrs: GroupAttrs): Float64Array {
  const count = graph.count
  const earliest = new Float64Array(count)
  const earliestSrc = new Int32Array(count).fill(-1)
  const earliestVia = new Int32Array(count).fill(-1)
  const name = (g: number) => attrs.pinName[g] ?? model.apps[graph.members[g][0]].name
  for (let i = 0; i < count; i++) {
    const g = graph.topo[i]
    let v = 1
    let src = -1
    for (let k = graph.predStart[g]; k < graph.predStart[g + 1]; k++) {
      const p = graph.predList[k]
      const need = earliest[p] + graph.predStrict[k]
      if (need > v) {
        v = need
        src = earliestSrc[p] >= 0 ? earliestSrc[p] : attrs.pin[p] || attrs.fixed[p] ? p : -1
        earliestVia[g] = p
      }
    }
    const own = attrs.pin[g] || attrs.fixed[g]
    if (own && own < v) {
      const other = src >= 0 ? name(src) : undefined
      const otherWave = src >= 0 ? attrs.pin[src] || attrs.fixed[src] : 0
      const chain: string[] = []
      for (let x = earliestVia[g]; x >= 0 && chain.length < 6; x = earliestVia[x]) chain.push(name(x))
      throw badInput(
        other
          ? `"${name(g)}" is pinned to wave ${own}, but it depends (directly or through constraints) on "${other}", which is pinned to wave ${otherWave}${chain.length > 1 ? ` (via ${chain.join(' → ')})` : ''}`
          : `"${name(g)}" is pinned to wave ${own}, but it must follow ${chain.map((c) => `"${c}"`).join(' → ')} (dependencies and \`before\` constraints), which needs at least ${v} waves`,
        'PIN_CONTRADICTS_ORDER',
        'A dependency target moves in the same or an earlier wave, and `before` strictly earlier: pin them consistently, or remove a pin or constraint in settings',
      )
    }
    if (own) {
      v = own
      src = g
    }
    earliest[g] = v
    earliestSrc[g] = src
  }
  return latestWaves(graph, attrs)
}

/** The latest wave of each group: it must precede the pinned (or started) groups that depend on it. */
function latestWaves(graph: GroupGraph, attrs: GroupAttrs): Float64Array {
  const latest = new Float64Array(graph.count).fill(INF)
  for (let i = graph.count - 1; i >= 0; i--) {
    const g = graph.topo[i]
    let v = attrs.pin[g] || attrs.fixed[g] || INF
    for (let k = graph.succStart[g]; k < graph.succStart[g + 1]; k++) {
      const lim = latest[graph.succList[k]] - graph.succStrict[k]
      if (lim < v) v = lim
    }
    latest[g] = v
  }
  return latest
}
