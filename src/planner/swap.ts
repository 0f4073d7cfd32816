// Single moves and swaps of move groups between waves, judged by the hard rules (dependency order, `before`
// constraints, capacity, pins, started waves, notBefore dates) and the soft ones counted by WaveTally. The planner
// uses it to leave no violation that one swap a person could make would remove; the benchmark uses it to check so.
import type {GroupGraph} from './graph.js'
import {CRIT_ORDER, type EstateModel} from './model.js'
import {ENVS, WaveTally, type RampLimits, type SoftRules} from './tally.js'

export interface SwapSetup {
  model: EstateModel
  graph: GroupGraph
  /** Wave of each group (1-based); changed in place by `apply`. */
  waveOf: Int32Array
  waves: number
  /** Cutover day of wave w. */
  day: (w: number) => number
  /** Groups that may not move (pinned, in a started wave). */
  frozen: Uint8Array
  /** Waves nothing may enter or leave (started). */
  frozenWave?: (w: number) => boolean
  notBefore?: Float64Array
  /** Hard per-wave limits, or undefined when the capacity rule is off. */
  capacity?: {apps: number; servers: number; dataGiB: number; critical: number}
  ramp: RampLimits
  rules: SoftRules
}

export interface Move {
  g: number
  /** The group swapped the other way, or -1 for a plain move. */
  h: number
  from: number
  to: number
  gain: number
}

/** Moves and swaps over one assignment; keeps the tallies in step with `waveOf`. */
export class SwapSearch {
  readonly tally: WaveTally
  readonly members: number[][]
  private readonly gEnv: Int32Array
  private readonly gApps: Int32Array
  private readonly gServers: Int32Array
  private readonly gData: Float64Array
  private readonly gCrit: Int32Array
  private readonly wApps: Int32Array
  private readonly wServers: Int32Array
  private readonly wData: Float64Array
  private readonly wCrit: Int32Array
  total: number
  /** Evaluations that needed a full recount (an environment appeared in or left a wave). */
  slow = 0

  constructor(readonly s: SwapSetup) {
    const {model, graph, waveOf, waves} = s
    const G = graph.count
    this.gEnv = new Int32Array(G * ENVS * 3)
    this.gApps = new Int32Array(G)
    this.gServers = new Int32Array(G)
    this.gData = new Float64Array(G)
    this.gCrit = new Int32Array(G)
    for (let g = 0; g < G; g++) {
      for (const a of graph.members[g]) {
        const n = model.apps[a]
        const i = (g * ENVS + n.env) * 3
        this.gEnv[i]++
        this.gEnv[i + 1] += n.servers.length
        if (n.crit >= CRIT_ORDER.high || n.complexity >= 2) this.gEnv[i + 2]++
        this.gApps[g]++
        this.gServers[g] += n.servers.length
        this.gData[g] += n.dataGiB
        if (n.crit >= CRIT_ORDER.high) this.gCrit[g]++
      }
    }
    this.members = Array.from({length: waves + 1}, () => [])
    this.wApps = new Int32Array(waves + 1)
    this.wServers = new Int32Array(waves + 1)
    this.wData = new Float64Array(waves + 1)
    this.wCrit = new Int32Array(waves + 1)
    this.tally = new WaveTally(waves, s.ramp, s.rules)
    for (let g = 0; g < G; g++) {
      const w = waveOf[g]
      if (!w) continue
      this.members[w].push(g)
      this.place(g, w, 1)
    }
    this.total = this.tally.violations()
  }

  private place(g: number, w: number, sign: 1 | -1): void {
    for (let e = 0; e < ENVS; e++) {
      const i = (g * ENVS + e) * 3
      if (this.gEnv[i] > 0) this.tally.add(w, e, this.gEnv[i], this.gEnv[i + 1], this.gEnv[i + 2], sign)
    }
    this.wApps[w] += sign * this.gApps[g]
    this.wServers[w] += sign * this.gServers[g]
    this.wData[w] += sign * this.gData[g]
    this.wCrit[w] += sign * this.gCrit[g]
  }

  /** Wave of x once g goes to b and h (if any) to a. */
  private after(x: number, g: number, b: number, h: number, a: number): number {
    return x === g ? b : x === h ? a : this.s.waveOf[x]
  }

  /** Dependency order and `before` constraints for group x at wave w, with g at b and h at a. */
  private ordered(x: number, w: number, g: number, b: number, h: number, a: number): boolean {
    const graph = this.s.graph
    for (let k = graph.predStart[x]; k < graph.predStart[x + 1]; k++)
      if (this.after(graph.predList[k], g, b, h, a) + graph.predStrict[k] > w) return false
    for (let k = graph.succStart[x]; k < graph.succStart[x + 1]; k++)
      if (w + graph.succStrict[k] > this.after(graph.succList[k], g, b, h, a)) return false
    return true
  }

  private fits(w: number, add: number, sub: number): boolean {
    const c = this.s.capacity
    if (!c) return true
    const gs = sub >= 0 ? 1 : 0
    const apps = this.wApps[w] + this.gApps[add] - gs * (this.gApps[sub] ?? 0)
    const servers = this.wServers[w] + this.gServers[add] - gs * (this.gServers[sub] ?? 0)
    const data = this.wData[w] + this.gData[add] - gs * (this.gData[sub] ?? 0)
    const crit = this.wCrit[w] + this.gCrit[add] - gs * (this.gCrit[sub] ?? 0)
    return apps <= c.apps && servers <= c.servers && data <= c.dataGiB + 1e-6 && crit <= c.critical
  }

  /** Wave w holds more than the capacity allows (an inventory change made a group bigger). */
  over(w: number): boolean {
    const c = this.s.capacity
    return (
      c !== undefined &&
      (this.wApps[w] > c.apps ||
        this.wServers[w] > c.servers ||
        this.wData[w] > c.dataGiB + 1e-6 ||
        this.wCrit[w] > c.critical)
    )
  }

  /**
   * Brings an overfull wave back within capacity with the nearest single move or swap of one of its groups that
   * keeps every hard rule and adds no soft violation. False when there is none.
   */
  relieve(a: number): boolean {
    for (let d = 1; d <= this.s.waves; d++) {
      for (const b of [a + d, a - d]) {
        if (b < 1 || b > this.s.waves) continue
        for (const g of [...this.members[a]].sort((x, y) => x - y)) {
          if (this.feasible(g, b, -1) && this.delta(g, b, -1) <= 0) {
            this.apply({g, h: -1, from: a, to: b, gain: 0})
            return true
          }
          for (const h of this.members[b]) {
            if (this.feasible(g, b, h) && this.delta(g, b, h) <= 0) {
              this.apply({g, h, from: a, to: b, gain: 0})
              return true
            }
          }
        }
      }
    }
    return false
  }

  /** Whether g may go to wave b, with h (or -1) going to g's wave: every hard rule. */
  feasible(g: number, b: number, h: number): boolean {
    const s = this.s
    const a = s.waveOf[g]
    if (a === b || s.frozen[g] || (h >= 0 && (s.frozen[h] || s.waveOf[h] !== b))) return false
    if (s.frozenWave && (s.frozenWave(a) || s.frozenWave(b))) return false
    if (h < 0 && this.members[a].length <= 1) return false // no wave left empty
    if (s.notBefore && (s.notBefore[g] > s.day(b) || (h >= 0 && s.notBefore[h] > s.day(a)))) return false
    if (!this.ordered(g, b, g, b, h, a) || (h >= 0 && !this.ordered(h, a, g, b, h, a))) return false
    return this.fits(b, g, h) && (h < 0 || this.fits(a, h, g))
  }

  /** Change in soft violations if g goes to b (and h to g's wave); negative is better. Leaves the tallies as they were. */
  delta(g: number, b: number, h: number): number {
    const a = this.s.waveOf[g]
    const t = this.tally
    const presence = (w: number) =>
      (t.has(w, 0) ? 1 : 0) | (t.has(w, 1) ? 2 : 0) | (t.has(w, 2) ? 4 : 0) | (t.has(w, 3) ? 8 : 0)
    const pa = presence(a)
    const pb = presence(b)
    const before = t.waveTerm(a) + t.waveTerm(b)
    this.place(g, a, -1)
    this.place(g, b, 1)
    if (h >= 0) {
      this.place(h, b, -1)
      this.place(h, a, 1)
    }
    let d: number
    const fast = presence(a) === pa && presence(b) === pb
    if (fast) d = t.waveTerm(a) + t.waveTerm(b) - before
    else {
      this.slow++
      d = t.violations() - this.total
    }
    this.place(g, b, -1)
    this.place(g, a, 1)
    if (h >= 0) {
      this.place(h, a, -1)
      this.place(h, b, 1)
    }
    if (!fast) t.index()
    return d
  }

  apply(m: Move): void {
    const {g, h, from, to} = m
    this.place(g, from, -1)
    this.place(g, to, 1)
    this.s.waveOf[g] = to
    this.members[from].splice(this.members[from].indexOf(g), 1)
    this.members[to].push(g)
    if (h >= 0) {
      this.place(h, to, -1)
      this.place(h, from, 1)
      this.s.waveOf[h] = from
      this.members[to].splice(this.members[to].indexOf(h), 1)
      this.members[from].push(h)
    }
    this.total = this.tally.violations()
  }

  /** Earliest and latest wave g may take with everything else where it is. */
  range(g: number): [number, number] {
    const {graph, waveOf, waves} = this.s
    let lo = 1
    let hi = waves
    for (let k = graph.predStart[g]; k < graph.predStart[g + 1]; k++)
      lo = Math.max(lo, waveOf[graph.predList[k]] + graph.predStrict[k])
    for (let k = graph.succStart[g]; k < graph.succStart[g + 1]; k++)
      hi = Math.min(hi, waveOf[graph.succList[k]] - graph.succStrict[k])
    return [lo, hi]
  }

  /**
   * The first move or swap of group g that lowers the soft violations, trying waves in order and, in each, a plain
   * move then a swap with each group there. A swap partner need not fit g's own range: it moves to g's wave.
   */
  bestFor(g: number, wide: boolean): Move | undefined {
    const a = this.s.waveOf[g]
    if (this.s.frozen[g]) return undefined
    const [lo, hi] = wide ? [1, this.s.waves] : this.range(g)
    for (let b = lo; b <= hi; b++) {
      if (b === a) continue
      if (this.feasible(g, b, -1)) {
        const d = this.delta(g, b, -1)
        if (d < 0) return {g, h: -1, from: a, to: b, gain: -d}
      }
      for (const h of this.members[b]) {
        if (!this.feasible(g, b, h)) continue
        const d = this.delta(g, b, h)
        if (d < 0) return {g, h, from: a, to: b, gain: -d}
      }
    }
    return undefined
  }

  /** Groups worth trying first: those in waves that count a violation, and in the first production wave. */
  hotGroups(): number[] {
    const t = this.tally
    t.index()
    const out: number[] = []
    for (let w = 1; w <= this.s.waves; w++) if (t.waveTerm(w) > 0 || w === t.firstProd) out.push(...this.members[w])
    return out
  }

  /**
   * Applies improving moves and swaps until none is left (or `budget` evaluations are spent): first around the
   * waves that count violations, then, when the estate is small enough, from every group.
   */
  improve(budgetGroups = Number.POSITIVE_INFINITY): number {
    let applied = 0
    for (let round = 0; round < 1000 && this.total > 0; round++) {
      let found: Move | undefined
      const hot = this.hotGroups().sort((x, y) => x - y)
      for (const g of hot) {
        if ((found = this.bestFor(g, false))) break
      }
      if (!found && this.s.graph.count <= budgetGroups) {
        for (let g = 0; g < this.s.graph.count && !found; g++) {
          found = this.bestFor(g, false)
        }
      }
      if (!found) break
      this.apply(found)
      applied++
    }
    return applied
  }
}
