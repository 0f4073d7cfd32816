// Wave assignment: a deterministic list scheduler over the move-group DAG, then local improvement.
// Waves are filled one at a time from the groups whose dependencies are already placed, in priority order
// (pins first, dev/test before prod, then a depth-first order that keeps dependent groups close). Each ranked rule
// that is on acts as a constraint (src/planner/wave-fits.ts): one environment per wave, critical or complex
// applications kept out of the early waves, small early waves with a ramp-up, capacity. When a wave would stay
// empty, the early-wave rules are relaxed for it (and counted as violations) rather than stalling. Local improvement
// (src/planner/improve.ts) then moves single groups to neighbouring waves when that shortens the days dependent
// applications spend on two sites, never breaking a rule.
import {badInput} from '../errors.js'
import {describeGroup} from './graph.js'
import {Heap} from './heap.js'
import {improve} from './improve.js'
import {emptyWaves, forcePlacement} from './pin-errors.js'
import {unholdOverfull} from './prior-waves.js'
import {earlyOrder, type OrderInput, type Ranking, rankRules, readyOrder} from './rule-ranking.js'
import {envWaveOf, type FitState, type Reserved, type Verdict, verdictOf, type WaveFill} from './wave-fits.js'
import {scheduleWave, slotEnvironments} from './wave-schedule.js'
import {type Assignment, type AssignInput, addGroupTotals, emptyNotes, type GroupNotes, newSlot} from './waves.js'

const INF = Number.POSITIVE_INFINITY

/** Refuses a move group larger than a wave (it must move in one). */
function checkGroupSizes(input: AssignInput): void {
  const {model, graph, attrs} = input
  const cap = model.settings.capacity
  for (let g = 0; g < graph.count; g++) {
    if (attrs.fixed[g]) continue
    const over: string[] = []
    if (attrs.apps[g] > cap.apps) over.push(`${attrs.apps[g]} applications (capacity.apps ${cap.apps})`)
    if (attrs.servers[g] > cap.servers) over.push(`${attrs.servers[g]} servers (capacity.servers ${cap.servers})`)
    if (attrs.dataGiB[g] > cap.dataTiB * 1024)
      over.push(`${(attrs.dataGiB[g] / 1024).toFixed(1)} TiB (capacity.dataTiB ${cap.dataTiB})`)
    if (attrs.crit[g] > cap.critical)
      over.push(`${attrs.crit[g]} high/critical applications (capacity.critical ${cap.critical})`)
    if (over.length > 0) {
      throw badInput(
        `${describeGroup(model, graph.members[g], graph.why[g])} must move in one wave but is larger than a wave: ${over.join(', ')}`,
        'MOVE_GROUP_TOO_BIG',
        'Raise settings.capacity to at least these figures, or break the links that join the group (latency-sensitive dependencies, together constraints)',
      )
    }
  }
}

/** The list scheduler's state: the waves so far, the ready queue, and what each wave must still keep room for. */
export class WaveScheduler implements FitState {
  readonly ranking: Ranking
  readonly waveOf: Int32Array
  readonly waves: Assignment['waves'] = []
  readonly notes: GroupNotes
  readonly minWave: Int32Array
  readonly prior: Int32Array | undefined
  readonly envWaves = [0, 0, 0, 0]
  readonly unplacedPerEnv = [0, 0, 0, 0]
  readonly reserved: Reserved
  private readonly unplacedBlocked = [0, 0, 0, 0]
  /** Predecessors of each group not placed yet: ready at 0. */
  private readonly remaining: Int32Array
  private readonly ready: Heap
  private readonly earlyOrder: (x: number, y: number) => number
  private placed = 0
  private prevCutover: number | undefined

  constructor(readonly input: AssignInput) {
    const {graph, attrs} = input
    const count = graph.count
    this.ranking = rankRules(input.model.settings)
    if (this.ranking.rules.capacity) checkGroupSizes(input)
    this.waveOf = new Int32Array(count)
    for (let g = 0; g < count; g++) this.unplacedPerEnv[attrs.env[g]]++
    this.notes = emptyNotes(count)
    this.remaining = new Int32Array(count)
    this.minWave = new Int32Array(count).fill(1)
    for (let g = 0; g < count; g++) this.remaining[g] = graph.predStart[g + 1] - graph.predStart[g]
    const prior = input.prior ? unholdOverfull(input, input.prior) : undefined
    this.prior = prior
    const order: OrderInput = {
      graph,
      attrs,
      latestWave: input.latestWave,
      priorKey: (g) => (prior && prior[g] > 0 ? prior[g] : INF),
      hasPrior: prior !== undefined,
    }
    this.ready = new Heap(readyOrder(order, this.ranking.rules))
    this.earlyOrder = earlyOrder(order, this.ranking.rules)
    // Room each wave keeps for the groups the previous plan had there: a group that had to leave its wave takes only
    // the slack of later ones, so it does not push their groups on in turn (a one-server change moves a few apps).
    this.reserved = {
      apps: new Float64Array(count + 2),
      servers: new Float64Array(count + 2),
      data: new Float64Array(count + 2),
      crit: new Float64Array(count + 2),
    }
    if (prior) for (let g = 0; g < count; g++) if (!attrs.fixed[g]) this.reserve(g, 1)
    for (let g = 0; g < count; g++) if (attrs.blocked[g]) this.unplacedBlocked[attrs.env[g]]++
  }

  /** Fills waves until every group is placed. */
  run(): Assignment {
    let w = this.seedFixedWaves()
    while (this.placed < this.input.graph.count) this.fillWave(++w)
    return {waveOf: this.waveOf, waves: this.waves, notes: this.notes, latestWave: this.input.latestWave}
  }

  private reserve(g: number, sign: 1 | -1): void {
    const {attrs, graph} = this.input
    const p = this.prior ? this.prior[g] : 0
    if (!p || p > graph.count + 1) return
    this.reserved.apps[p] += sign * attrs.apps[g]
    this.reserved.servers[p] += sign * attrs.servers[g]
    this.reserved.data[p] += sign * attrs.dataGiB[g]
    this.reserved.crit[p] += sign * attrs.crit[g]
  }

  /** Puts group g into wave w; its successors whose predecessors are all placed become ready. */
  private place(g: number, w: number): void {
    const {attrs, graph} = this.input
    if (this.prior && !attrs.fixed[g]) this.reserve(g, -1)
    this.waveOf[g] = w
    this.unplacedPerEnv[attrs.env[g]]--
    if (attrs.blocked[g]) this.unplacedBlocked[attrs.env[g]]--
    const s = this.waves[w - 1]
    s.groups.push(g)
    addGroupTotals(s, attrs, g, 1)
    if (s.env < 0) s.env = attrs.env[g]
    for (let k = graph.succStart[g]; k < graph.succStart[g + 1]; k++) {
      const t = graph.succList[k]
      const mw = w + graph.succStrict[k]
      if (mw > this.minWave[t]) this.minWave[t] = mw
      if (--this.remaining[t] === 0 && this.waveOf[t] === 0) this.ready.push(t)
    }
  }

  /** Waves that have started stay as they are; returns the last of them (0 when none). */
  private seedFixedWaves(): number {
    const {fixedWaves, attrs, graph} = this.input
    const maxFixed = fixedWaves.reduce((m, f) => Math.max(m, f.number), 0)
    for (let w = 1; w <= maxFixed; w++) this.waves.push(newSlot(w))
    for (const f of fixedWaves) {
      this.waves[f.number - 1].fixed = f
      this.waves[f.number - 1].pilot = f.pilot ?? false
    }
    for (let w = 1; w <= maxFixed; w++) {
      const fixed = this.waves[w - 1].fixed
      if (fixed) this.prevCutover = fixed.cutoverDay
    }
    for (let g = 0; g < graph.count; g++) if (!attrs.fixed[g] && this.remaining[g] === 0) this.ready.push(g)
    for (const g of graph.topo) if (attrs.fixed[g]) this.place(g, attrs.fixed[g])
    for (let g = 0; g < graph.count; g++) if (this.waveOf[g]) this.placed++
    for (let w = 1; w <= maxFixed; w++) this.countEnvs(this.waves[w - 1])
    return maxFixed
  }

  /** The ramp is counted per environment: one more wave for each environment the slot holds. */
  private countEnvs(slot: Assignment['waves'][number]): void {
    const seen = new Set<number>()
    for (const g of slot.groups) seen.add(this.input.attrs.env[g])
    for (const e of seen) this.envWaves[e]++
  }

  /** Opens wave w and fills it, relaxing rules or waiting for dates until something fits; then schedules it. */
  private fillWave(w: number): void {
    const {cal, model} = this.input
    const settings = model.settings
    const slot = newSlot(w)
    this.waves.push(slot)
    const baseEarliest = Math.max(
      cal.startDay + settings.testDays + 1,
      this.prevCutover === undefined ? -INF : this.prevCutover + settings.waveCadenceDays,
    )
    const fill: WaveFill = {
      wave: w,
      slot,
      earliestDay: cal.nextCutover(baseEarliest).day,
      relax: this.prior ? 0 : 1,
      spread: INF,
      spreadTaken: 0,
    }
    while (!this.tryFill(fill)) this.loosen(fill)
    this.countEnvs(slot)
    slot.minDay = fill.earliestDay
    slot.schedule = scheduleWave(
      cal,
      settings,
      this.prevCutover,
      slot.dataGiB,
      slot.changeGiB,
      w,
      fill.earliestDay,
      slotEnvironments(slot, this.input.attrs),
    )
    this.prevCutover = slot.schedule.slot.day
  }

  /** One attempt at filling the wave; true when it holds a group (or nothing is left to place). */
  private tryFill(fill: WaveFill): boolean {
    fill.spread = INF
    fill.spreadTaken = 0
    // The wave's environment is that of the next group in line; in its early waves, pick by risk and teaching.
    const top = this.ready.size > 0 ? this.ready.peek() : -1
    const early =
      top >= 0 &&
      (envWaveOf(this, top) <= this.input.model.settings.ramp.earlyWaves || this.input.latestWave[top] <= fill.wave)
    const deferred = early ? this.fillEarly(fill, top) : this.fillInOrder(fill)
    for (const g of deferred) this.ready.push(g)
    return fill.slot.groups.length > 0 || this.placed >= this.input.graph.count
  }

  /** Places g when the verdict allows (checking a forced placement); false otherwise. */
  private take(g: number, v: Verdict, fill: WaveFill): boolean {
    if (v !== 'ok' && v !== 'force') return false
    if (v === 'force') forcePlacement(this.input, fill.slot, g, fill.wave, fill.earliestDay, this.notes)
    this.place(g, fill.wave)
    this.placed++
    if (!this.input.attrs.blocked[g]) fill.spreadTaken++
    return true
  }

  /** Notes why g waits, for its reason. */
  private noteWait(g: number, v: Verdict): void {
    if (v === 'early') this.notes.heldEarly[g] = 1
    if (v === 'env') this.notes.waitedEnv[g] = 1
    if (v === 'notBefore') this.notes.waitedNotBefore[g] = 1
  }

  /** An early wave: every ready group, in early-wave order, in rounds (placements make more groups ready). */
  private fillEarly(fill: WaveFill, top: number): number[] {
    const {attrs} = this.input
    const ramp = this.input.model.settings.ramp
    let cands = this.ready.drain()
    // While risky groups of this environment wait, low-risk ones are spread so each early wave keeps one.
    const env = attrs.env[top]
    const k = this.envWaves[env] + 1
    if (this.ranking.rules.critical && k <= ramp.earlyWaves && this.unplacedBlocked[env] > 0 && fill.relax < 2) {
      const low = cands.filter(
        (g) => attrs.env[g] === env && !attrs.blocked[g] && this.minWave[g] <= fill.wave && !attrs.pin[g],
      ).length
      fill.spread = Math.max(1, low - (ramp.earlyWaves - k))
    } else fill.spread = INF
    for (let took = true; took && cands.length > 0; ) {
      took = false
      cands.sort(this.earlyOrder)
      const left: number[] = []
      for (const g of cands) {
        if (this.waveOf[g]) continue
        const v = verdictOf(this, g, fill)
        if (this.take(g, v, fill)) took = true
        else {
          this.noteWait(g, v)
          left.push(g)
        }
      }
      cands = this.ready.size > 0 ? [...left, ...this.ready.drain()] : left
      if (!took) break
    }
    return cands
  }

  /** A later wave: groups in ready order until the wave is full or 256 in a row did not fit. */
  private fillInOrder(fill: WaveFill): number[] {
    const {latestWave, model} = this.input
    const ready = this.ready
    const deferred: number[] = []
    let failures = 0
    while (ready.size > 0 && failures < 256) {
      const g = ready.pop()
      if (this.waveOf[g]) continue
      const v = verdictOf(this, g, fill)
      if (this.take(g, v, fill)) {
        failures = 0
        // Full: stop, unless groups that must be in this wave (pins) are next in line.
        const pinnedNext = ready.size > 0 && latestWave[ready.peek()] <= fill.wave
        if (this.ranking.rules.capacity && fill.slot.apps >= model.settings.capacity.apps && !pinnedNext) break
      } else {
        this.noteWait(g, v)
        deferred.push(g)
        failures++
      }
    }
    return deferred
  }

  /** Nothing could go into the wave: let held groups come, then relax the early-wave rules, then wait for dates. */
  private loosen(fill: WaveFill): void {
    if (fill.relax < 2) {
      fill.relax++
      return
    }
    const {attrs, graph, cal} = this.input
    let notBefore = INF
    let pinned = INF
    let pinnedGroup = -1
    for (let g = 0; g < graph.count; g++) {
      if (this.waveOf[g]) continue
      if (attrs.notBefore[g] > fill.earliestDay && attrs.notBefore[g] < notBefore) notBefore = attrs.notBefore[g]
      if (attrs.pin[g] > fill.wave && attrs.pin[g] < pinned) {
        pinned = attrs.pin[g]
        pinnedGroup = g
      }
    }
    if (notBefore < INF) {
      fill.earliestDay = cal.nextCutover(notBefore).day
      return
    }
    if (pinnedGroup >= 0) throw emptyWaves(this.input, pinnedGroup, fill.wave, fill.earliestDay)
    throw new Error(`planner stalled at wave ${fill.wave} with ${graph.count - this.placed} groups unplaced`)
  }
}

/** Assigns every move group to a wave (the list scheduler), then improves the assignment locally. */
export function assignWaves(input: AssignInput, opts: {improve: boolean} = {improve: true}): Assignment {
  const scheduler = new WaveScheduler(input)
  const result = scheduler.run()
  if (opts.improve) improve(input, result, scheduler.ranking)
  return result
}
