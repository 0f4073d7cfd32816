// The ranked rules as the scheduler applies them, and the orders it takes groups in: pure functions of the
// settings and the groups' attributes, no state.
import type {PlanSettings} from '../schema/plan.js'
import type {GroupAttrs} from './group-attrs.js'
import type {GroupGraph} from './graph.js'

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

/** The rules that are on, which of them outranks which, and the server limit of each wave of the ramp. */
export interface Ranking {
  rules: Rules
  /** dev-before-prod outranks critical-not-early: a dev/test group next in line may break the latter. */
  envBeatsCritical: boolean
  /** dev-before-prod outranks small-early-waves. */
  envBeatsSmall: boolean
  /** Server limit of the k-th wave of an environment (the capacity when relaxed or without small-early-waves). */
  serverCap: (k: number, relaxed: boolean) => number
}

export function rankRules(settings: PlanSettings): Ranking {
  const rules = rulesOf(settings)
  // Ranked rules: dev/test before prod outranks (by default) the early-wave rules, so a dev/test group that is
  // next in line may break them rather than let production go first.
  const rank = (r: string) => {
    const i = settings.rules.indexOf(r as PlanSettings['rules'][number])
    return i < 0 ? Number.POSITIVE_INFINITY : i
  }
  return {
    rules,
    envBeatsCritical: rules.devFirst && rank('dev-before-prod') < rank('critical-not-early'),
    envBeatsSmall: rules.devFirst && rank('dev-before-prod') < rank('small-early-waves'),
    serverCap: serverCapOf(settings, rules),
  }
}

/** Server limit of the k-th wave of an environment: small early waves, then doubling up to the capacity. */
export function serverCapOf(settings: PlanSettings, rules: Rules): (k: number, relaxed: boolean) => number {
  const cap = settings.capacity
  const ramp = settings.ramp
  return (k, relaxed) => {
    if (!rules.smallEarly || relaxed) return cap.servers
    if (k <= ramp.earlyWaves) return Math.min(ramp.earlyServers, cap.servers)
    const d = k - ramp.earlyWaves
    return d >= 30 ? cap.servers : Math.min(cap.servers, ramp.earlyServers * 2 ** d)
  }
}

/** What the orders below read of each group. */
export interface OrderInput {
  graph: GroupGraph
  attrs: GroupAttrs
  /** The latest wave each group may go in (pins of the groups that wait for it). */
  latestWave: Float64Array
  /** The previous plan's wave of the group, or Infinity. */
  priorKey: (g: number) => number
  hasPrior: boolean
}

/** The ready queue's order: the most pressed first, then the previous plan's wave, dev/test first, depth-first. */
export function readyOrder(o: OrderInput, rules: Rules): (x: number, y: number) => boolean {
  const {latestWave, attrs, graph, priorKey} = o
  return (x, y) => {
    if (latestWave[x] !== latestWave[y]) return latestWave[x] < latestWave[y]
    if (o.hasPrior && priorKey(x) !== priorKey(y)) return priorKey(x) < priorKey(y)
    if (rules.devFirst && attrs.env[x] !== attrs.env[y]) return attrs.env[x] < attrs.env[y]
    return graph.rank[x] < graph.rank[y]
  }
}

const cmp = (p: number, q: number) => (p < q ? -1 : p > q ? 1 : 0)

/** Early-wave order: groups that break no early rule first, then the least risky that teach the most. */
export function earlyOrder(o: OrderInput, rules: Rules): (x: number, y: number) => number {
  const {latestWave, attrs, graph, priorKey} = o
  return (x, y) =>
    cmp(latestWave[x], latestWave[y]) ||
    cmp(priorKey(x), priorKey(y)) ||
    (rules.devFirst ? attrs.env[x] - attrs.env[y] : 0) ||
    attrs.blocked[x] - attrs.blocked[y] ||
    attrs.maxCrit[x] - attrs.maxCrit[y] ||
    attrs.maxComplexity[x] - attrs.maxComplexity[y] ||
    cmp(attrs.teach[y], attrs.teach[x]) ||
    cmp(attrs.risk[x], attrs.risk[y]) ||
    graph.rank[x] - graph.rank[y]
}
