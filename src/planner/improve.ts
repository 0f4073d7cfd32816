// Local improvement of a scheduled assignment, never adding a soft violation or breaking a hard rule: first single
// groups move to a wave that shortens the days dependent applications spend on two sites; then moves and swaps that
// remove violations, until no single move or swap would.
import {aggregatePairs} from './graph.js'
import {type Ranking, rulesOf} from './rule-ranking.js'
import {SwapSearch} from './swap.js'
import {rescheduleAll} from './wave-schedule.js'
import {type Assignment, type AssignInput, addGroupTotals, waveDay} from './waves.js'

/** The swap search over an assignment, with the plan's hard rules. */
export function swapSearch(input: AssignInput, a: Assignment): SwapSearch {
  const {model, graph, attrs} = input
  const settings = model.settings
  const rules = rulesOf(settings)
  const cap = settings.capacity
  const frozen = new Uint8Array(graph.count)
  for (let g = 0; g < graph.count; g++) if (attrs.pin[g] || attrs.fixed[g]) frozen[g] = 1
  return new SwapSearch({
    model,
    graph: graph,
    waveOf: a.waveOf,
    waves: a.waves.length,
    day: (w) => waveDay(a.waves, w),
    frozen,
    frozenWave: (w) => a.waves[w - 1].fixed !== undefined,
    notBefore: attrs.notBefore,
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
  const {attrs, graph} = input
  for (const s of a.waves) {
    s.groups = []
    s.apps = s.servers = s.dataGiB = s.changeGiB = s.crit = 0
    s.env = -1
  }
  for (let g = 0; g < graph.count; g++) {
    const s = a.waves[a.waveOf[g] - 1]
    s.groups.push(g)
    addGroupTotals(s, attrs, g, 1)
    if (s.env < 0 || attrs.env[g] < s.env) s.env = attrs.env[g]
  }
}

/** Undirected group adjacency with edge counts (aggregated application edges). */
function groupAdjacency(input: AssignInput): ReturnType<typeof aggregatePairs> {
  const {model, graph} = input
  const {edges} = model
  const xs = new Int32Array(edges.count * 2)
  const ys = new Int32Array(edges.count * 2)
  let m = 0
  for (let e = 0; e < edges.count; e++) {
    const x = graph.groupOf[edges.from[e]]
    const y = graph.groupOf[edges.to[e]]
    if (x < 0 || y < 0 || x === y) continue
    xs[m] = x
    ys[m++] = y
    xs[m] = y
    ys[m++] = x
  }
  return aggregatePairs(graph.count, xs, ys, m)
}

/** Up to three passes that move single groups to the wave nearest their dependencies' (split dependency-days). */
function shortenSplitDays(input: AssignInput, a: Assignment, search: SwapSearch, ranking: Ranking): void {
  const {graph} = input
  const {waveOf, waves} = a
  const adjacency = groupAdjacency(input)
  const day = (w: number): number => waveDay(waves, w)
  /** Split dependency-days of group g if it were in wave c. */
  const cost = (g: number, c: number): number => {
    let sum = 0
    const dc = day(c)
    for (let k = adjacency.start[g]; k < adjacency.start[g + 1]; k++)
      sum += adjacency.count[k] * Math.abs(dc - day(waveOf[adjacency.list[k]]))
    return sum
  }
  for (let pass = 0; pass < 3; pass++) {
    let moved = 0
    for (let i = 0; i < graph.count; i++) {
      const g = graph.topo[i]
      const w = waveOf[g]
      if (search.s.frozen[g] || waves[w - 1].pilot || search.members[w].length <= 1) continue
      // A re-plan leaves groups where the previous plan had them.
      if (input.prior && input.prior[g] === w) continue
      const here = cost(g, w)
      if (here === 0) continue
      let best = w
      let bestCost = here
      const cands = new Set<number>([w - 1, w + 1])
      for (let k = adjacency.start[g]; k < adjacency.start[g + 1] && cands.size < 8; k++)
        cands.add(waveOf[adjacency.list[k]])
      for (const c of [...cands].sort((p, q) => p - q)) {
        if (!mayMoveTo(input, a, search, ranking, g, c)) continue
        const cc = cost(g, c)
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

/** Whether group g may move to wave c: an open, non-pilot, non-empty wave that keeps the rules and the ramp. */
function mayMoveTo(
  input: AssignInput,
  a: Assignment,
  search: SwapSearch,
  ranking: Ranking,
  g: number,
  c: number,
): boolean {
  const {attrs, model} = input
  const {waves} = a
  const w = a.waveOf[g]
  if (c < 1 || c > waves.length || c === w || waves[c - 1].pilot || search.members[c].length === 0) return false
  if (!search.feasible(g, c, -1)) return false
  // The ramp past the early waves: the wave's size for its place in its environment.
  const k = search.tally.envIndex[c * 4 + attrs.env[g]] || 1
  const limit = ranking.serverCap(k, false)
  if (
    ranking.rules.capacity &&
    waves[c - 1].servers + attrs.servers[g] > limit &&
    k <= model.settings.ramp.earlyWaves + 30
  ) {
    let servers = 0
    for (const x of search.members[c]) servers += attrs.servers[x]
    if (servers + attrs.servers[g] > limit) return false
  }
  return true
}

/** Local improvement (see the top of this file), then the waves' totals and schedules again. */
export function improve(input: AssignInput, a: Assignment, ranking: Ranking): void {
  const search = swapSearch(input, a)
  if (ranking.rules.split) shortenSplitDays(input, a, search, ranking)
  search.improve(400)
  retally(input, a)
  rescheduleAll(input, a)
}
