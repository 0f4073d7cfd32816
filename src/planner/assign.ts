// Wave assignment: a deterministic list scheduler over the move-group DAG, then local improvement.
// Waves are filled one at a time from the groups whose dependencies are already placed, in priority order
// (pins first, dev/test before prod, then a depth-first order that keeps dependent groups close). Each ranked rule
// that is on acts as a constraint: one environment per wave, critical or complex applications kept out of the early
// waves, small early waves with a ramp-up, capacity. When a wave would stay empty, the early-wave rules are relaxed
// for it (and counted as violations) rather than stalling. Local improvement then moves single groups to
// neighbouring waves when that shortens the days dependent applications spend on two sites, never breaking a rule.
import {badInput} from '../errors.js'
import type {PlanSettings} from '../schema/plan.js'
import {Calendar, formatDay, replicationDays, type CutoverSlot} from './calendar.js'
import type {GroupGraph} from './graph.js'
import {aggregatePairs, describeGroup} from './graph.js'
import {CRIT_ORDER, ENV_NAMES, type EstateModel} from './model.js'

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
export function scheduleWave(cal: Calendar, settings: PlanSettings, prevCutoverDay: number | undefined, dataGiB: number, changeGiB: number, waveNumber: number, minDay = -INF, environments: readonly string[] = []): Schedule {
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
export function groupAttrs(model: EstateModel, gg: GroupGraph, cal: Calendar, fixedOfApp: Map<number, number>): GroupAttrs {
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
  }
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
      const f = fixedOfApp.get(a)
      if (f !== undefined && (at.fixed[g] === 0 || f < at.fixed[g])) at.fixed[g] = f
    }
    at.risk[g] = risk + (gg.predStart[g + 1] - gg.predStart[g]) + (gg.succStart[g + 1] - gg.succStart[g])
  }
  const pinApp = new Map<number, string>()
  for (const p of model.settings.pins) {
    const a = model.appIndex.get(p.app)
    if (a === undefined) throw unknownPin(model, p.app)
    const g = gg.groupOf[a]
    if (g < 0) throw badInput(`settings.pins names "${p.app}", which is ${model.apps[a].strategy === 'retire' ? 'retired' : 'retained'} and moves in no wave`, 'PIN_OUT_OF_SCOPE', 'Remove the pin, or change the application\'s strategy')
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

function unknownPin(model: EstateModel, name: string): Error {
  return badInput(`settings.pins names application "${name}", which is not in the inventory`, 'UNKNOWN_APP', 'Use an application name from the inventory')
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
      if (at.dataGiB[g] > capData) over.push(`${(at.dataGiB[g] / 1024).toFixed(1)} TiB (capacity.dataTiB ${cap.dataTiB})`)
      if (at.crit[g] > cap.critical) over.push(`${at.crit[g]} high/critical applications (capacity.critical ${cap.critical})`)
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
  const newSlot = (number: number): WaveSlot => ({number, groups: [], apps: 0, servers: 0, dataGiB: 0, changeGiB: 0, crit: 0, env: -1, pilot: false, relaxed: [], forced: [], minDay: -INF})

  const remaining = new Int32Array(G)
  const minWave = new Int32Array(G).fill(1)
  for (let g = 0; g < G; g++) remaining[g] = gg.predStart[g + 1] - gg.predStart[g]

  const less = (x: number, y: number): boolean => {
    if (ub[x] !== ub[y]) return ub[x] < ub[y]
    if (rules.devFirst && at.env[x] !== at.env[y]) return at.env[x] < at.env[y]
    return gg.rank[x] < gg.rank[y]
  }
  const ready = new Heap(less)

  const place = (g: number, w: number): void => {
    waveOf[g] = w
    unplacedPerEnv[at.env[g]]--
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
  for (const f of fixedWaves) slotOf(f.number).fixed = f
  let prevCutover: number | undefined
  for (let w = 1; w <= maxFixed; w++) if (slotOf(w).fixed) prevCutover = slotOf(w).fixed!.cutoverDay
  for (let g = 0; g < G; g++) if (!at.fixed[g] && remaining[g] === 0) ready.push(g)
  for (const g of gg.topo) if (at.fixed[g]) place(g, at.fixed[g])
  let placed = 0
  for (let g = 0; g < G; g++) if (waveOf[g]) placed++

  const serverCap = (w: number, relaxed: boolean): number => {
    if (!rules.smallEarly || relaxed) return cap.servers
    const early = settings.ramp.earlyServers
    if (w <= settings.ramp.earlyWaves) return Math.min(early, cap.servers)
    const k = w - settings.ramp.earlyWaves
    return k >= 30 ? cap.servers : Math.min(cap.servers, early * 2 ** k)
  }
  const early = (w: number) => w <= settings.ramp.earlyWaves
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

  type Verdict = 'ok' | 'force' | 'order' | 'pin' | 'notBefore' | 'pilot' | 'env' | 'early' | 'capacity'
  const pilotApps = maxFixed === 0 ? settings.pilot.apps : 0

  let w = maxFixed
  let guard = 0
  while (placed < G) {
    w++
    const slot = newSlot(w)
    waves.push(slot)
    const baseEarliest = Math.max(cal.startDay + settings.testDays + 1, prevCutover === undefined ? -INF : prevCutover + settings.waveCadenceDays)
    let lbDay = cal.nextCutover(baseEarliest).day
    let pilot = w === 1 && pilotApps > 0
    let relax = 0
    for (;;) {
      const check = (g: number): Verdict => {
        if (minWave[g] > w) return 'order'
        if (at.pin[g]) return at.pin[g] > w ? 'pin' : 'force'
        if (ub[g] <= w) return 'force'
        if (at.notBefore[g] > lbDay) return 'notBefore'
        if (pilot && (at.blocked[g] || slot.apps + at.apps[g] > pilotApps)) return 'pilot'
        if (rules.env && slot.env >= 0 && at.env[g] !== slot.env) return 'env'
        // Only alone in a wave, so one such group per early wave at most.
        const front = slot.groups.length === 0 && frontier(g)
        if (rules.critical && relax === 0 && early(w) && at.blocked[g] && !(front && envBeatsCritical)) return 'early'
        if (rules.capacity) {
          const what =
            slot.apps + at.apps[g] > cap.apps
              ? 'applications'
              : slot.servers + at.servers[g] > serverCap(w, relax > 0 || (front && envBeatsSmall))
                ? 'servers'
                : slot.dataGiB + at.dataGiB[g] > capData
                  ? 'data'
                  : slot.crit + at.crit[g] > cap.critical
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
      // Pins are hard: a pinned group (or one that must precede it) goes in, or the pins cannot be met.
      const force = (g: number): void => {
        notes.forced[g] = 1
        const over = rules.capacity && (slot.apps + at.apps[g] > cap.apps || slot.servers + at.servers[g] > cap.servers || slot.dataGiB + at.dataGiB[g] > capData || slot.crit + at.crit[g] > cap.critical)
        if (!over) return
        const pinned = at.pin[g] ? `"${at.pinName[g]}" is pinned to wave ${w}` : `applications pinned to wave ${ub[g]} depend on "${model.apps[gg.members[g][0]].name}"`
        throw badInput(
          `${pinned}, but wave ${w} is full (${slot.apps} applications, ${slot.servers} servers already): the pins need more than settings.capacity allows`,
          'PIN_OVER_CAPACITY',
          `Pin fewer applications to wave ${w} (or to waves that need these dependencies first), or raise settings.capacity`,
        )
      }
      const deferred: number[] = []
      let failures = 0
      if (pilot) {
        // The pilot: the lowest-risk ready groups that fit, to prove the tooling and the runbooks.
        const cands = ready.drain().sort((x, y) => at.risk[x] - at.risk[y] || gg.rank[x] - gg.rank[y])
        for (const g of cands) {
          const v = check(g)
          if (v === 'ok' || v === 'force') {
            if (v === 'force') force(g)
            place(g, w)
            placed++
          } else deferred.push(g)
        }
        slot.pilot = slot.groups.length > 0
        // Pinned groups that became ready meanwhile still go in; the rest wait for wave 2.
        while (ready.size > 0 && ub[ready.peek()] <= w) {
          const g = ready.pop()
          if (waveOf[g]) continue
          if (check(g) === 'force') {
            force(g)
            place(g, w)
            placed++
          } else deferred.push(g)
        }
        deferred.push(...ready.drain())
      } else {
        while (ready.size > 0 && failures < 256) {
          const g = ready.pop()
          if (waveOf[g]) continue
          const v = check(g)
          if (v === 'ok' || v === 'force') {
            if (v === 'force') force(g)
            place(g, w)
            placed++
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
      // Nothing could go into this wave: relax the early-wave rules for it, then wait for notBefore dates.
      if (relax === 0 && (rules.critical || rules.smallEarly) && early(w) && !pilot) {
        relax = 1
        continue
      }
      if (pilot) {
        pilot = false // no low-risk group is ready: wave 1 is an ordinary wave
        continue
      }
      let nb = INF
      let pinned = INF
      for (let g = 0; g < G; g++) {
        if (waveOf[g]) continue
        if (at.notBefore[g] > lbDay && at.notBefore[g] < nb) nb = at.notBefore[g]
        if (at.pin[g] > w && at.pin[g] < pinned) pinned = at.pin[g]
      }
      if (nb < INF) {
        lbDay = cal.nextCutover(nb).day
        continue
      }
      if (pinned < INF) break // an empty wave held open for later pins
      if (++guard > 3) throw new Error(`planner stalled at wave ${w} with ${G - placed} groups unplaced`)
      relax = 2
    }
    slot.relaxed = []
    if (early(w) && rules.smallEarly && slot.servers > Math.min(settings.ramp.earlyServers, cap.servers)) slot.relaxed.push('small-early-waves')
    if (early(w) && rules.critical && slot.groups.some((g) => at.blocked[g])) slot.relaxed.push('critical-not-early')
    slot.minDay = lbDay
    slot.schedule = scheduleWave(cal, settings, prevCutover, slot.dataGiB, slot.changeGiB, w, lbDay, slotEnvironments(slot, at))
    prevCutover = slot.schedule.slot.day
  }
  const result: Assignment = {waveOf, waves, notes, ub}
  if (rules.split && opts.improve) improve(input, result, rules, serverCap)
  return result
}

/** The environments of a wave's groups, by name: its cutover may use only the windows open to all of them. */
export function slotEnvironments(s: WaveSlot, at: GroupAttrs): string[] {
  const seen = new Set<string>()
  for (const g of s.groups) seen.add(ENV_NAMES[at.env[g]])
  return [...seen]
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
    s.schedule = scheduleWave(cal, model.settings, prev, s.dataGiB, s.changeGiB, s.number, s.minDay, slotEnvironments(s, input.at))
    prev = s.schedule.slot.day
  }
}

/** Local improvement: move single groups to a neighbouring wave when that cuts dependency-days split. */
function improve(input: AssignInput, a: Assignment, rules: Rules, serverCap: (w: number, relaxed: boolean) => number): void {
  const {model, gg, at} = input
  const settings = model.settings
  const cap = settings.capacity
  const capData = cap.dataTiB * 1024
  const G = gg.count
  const {waveOf, waves} = a
  const day = (w: number): number => (waves[w - 1].fixed ? waves[w - 1].fixed!.cutoverDay : waves[w - 1].schedule!.slot.day)
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
  const nbStart = agg.start
  const nbList = agg.list
  const nbW = agg.count
  const early = (w: number) => w <= settings.ramp.earlyWaves
  const nbDay = settings.pins.some((p) => p.notBefore)
  for (let pass = 0; pass < 3; pass++) {
    let moved = 0
    for (let i = 0; i < G; i++) {
      const g = gg.topo[i]
      const w = waveOf[g]
      const slot = waves[w - 1]
      if (at.fixed[g] || at.pin[g] || slot.fixed || slot.pilot || slot.groups.length <= 1) continue
      let lo = 1
      let hi = waves.length
      for (let k = gg.predStart[g]; k < gg.predStart[g + 1]; k++) lo = Math.max(lo, waveOf[gg.predList[k]] + gg.predStrict[k])
      for (let k = gg.succStart[g]; k < gg.succStart[g + 1]; k++) hi = Math.min(hi, waveOf[gg.succList[k]] - gg.succStrict[k])
      if (a.ub[g] < hi) hi = a.ub[g]
      if (lo >= hi && lo === w) continue
      const cost = (c: number): number => {
        let sum = 0
        const dc = day(c)
        for (let k = nbStart[g]; k < nbStart[g + 1]; k++) sum += nbW[k] * Math.abs(dc - day(waveOf[nbList[k]]))
        return sum
      }
      const here = cost(w)
      if (here === 0) continue
      let best = w
      let bestCost = here
      const cands = new Set<number>([w - 1, w + 1])
      for (let k = nbStart[g]; k < nbStart[g + 1] && cands.size < 8; k++) cands.add(waveOf[nbList[k]])
      for (const c of [...cands].sort((p, q) => p - q)) {
        if (c === w || c < lo || c > hi || c < 1 || c > waves.length) continue
        const t = waves[c - 1]
        if (t.fixed || t.pilot || t.groups.length === 0) continue
        if (rules.env && t.env !== at.env[g]) continue
        if (rules.critical && early(c) && at.blocked[g] && t.relaxed.length === 0) continue
        if (rules.capacity) {
          if (t.apps + at.apps[g] > cap.apps || t.servers + at.servers[g] > serverCap(c, t.relaxed.length > 0) || t.dataGiB + at.dataGiB[g] > capData || t.crit + at.crit[g] > cap.critical) continue
        }
        if (nbDay && at.notBefore[g] > day(c)) continue
        const cc = cost(c)
        if (cc < bestCost - 1e-9) {
          best = c
          bestCost = cc
        }
      }
      if (best !== w) {
        const from = waves[w - 1]
        const to = waves[best - 1]
        from.groups.splice(from.groups.indexOf(g), 1)
        addGroupTotals(from, at, g, -1)
        to.groups.push(g)
        addGroupTotals(to, at, g, 1)
        waveOf[g] = best
        moved++
      }
    }
    if (moved === 0) break
  }
  rescheduleAll(input, a)
}

export {formatDay}
