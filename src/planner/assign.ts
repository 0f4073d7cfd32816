// Wave assignment: a deterministic list scheduler over the move-group DAG, then local improvement.
// Waves are filled one at a time from the groups whose dependencies are already placed, in priority order
// (pins first, dev/test before prod, then a depth-first order that keeps dependent groups close). Each ranked rule
// that is on acts as a constraint: one environment per wave, critical or complex applications kept out of the early
// waves, small early waves with a ramp-up, capacity. When a wave would stay empty, the early-wave rules are relaxed
// for it (and counted as violations) rather than stalling. Local improvement then moves single groups to
// neighbouring waves when that shortens the days dependent applications spend on two sites, never breaking a rule.
import {badInput} from '../errors.js'
import type {PlanSettings} from '../schema/plan.js'
import {type Calendar, formatDay, replicationDays, type CutoverSlot} from './calendar.js'
import type {GroupGraph} from './graph.js'
import {aggregatePairs, describeGroup} from './graph.js'
import {CRIT_ORDER, ENV_NAMES, runbooks, type EstateModel} from './model.js'
import {SwapSearch} from './swap.js'

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

export interface Schedule {
  replicationDays: number
  slot: CutoverSlot
  testStartDay: number
  replicationStartDay: number
}

export interface FixedWave {
  number: number
  cutoverDay: number
  replicationStart: string
  test: {start: string; end: string}
  cutover: {start: string; end: string}
  name: string
  pilot?: boolean
  replicationDays?: number
}

export interface WaveSlot {
  number: number
  groups: number[]
  apps: number
  servers: number
  dataGiB: number
  changeGiB: number
  crit: number
  env: number
  pilot: boolean
  fixed?: FixedWave
  /** Rules relaxed to fill this wave (recorded as violations). */
  relaxed: string[]
  /** Placements forced by pins or started waves past a rule. */
  forced: string[]
  /** The cutover may not be earlier than this day (a wave that waited for notBefore pins). */
  minDay: number
  schedule?: Schedule
}

export interface GroupNotes {
  capacityWave: Int32Array
  capacityWhat: string[]
  heldEarly: Uint8Array
  waitedEnv: Uint8Array
  waitedNotBefore: Uint8Array
  forced: Uint8Array
}

export interface Assignment {
  waveOf: Int32Array
  waves: WaveSlot[]
  notes: GroupNotes
  /** Lower bound of the wave (after pins and strict constraints), used in reasons. */
  ub: Float64Array
}

const INF = Number.POSITIVE_INFINITY

export interface Rules {
  groups: boolean
  deps: boolean
  env: boolean
  devFirst: boolean
  critical: boolean
  smallEarly: boolean
  capacity: boolean
  split: boolean
}

export function rulesOf(settings: PlanSettings): Rules {
  const on = new Set(settings.rules)
  return {
    groups: on.has('move-groups-together'),
    deps: on.has('dependencies-first'),
    env: on.has('environments-not-mixed'),
    devFirst: on.has('dev-before-prod'),
    critical: on.has('critical-not-early'),
    smallEarly: on.has('small-early-waves'),
    capacity: on.has('capacity'),
    split: on.has('minimise-split-dependencies'),
  }
}

/** The replication start, test window and cutover of a wave after `prevCutoverDay`. */
export function scheduleWave(
  cal: Calendar,
  settings: PlanSettings,
  prevCutoverDay: number | undefined,
  dataGiB: number,
  changeGiB: number,
  waveNumber: number,
  minDay = -INF,
  environments: readonly string[] = [],
): Schedule {
  const R = replicationDays(dataGiB, changeGiB, settings.bandwidthMbps)
  if (!Number.isFinite(R)) {
    throw badInput(
      `wave ${waveNumber} changes ${changeGiB.toFixed(0)} GiB a day, more than ${settings.bandwidthMbps} Mbit/s can ship: replication would never catch up`,
      'REPLICATION_CANNOT_CATCH_UP',
      'Raise settings.bandwidthMbps, or lower settings.capacity.dataTiB so fewer busy databases share a wave',
    )
  }
  let earliest = cal.startDay + R + settings.testDays
  if (prevCutoverDay !== undefined) earliest = Math.max(earliest, prevCutoverDay + settings.waveCadenceDays)
  earliest = Math.max(earliest, minDay)
  const slot = cal.nextCutover(earliest, environments)
  const testStartDay = slot.day - settings.testDays
  return {replicationDays: R, slot, testStartDay, replicationStartDay: testStartDay - R}
}

class Heap {
  private readonly a: number[] = []
  constructor(private readonly less: (x: number, y: number) => boolean) {}
  get size(): number {
    return this.a.length
  }
  peek(): number {
    return this.a[0]
  }
  push(x: number): void {
    const a = this.a
    a.push(x)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(a[i], a[p])) break
      ;[a[i], a[p]] = [a[p], a[i]]
      i = p
    }
  }
  pop(): number {
    const a = this.a
    const top = a[0]
    const last = a.pop()!
    if (a.length > 0) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && this.less(a[l], a[m])) m = l
        if (r < a.length && this.less(a[r], a[m])) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m], a[i]]
        i = m
      }
    }
    return top
  }
  drain(): number[] {
    return this.a.splice(0)
  }
}

/** Per-group attributes from the model. */
export function groupAttrs(
  model: EstateModel,
  gg: GroupGraph,
  cal: Calendar,
  fixedOfApp: Map<number, number>,
): GroupAttrs {
  const G = gg.count
  const at: GroupAttrs = {
    apps: new Int32Array(G),
    servers: new Int32Array(G),
    dataGiB: new Float64Array(G),
    changeGiB: new Float64Array(G),
    crit: new Int32Array(G),
    env: new Int8Array(G),
    blocked: new Uint8Array(G),
    risk: new Float64Array(G),
    pin: new Int32Array(G),
    pinName: new Array<string | undefined>(G),
    notBefore: new Float64Array(G).fill(-INF),
    fixed: new Int32Array(G),
    maxCrit: new Int32Array(G),
    maxComplexity: new Int32Array(G),
    teach: new Float64Array(G),
  }
  // Runbooks each application exercises, and how many in-scope applications use each.
  const runbookUse = new Map<string, number>()
  const runbooksOf = model.apps.map((n) => (n.inScope ? runbooks(model, n) : []))
  for (const rs of runbooksOf) for (const r of rs) runbookUse.set(r, (runbookUse.get(r) ?? 0) + 1)
  for (let g = 0; g < G; g++) {
    let risk = 0
    for (const a of gg.members[g]) {
      const n = model.apps[a]
      at.apps[g]++
      at.servers[g] += n.servers.length
      at.dataGiB[g] += n.dataGiB
      at.changeGiB[g] += n.changeGiBPerDay
      if (n.crit >= CRIT_ORDER.high) at.crit[g]++
      if (n.env > at.env[g]) at.env[g] = n.env
      if (n.crit >= CRIT_ORDER.high || n.complexity >= 2) at.blocked[g] = 1
      risk += n.crit * 4 + n.complexity * 2 + n.env + n.servers.length / 10
      if (n.crit > at.maxCrit[g]) at.maxCrit[g] = n.crit
      if (n.complexity > at.maxComplexity[g]) at.maxComplexity[g] = n.complexity
      const f = fixedOfApp.get(a)
      if (f !== undefined && (at.fixed[g] === 0 || f < at.fixed[g])) at.fixed[g] = f
    }
    at.risk[g] = risk + (gg.predStart[g + 1] - gg.predStart[g]) + (gg.succStart[g + 1] - gg.succStart[g])
    const taught = new Set<string>()
    for (const a of gg.members[g]) for (const r of runbooksOf[a]) taught.add(r)
    for (const r of taught) at.teach[g] += runbookUse.get(r) ?? 0
  }
  const pinApp = new Map<number, string>()
  for (const p of model.settings.pins) {
    const a = model.appIndex.get(p.app)
    if (a === undefined) throw unknownPin(model, p.app)
    const g = gg.groupOf[a]
    if (g < 0)
      throw badInput(
        `settings.pins names "${p.app}", which is ${model.apps[a].strategy === 'retire' ? 'retired' : 'retained'} and moves in no wave`,
        'PIN_OUT_OF_SCOPE',
        "Remove the pin, or change the application's strategy",
      )
    if (p.wave !== undefined) {
      if (at.pin[g] !== 0 && at.pin[g] !== p.wave) {
        throw badInput(
          `pins put "${pinApp.get(g)}" in wave ${at.pin[g]} and "${p.app}" in wave ${p.wave}, but they must move together (${describeGroup(model, gg.members[g], gg.why[g])})`,
          'PIN_CONFLICT',
          'Pin them to the same wave, or remove one of the pins in settings.pins',
        )
      }
      at.pin[g] = p.wave
      at.pinName[g] = p.app
      pinApp.set(g, p.app)
    }
    if (p.notBefore !== undefined) at.notBefore[g] = Math.max(at.notBefore[g], dayNumber(p.notBefore))
  }
  void cal
  return at
}

function dayNumber(iso: string): number {
  const [y, m, d] = iso.split('-').map(Number)
  return Math.floor(Date.UTC(y, m - 1, d) / 86_400_000)
}

function unknownPin(_model: EstateModel, name: string): Error {
  return badInput(
    `settings.pins names application "${name}", which is not in the inventory`,
    'UNKNOWN_APP',
    'Use an application name from the inventory',
  )
}

/** Checks that pins agree with the order (a pinned group's predecessors fit before it); returns upper bounds. */
export function checkPins(model: EstateModel, gg: GroupGraph, at: GroupAttrs): Float64Array {
  const G = gg.count
  const lb = new Float64Array(G)
  const lbSrc = new Int32Array(G).fill(-1)
  const lbVia = new Int32Array(G).fill(-1)
  const name = (g: number) => at.pinName[g] ?? model.apps[gg.members[g][0]].name
  for (let i = 0; i < G; i++) {
    const g = gg.topo[i]
    let v = 1
    let src = -1
    for (let k = gg.predStart[g]; k < gg.predStart[g + 1]; k++) {
      const p = gg.predList[k]
      const need = lb[p] + gg.predStrict[k]
      if (need > v) {
        v = need
        src = lbSrc[p] >= 0 ? lbSrc[p] : at.pin[p] || at.fixed[p] ? p : -1
        lbVia[g] = p
      }
    }
    const own = at.pin[g] || at.fixed[g]
    if (own && own < v) {
      const other = src >= 0 ? name(src) : undefined
      const otherWave = src >= 0 ? at.pin[src] || at.fixed[src] : 0
      const chain: string[] = []
      for (let x = lbVia[g]; x >= 0 && chain.length < 6; x = lbVia[x]) chain.push(name(x))
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
    lb[g] = v
    lbSrc[g] = src
  }
  // Upper bound: a group must precede the pinned groups that depend on it.
  const ub = new Float64Array(G).fill(INF)
  for (let i = G - 1; i >= 0; i--) {
    const g = gg.topo[i]
    let v = at.pin[g] || at.fixed[g] || INF
    for (let k = gg.succStart[g]; k < gg.succStart[g + 1]; k++) {
      const s = gg.succList[k]
      const lim = ub[s] - gg.succStrict[k]
      if (lim < v) v = lim
    }
    ub[g] = v
  }
  return ub
}

export interface AssignInput {
  model: EstateModel
  gg: GroupGraph
  at: GroupAttrs
  ub: Float64Array
  cal: Calendar
  fixedWaves: FixedWave[]
  /** The previous plan's wave of each group (0: none), kept where the rules allow: re-plans move little. */
  prior?: Int32Array
}

/** Adds group g's apps, servers, data, change rate and critical count to a wave's totals (sign 1), or takes them off (-1). */
function addGroupTotals(s: WaveSlot, at: GroupAttrs, g: number, sign: 1 | -1): void {
  s.apps += sign * at.apps[g]
  s.servers += sign * at.servers[g]
  s.dataGiB += sign * at.dataGiB[g]
  s.changeGiB += sign * at.changeGiB[g]
  s.crit += sign * at.crit[g]
}

/** The list scheduler. */
export function assignWaves(input: AssignInput, opts: {improve: boolean} = {improve: true}): Assignment {
  const {model, gg, at, ub, cal, fixedWaves} = input
  const settings = model.settings
  const rules = rulesOf(settings)
  const cap = settings.capacity
  const G = gg.count
  const capData = cap.dataTiB * 1024

  if (rules.capacity) {
    for (let g = 0; g < G; g++) {
      if (at.fixed[g]) continue
      const over: string[] = []
      if (at.apps[g] > cap.apps) over.push(`${at.apps[g]} applications (capacity.apps ${cap.apps})`)
      if (at.servers[g] > cap.servers) over.push(`${at.servers[g]} servers (capacity.servers ${cap.servers})`)
      if (at.dataGiB[g] > capData)
        over.push(`${(at.dataGiB[g] / 1024).toFixed(1)} TiB (capacity.dataTiB ${cap.dataTiB})`)
      if (at.crit[g] > cap.critical)
        over.push(`${at.crit[g]} high/critical applications (capacity.critical ${cap.critical})`)
      if (over.length > 0) {
        throw badInput(
          `${describeGroup(model, gg.members[g], gg.why[g])} must move in one wave but is larger than a wave: ${over.join(', ')}`,
          'MOVE_GROUP_TOO_BIG',
          'Raise settings.capacity to at least these figures, or break the links that join the group (latency-sensitive dependencies, together constraints)',
        )
      }
    }
  }

  const waveOf = new Int32Array(G)
  const unplacedPerEnv = [0, 0, 0, 0]
  for (let g = 0; g < G; g++) unplacedPerEnv[at.env[g]]++
  const notes: GroupNotes = {
    capacityWave: new Int32Array(G),
    capacityWhat: new Array<string>(G).fill(''),
    heldEarly: new Uint8Array(G),
    waitedEnv: new Uint8Array(G),
    waitedNotBefore: new Uint8Array(G),
    forced: new Uint8Array(G),
  }
  const waves: WaveSlot[] = []
  const slotOf = (w: number): WaveSlot => waves[w - 1]
  const newSlot = (number: number): WaveSlot => ({
    number,
    groups: [],
    apps: 0,
    servers: 0,
    dataGiB: 0,
    changeGiB: 0,
    crit: 0,
    env: -1,
    pilot: false,
    relaxed: [],
    forced: [],
    minDay: -INF,
  })

  const remaining = new Int32Array(G)
  const minWave = new Int32Array(G).fill(1)
  for (let g = 0; g < G; g++) remaining[g] = gg.predStart[g + 1] - gg.predStart[g]
  const prior = input.prior ? unholdOverfull(input, input.prior) : undefined
  const priorKey = (g: number) => (prior && prior[g] > 0 ? prior[g] : INF)

  const less = (x: number, y: number): boolean => {
    if (ub[x] !== ub[y]) return ub[x] < ub[y]
    if (prior && priorKey(x) !== priorKey(y)) return priorKey(x) < priorKey(y)
    if (rules.devFirst && at.env[x] !== at.env[y]) return at.env[x] < at.env[y]
    return gg.rank[x] < gg.rank[y]
  }
  const ready = new Heap(less)

  // Room each wave keeps for the groups the previous plan had there: a group that had to leave its wave takes only
  // the slack of later ones, so it does not push their groups on in turn (a one-server change moves a few apps).
  const reserved = {
    apps: new Float64Array(G + 2),
    servers: new Float64Array(G + 2),
    data: new Float64Array(G + 2),
    crit: new Float64Array(G + 2),
  }
  const reserve = (g: number, sign: 1 | -1) => {
    const p = prior ? prior[g] : 0
    if (!p || p > G + 1) return
    reserved.apps[p] += sign * at.apps[g]
    reserved.servers[p] += sign * at.servers[g]
    reserved.data[p] += sign * at.dataGiB[g]
    reserved.crit[p] += sign * at.crit[g]
  }
  if (prior) for (let g = 0; g < G; g++) if (!at.fixed[g]) reserve(g, 1)
  const unplacedBlocked = [0, 0, 0, 0]
  for (let g = 0; g < G; g++) if (at.blocked[g]) unplacedBlocked[at.env[g]]++
  const place = (g: number, w: number): void => {
    if (prior && !at.fixed[g]) reserve(g, -1)
    waveOf[g] = w
    unplacedPerEnv[at.env[g]]--
    if (at.blocked[g]) unplacedBlocked[at.env[g]]--
    const s = slotOf(w)
    s.groups.push(g)
    addGroupTotals(s, at, g, 1)
    if (s.env < 0) s.env = at.env[g]
    for (let k = gg.succStart[g]; k < gg.succStart[g + 1]; k++) {
      const t = gg.succList[k]
      const mw = w + gg.succStrict[k]
      if (mw > minWave[t]) minWave[t] = mw
      if (--remaining[t] === 0 && waveOf[t] === 0) ready.push(t)
    }
  }

  // Waves that have started stay as they are.
  const maxFixed = fixedWaves.reduce((m, f) => Math.max(m, f.number), 0)
  for (let w = 1; w <= maxFixed; w++) waves.push(newSlot(w))
  for (const f of fixedWaves) {
    slotOf(f.number).fixed = f
    slotOf(f.number).pilot = f.pilot ?? false
  }
  let prevCutover: number | undefined
  for (let w = 1; w <= maxFixed; w++) if (slotOf(w).fixed) prevCutover = slotOf(w).fixed!.cutoverDay
  for (let g = 0; g < G; g++) if (!at.fixed[g] && remaining[g] === 0) ready.push(g)
  for (const g of gg.topo) if (at.fixed[g]) place(g, at.fixed[g])
  let placed = 0
  for (let g = 0; g < G; g++) if (waveOf[g]) placed++
  // How many waves each environment has had so far: the ramp is counted per environment.
  const envWaves = [0, 0, 0, 0]
  const countEnvs = (slot: WaveSlot) => {
    const seen = new Set<number>()
    for (const g of slot.groups) seen.add(at.env[g])
    for (const e of seen) envWaves[e]++
  }
  for (let w = 1; w <= maxFixed; w++) countEnvs(slotOf(w))

  const ramp = settings.ramp
  const pilotApps = settings.pilot.apps
  /** The how-manieth wave of its environment group g would move in, if it went into the wave being filled. */
  const envWave = (g: number) => envWaves[at.env[g]] + 1
  const early = (g: number) => envWave(g) <= ramp.earlyWaves
  /** Server limit of the k-th wave of an environment: small early waves, then doubling up to the capacity. */
  const serverCap = (k: number, relaxed: boolean): number => {
    if (!rules.smallEarly || relaxed) return cap.servers
    if (k <= ramp.earlyWaves) return Math.min(ramp.earlyServers, cap.servers)
    const d = k - ramp.earlyWaves
    return d >= 30 ? cap.servers : Math.min(cap.servers, ramp.earlyServers * 2 ** d)
  }
  // Ranked rules: dev/test before prod outranks (by default) the early-wave rules, so a dev/test group that is
  // next in line may break them rather than let production go first.
  const rank = (r: string) => {
    const i = settings.rules.indexOf(r as PlanSettings['rules'][number])
    return i < 0 ? Number.POSITIVE_INFINITY : i
  }
  const envBeatsCritical = rules.devFirst && rank('dev-before-prod') < rank('critical-not-early')
  const envBeatsSmall = rules.devFirst && rank('dev-before-prod') < rank('small-early-waves')
  const frontier = (g: number): boolean => {
    if (!rules.devFirst) return false
    const e = at.env[g]
    for (let x = 0; x < e; x++) if (unplacedPerEnv[x] > 0) return false
    for (let x = e + 1; x < 4; x++) if (unplacedPerEnv[x] > 0) return true
    return false
  }
  /** Early-wave order: groups that break no early rule first, then the least risky that teach the most. */
  const cmp = (p: number, q: number) => (p < q ? -1 : p > q ? 1 : 0)
  const earlyOrder = (x: number, y: number): number =>
    cmp(ub[x], ub[y]) ||
    cmp(priorKey(x), priorKey(y)) ||
    (rules.devFirst ? at.env[x] - at.env[y] : 0) ||
    at.blocked[x] - at.blocked[y] ||
    at.maxCrit[x] - at.maxCrit[y] ||
    at.maxComplexity[x] - at.maxComplexity[y] ||
    cmp(at.teach[y], at.teach[x]) ||
    cmp(at.risk[x], at.risk[y]) ||
    gg.rank[x] - gg.rank[y]

  type Verdict = 'ok' | 'force' | 'order' | 'pin' | 'prior' | 'notBefore' | 'env' | 'early' | 'capacity'

  let w = maxFixed
  while (placed < G) {
    w++
    const slot = newSlot(w)
    waves.push(slot)
    const baseEarliest = Math.max(
      cal.startDay + settings.testDays + 1,
      prevCutover === undefined ? -INF : prevCutover + settings.waveCadenceDays,
    )
    let lbDay = cal.nextCutover(baseEarliest).day
    // 0: every rule; 1: groups held for their previous plan's wave may come; 2: early-wave rules relaxed too.
    let relax = prior ? 0 : 1
    for (;;) {
      const check = (g: number): Verdict => {
        if (minWave[g] > w) return 'order'
        if (at.pin[g]) return at.pin[g] > w ? 'pin' : 'force'
        if (ub[g] <= w) return 'force'
        if (at.notBefore[g] > lbDay) return 'notBefore'
        if (relax === 0 && prior && prior[g] > w) return 'prior'
        if (rules.env && slot.env >= 0 && at.env[g] !== slot.env) return 'env'
        if (!at.blocked[g] && spreadTaken >= spread && ub[g] > w) return 'early'
        const k = envWave(g)
        // Only alone in a wave, so one such group per early wave at most.
        const front = slot.groups.length === 0 && frontier(g)
        // A group back in its previous plan's wave keeps it while the hard rules allow (the swap search still
        // removes any early-wave violation one move or swap can).
        const kept = prior !== undefined && prior[g] === w
        if (k <= ramp.earlyWaves && !kept) {
          // Relaxed (nothing else could fill the wave), the early-wave rules give way for one group only.
          const alone = relax >= 2 && slot.groups.length === 0
          if (rules.critical && at.blocked[g] && !(front && envBeatsCritical) && !alone) return 'early'
          if (
            rules.smallEarly &&
            k === 1 &&
            pilotApps > 0 &&
            slot.apps + at.apps[g] > pilotApps &&
            !(front && envBeatsSmall) &&
            !alone
          )
            return 'early'
          if (
            rules.smallEarly &&
            slot.servers + at.servers[g] > serverCap(k, false) &&
            !(front && envBeatsSmall) &&
            !alone
          )
            return 'early'
        }
        if (rules.capacity) {
          // Room kept for the previous plan's groups of this wave (none for those groups themselves).
          const keep = relax === 0 && prior && prior[g] !== w && w <= G + 1
          const rApps = keep ? reserved.apps[w] : 0
          const rServers = keep ? reserved.servers[w] : 0
          const rData = keep ? reserved.data[w] : 0
          const rCrit = keep ? reserved.crit[w] : 0
          const what =
            slot.apps + at.apps[g] + rApps > cap.apps
              ? 'applications'
              : slot.servers + at.servers[g] + rServers > serverCap(k, true) ||
                  (k > ramp.earlyWaves &&
                    !kept &&
                    relax < 2 &&
                    slot.servers + at.servers[g] + rServers > serverCap(k, false))
                ? 'servers'
                : slot.dataGiB + at.dataGiB[g] + rData > capData
                  ? 'data'
                  : slot.crit + at.crit[g] + rCrit > cap.critical
                    ? 'critical applications'
                    : ''
          if (what) {
            if (!notes.capacityWave[g]) {
              notes.capacityWave[g] = w
              notes.capacityWhat[g] = what
            }
            return 'capacity'
          }
        }
        return 'ok'
      }
      const deferred: number[] = []
      let failures = 0
      let spread = INF
      let spreadTaken = 0
      const take = (g: number, v: Verdict): boolean => {
        if (v !== 'ok' && v !== 'force') return false
        if (v === 'force') force(input, slot, g, w, lbDay, notes)
        place(g, w)
        placed++
        if (!at.blocked[g]) spreadTaken++
        return true
      }
      // The wave's environment is that of the next group in line; in its early waves, pick by risk and teaching.
      const top = ready.size > 0 ? ready.peek() : -1
      if (top >= 0 && (early(top) || ub[top] <= w)) {
        // Rounds, so that groups made ready by this wave's placements (a pin's dependencies) are tried too.
        let cands = ready.drain()
        // While risky groups of this environment wait, low-risk ones are spread so each early wave keeps one.
        const env = at.env[top]
        const k = envWaves[env] + 1
        if (rules.critical && k <= ramp.earlyWaves && unplacedBlocked[env] > 0 && relax < 2) {
          const low = cands.filter((g) => at.env[g] === env && !at.blocked[g] && minWave[g] <= w && !at.pin[g]).length
          spread = Math.max(1, low - (ramp.earlyWaves - k))
        } else spread = INF
        for (let took = true; took && cands.length > 0; ) {
          took = false
          cands.sort(earlyOrder)
          const left: number[] = []
          for (const g of cands) {
            if (waveOf[g]) continue
            const v = check(g)
            if (take(g, v)) took = true
            else {
              if (v === 'early') notes.heldEarly[g] = 1
              if (v === 'env') notes.waitedEnv[g] = 1
              if (v === 'notBefore') notes.waitedNotBefore[g] = 1
              left.push(g)
            }
          }
          cands = ready.size > 0 ? [...left, ...ready.drain()] : left
          if (!took) break
        }
        deferred.push(...cands)
      } else {
        while (ready.size > 0 && failures < 256) {
          const g = ready.pop()
          if (waveOf[g]) continue
          const v = check(g)
          if (take(g, v)) {
            failures = 0
            // Full: stop, unless groups that must be in this wave (pins) are next in line.
            if (rules.capacity && slot.apps >= cap.apps && !(ready.size > 0 && ub[ready.peek()] <= w)) break
          } else {
            if (v === 'early') notes.heldEarly[g] = 1
            if (v === 'env') notes.waitedEnv[g] = 1
            if (v === 'notBefore') notes.waitedNotBefore[g] = 1
            deferred.push(g)
            failures++
          }
        }
      }
      for (const g of deferred) ready.push(g)
      if (slot.groups.length > 0 || placed >= G) break
      // Nothing could go into this wave: let held groups come, then relax the early-wave rules, then wait for dates.
      if (relax < 2) {
        relax++
        continue
      }
      let nb = INF
      let pinned = INF
      let pinnedGroup = -1
      for (let g = 0; g < G; g++) {
        if (waveOf[g]) continue
        if (at.notBefore[g] > lbDay && at.notBefore[g] < nb) nb = at.notBefore[g]
        if (at.pin[g] > w && at.pin[g] < pinned) {
          pinned = at.pin[g]
          pinnedGroup = g
        }
      }
      if (nb < INF) {
        lbDay = cal.nextCutover(nb).day
        continue
      }
      if (pinnedGroup >= 0) throw emptyWaves(input, pinnedGroup, w, lbDay)
      throw new Error(`planner stalled at wave ${w} with ${G - placed} groups unplaced`)
    }
    countEnvs(slot)
    slot.minDay = lbDay
    slot.schedule = scheduleWave(
      cal,
      settings,
      prevCutover,
      slot.dataGiB,
      slot.changeGiB,
      w,
      lbDay,
      slotEnvironments(slot, at),
    )
    prevCutover = slot.schedule.slot.day
  }
  const result: Assignment = {waveOf, waves, notes, ub}
  if (opts.improve) improve(input, result, rules, serverCap)
  return result
}

/** The environments of a wave's groups, by name: its cutover may use only the windows open to all of them. */
export function slotEnvironments(s: WaveSlot, at: GroupAttrs): string[] {
  const seen = new Set<string>()
  for (const g of s.groups) seen.add(ENV_NAMES[at.env[g]])
  return [...seen]
}

/**
 * The previous plan's waves, less the groups that no longer fit there together (an inventory change made one bigger):
 * groups of an overfull wave are let go, those nothing depends on first, until the rest fits, and are placed afresh.
 */
function unholdOverfull(input: AssignInput, priorIn: Int32Array): Int32Array {
  const {gg, at, model} = input
  const cap = model.settings.capacity
  if (!rulesOf(model.settings).capacity) return priorIn
  const prior = repairPrior(input, priorIn)
  const byWave = new Map<number, number[]>()
  for (let g = 0; g < gg.count; g++) {
    if (!prior[g] || at.fixed[g]) continue
    const list = byWave.get(prior[g]) ?? []
    list.push(g)
    byWave.set(prior[g], list)
  }
  const limits: [(g: number) => number, number][] = [
    [(g) => at.apps[g], cap.apps],
    [(g) => at.servers[g], cap.servers],
    [(g) => at.dataGiB[g], cap.dataTiB * 1024],
    [(g) => at.crit[g], cap.critical],
  ]
  for (const [, groups] of byWave) {
    for (const [size, limit] of limits) {
      let total = groups.reduce((s, g) => s + (prior[g] ? size(g) : 0), 0)
      if (total <= limit) continue
      // Let go first the groups nothing waits for (no application has to follow them), the biggest of those first.
      const succ = (g: number) => gg.succStart[g + 1] - gg.succStart[g]
      const order = groups.filter((g) => prior[g]).sort((x, y) => succ(x) - succ(y) || size(y) - size(x) || x - y)
      for (const g of order) {
        if (total <= limit) break
        total -= size(g)
        prior[g] = 0
      }
    }
  }
  return prior
}

/**
 * The previous plan's waves with each overfull wave relieved by the nearest single move or swap that keeps the rules
 * (so a one-server change moves one or two applications, not a chain of them). Waves it cannot relieve stay overfull.
 */
function repairPrior(input: AssignInput, priorIn: Int32Array): Int32Array {
  const {gg, at, model} = input
  const settings = model.settings
  const prior = Int32Array.from(priorIn)
  const waves = prior.reduce((m, w) => Math.max(m, w), 0)
  if (waves === 0) return prior
  const frozen = new Uint8Array(gg.count)
  for (let g = 0; g < gg.count; g++) if (at.pin[g] || at.fixed[g] || !prior[g]) frozen[g] = 1
  const cap = settings.capacity
  const rules = rulesOf(settings)
  const search = new SwapSearch({
    model,
    gg,
    waveOf: prior,
    waves,
    day: () => Number.POSITIVE_INFINITY,
    frozen,
    capacity: {apps: cap.apps, servers: cap.servers, dataGiB: cap.dataTiB * 1024, critical: cap.critical},
    ramp: {
      earlyWaves: settings.ramp.earlyWaves,
      earlyServers: settings.ramp.earlyServers,
      pilotApps: settings.pilot.apps,
    },
    rules: {env: rules.env, devFirst: rules.devFirst, critical: rules.critical, smallEarly: rules.smallEarly},
  })
  for (let w = 1; w <= waves; w++) for (let tries = 0; tries < 4 && search.over(w) && search.relieve(w); tries++);
  return prior
}

/** A pinned (or pin-pulled) group must go into wave w: refuse with the real cause when it cannot. */
function force(input: AssignInput, slot: WaveSlot, g: number, w: number, lbDay: number, notes: GroupNotes): void {
  const {model, gg, at, ub} = input
  const settings = model.settings
  const cap = settings.capacity
  notes.forced[g] = 1
  const name = (x: number) => model.apps[gg.members[x][0]].name
  const pinnedBy = (): number => {
    // The pinned group that pulls g into wave w: follow successors to a pin of this wave.
    const seen = new Set<number>([g])
    const queue = [g]
    for (let q = 0; q < queue.length; q++) {
      const v = queue[q]
      if (at.pin[v] === w || (at.pin[v] && v !== g)) return v
      for (let k = gg.succStart[v]; k < gg.succStart[v + 1]; k++) {
        const t = gg.succList[k]
        if (!seen.has(t) && ub[t] <= ub[g] + 1) {
          seen.add(t)
          queue.push(t)
        }
      }
    }
    return -1
  }
  const by = at.pin[g] ? g : pinnedBy()
  const who = at.pin[g]
    ? `"${at.pinName[g]}" is pinned to wave ${w}`
    : `"${by >= 0 ? (at.pinName[by] ?? name(by)) : '?'}" is pinned to wave ${by >= 0 ? at.pin[by] : ub[g]} and depends (directly or through others) on "${name(g)}"`
  if (at.notBefore[g] > lbDay) {
    throw badInput(
      `${who}, but "${name(g)}" may not move before ${formatDay(at.notBefore[g])} and wave ${w} cuts over on ${formatDay(lbDay)} at the earliest`,
      'PIN_CONTRADICTS_ORDER',
      `A dependency moves in the same or an earlier wave: pin "${at.pinName[by] ?? name(by)}" to a later wave, or move the notBefore date of "${name(g)}" to ${formatDay(lbDay)} or earlier, in settings.pins`,
    )
  }
  if (!rulesOf(settings).capacity) return
  const over: string[] = []
  const raise: string[] = []
  const capData = cap.dataTiB * 1024
  if (slot.apps + at.apps[g] > cap.apps) {
    over.push(`${slot.apps + at.apps[g]} applications (capacity.apps ${cap.apps})`)
    raise.push(`capacity.apps to ${slot.apps + at.apps[g]}`)
  }
  if (slot.servers + at.servers[g] > cap.servers) {
    over.push(`${slot.servers + at.servers[g]} servers (capacity.servers ${cap.servers})`)
    raise.push(`capacity.servers to ${slot.servers + at.servers[g]}`)
  }
  if (slot.dataGiB + at.dataGiB[g] > capData) {
    const tib = Math.ceil((slot.dataGiB + at.dataGiB[g]) / 1024)
    over.push(`${((slot.dataGiB + at.dataGiB[g]) / 1024).toFixed(1)} TiB (capacity.dataTiB ${cap.dataTiB})`)
    raise.push(`capacity.dataTiB to ${tib}`)
  }
  if (slot.crit + at.crit[g] > cap.critical) {
    over.push(`${slot.crit + at.crit[g]} high/critical applications (capacity.critical ${cap.critical})`)
    raise.push(`capacity.critical to ${slot.crit + at.crit[g]}`)
  }
  if (over.length === 0) return
  const inWave = slot.groups.map(name)
  throw badInput(
    `${who}, but wave ${w} would then hold ${over.join(', ')}${inWave.length ? `, with ${inWave.slice(0, 4).join(', ')}${inWave.length > 4 ? ` and ${inWave.length - 4} more` : ''} that must also move by then` : ''}`,
    'PIN_OVER_CAPACITY',
    `Raise settings.${raise.join(' and ')}, or pin fewer applications to wave ${w} (or to waves that need these dependencies first)`,
  )
}

/** A pin far ahead of where the plan ends: the waves in between would be empty. */
function emptyWaves(input: AssignInput, g: number, w: number, day: number): Error {
  const {at, model, gg} = input
  const name = at.pinName[g] ?? model.apps[gg.members[g][0]].name
  return badInput(
    `"${name}" is pinned to wave ${at.pin[g]}, but every application it does not wait for is placed by wave ${w - 1}: waves ${w}–${at.pin[g] - 1} would be empty`,
    'PIN_LEAVES_EMPTY_WAVES',
    `Pin "${name}" to wave ${w} at the latest, or give it a date instead: {app: ${name}, notBefore: YYYY-MM-DD} (wave ${w} would cut over on ${formatDay(day)} at the earliest)`,
  )
}

/** Recomputes every open wave's schedule in order (after local improvement changed their data). */
export function rescheduleAll(input: AssignInput, a: Assignment): void {
  const {cal, model} = input
  let prev: number | undefined
  for (const s of a.waves) {
    if (s.fixed) {
      prev = s.fixed.cutoverDay
      continue
    }
    s.schedule = scheduleWave(
      cal,
      model.settings,
      prev,
      s.dataGiB,
      s.changeGiB,
      s.number,
      s.minDay,
      slotEnvironments(s, input.at),
    )
    prev = s.schedule.slot.day
  }
}

/** The swap search over an assignment, with the plan's hard rules. */
export function swapSearch(input: AssignInput, a: Assignment): SwapSearch {
  const {model, gg, at} = input
  const settings = model.settings
  const rules = rulesOf(settings)
  const cap = settings.capacity
  const frozen = new Uint8Array(gg.count)
  for (let g = 0; g < gg.count; g++) if (at.pin[g] || at.fixed[g]) frozen[g] = 1
  const day = (w: number): number =>
    a.waves[w - 1].fixed ? a.waves[w - 1].fixed!.cutoverDay : a.waves[w - 1].schedule!.slot.day
  return new SwapSearch({
    model,
    gg,
    waveOf: a.waveOf,
    waves: a.waves.length,
    day,
    frozen,
    frozenWave: (w) => a.waves[w - 1].fixed !== undefined,
    notBefore: at.notBefore,
    capacity: rules.capacity
      ? {apps: cap.apps, servers: cap.servers, dataGiB: cap.dataTiB * 1024, critical: cap.critical}
      : undefined,
    ramp: {
      earlyWaves: settings.ramp.earlyWaves,
      earlyServers: settings.ramp.earlyServers,
      pilotApps: settings.pilot.apps,
    },
    rules: {env: rules.env, devFirst: rules.devFirst, critical: rules.critical, smallEarly: rules.smallEarly},
  })
}

/** Rebuilds every wave's groups and totals from waveOf (after moves). */
function retally(input: AssignInput, a: Assignment): void {
  const {at, gg} = input
  for (const s of a.waves) {
    s.groups = []
    s.apps = s.servers = s.dataGiB = s.changeGiB = s.crit = 0
    s.env = -1
  }
  for (let g = 0; g < gg.count; g++) {
    const s = a.waves[a.waveOf[g] - 1]
    s.groups.push(g)
    addGroupTotals(s, at, g, 1)
    if (s.env < 0 || at.env[g] < s.env) s.env = at.env[g]
  }
}

/**
 * Local improvement, never adding a soft violation or breaking a hard rule: first single groups move to a wave
 * that shortens the days dependent applications spend on two sites; then moves and swaps that remove violations,
 * until no single move or swap would.
 */
function improve(
  input: AssignInput,
  a: Assignment,
  rules: Rules,
  serverCap: (k: number, relaxed: boolean) => number,
): void {
  const {model, gg, at} = input
  const G = gg.count
  const {waveOf, waves} = a
  const search = swapSearch(input, a)
  const day = (w: number): number =>
    waves[w - 1].fixed ? waves[w - 1].fixed!.cutoverDay : waves[w - 1].schedule!.slot.day
  if (rules.split) {
    // Undirected group adjacency with edge counts (aggregated application edges).
    const {edges} = model
    const xs = new Int32Array(edges.count * 2)
    const ys = new Int32Array(edges.count * 2)
    let m = 0
    for (let e = 0; e < edges.count; e++) {
      const x = gg.groupOf[edges.from[e]]
      const y = gg.groupOf[edges.to[e]]
      if (x < 0 || y < 0 || x === y) continue
      xs[m] = x
      ys[m++] = y
      xs[m] = y
      ys[m++] = x
    }
    const agg = aggregatePairs(G, xs, ys, m)
    const tally = search.tally
    for (let pass = 0; pass < 3; pass++) {
      let moved = 0
      for (let i = 0; i < G; i++) {
        const g = gg.topo[i]
        const w = waveOf[g]
        if (search.s.frozen[g] || waves[w - 1].pilot || search.members[w].length <= 1) continue
        // A re-plan leaves groups where the previous plan had them.
        if (input.prior && input.prior[g] === w) continue
        const cost = (c: number): number => {
          let sum = 0
          const dc = day(c)
          for (let k = agg.start[g]; k < agg.start[g + 1]; k++)
            sum += agg.count[k] * Math.abs(dc - day(waveOf[agg.list[k]]))
          return sum
        }
        const here = cost(w)
        if (here === 0) continue
        let best = w
        let bestCost = here
        const cands = new Set<number>([w - 1, w + 1])
        for (let k = agg.start[g]; k < agg.start[g + 1] && cands.size < 8; k++) cands.add(waveOf[agg.list[k]])
        for (const c of [...cands].sort((p, q) => p - q)) {
          if (c < 1 || c > waves.length || c === w || waves[c - 1].pilot || search.members[c].length === 0) continue
          if (!search.feasible(g, c, -1)) continue
          // The ramp past the early waves: the wave's size for its place in its environment.
          const k = tally.envIndex[c * 4 + at.env[g]] || 1
          if (
            rules.capacity &&
            waves[c - 1].servers + at.servers[g] > serverCap(k, false) &&
            k <= model.settings.ramp.earlyWaves + 30
          ) {
            let servers = 0
            for (const x of search.members[c]) servers += at.servers[x]
            if (servers + at.servers[g] > serverCap(k, false)) continue
          }
          const cc = cost(c)
          if (cc < bestCost - 1e-9 && search.delta(g, c, -1) <= 0) {
            best = c
            bestCost = cc
          }
        }
        if (best !== w) {
          search.apply({g, h: -1, from: w, to: best, gain: 0})
          moved++
        }
      }
      if (moved === 0) break
    }
  }
  search.improve(400)
  retally(input, a)
  rescheduleAll(input, a)
}

export {formatDay}
