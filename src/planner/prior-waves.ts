// A re-plan keeps the previous plan's waves where the rules allow: which groups may stay where they were.
import {rulesOf} from './rule-ranking.js'
import {SwapSearch} from './swap.js'
import type {AssignInput} from './waves.js'

/**
 * The previous plan's waves, less the groups that no longer fit there together (an inventory change made one bigger):
 * groups of an overfull wave are let go, those nothing depends on first, until the rest fits, and are placed afresh.
 */
export function unholdOverfull(input: AssignInput, priorIn: Int32Array): Int32Array {
  const {graph, attrs, model} = input
  const cap = model.settings.capacity
  if (!rulesOf(model.settings).capacity) return priorIn
  const prior = repairPrior(input, priorIn)
  const byWave = new Map<number, number[]>()
  for (let g = 0; g < graph.count; g++) {
    if (!prior[g] || attrs.fixed[g]) continue
    const list = byWave.get(prior[g]) ?? []
    list.push(g)
    byWave.set(prior[g], list)
  }
  const limits: [(g: number) => number, number][] = [
    [(g) => attrs.apps[g], cap.apps],
    [(g) => attrs.servers[g], cap.servers],
    [(g) => attrs.dataGiB[g], cap.dataTiB * 1024],
    [(g) => attrs.crit[g], cap.critical],
  ]
  // Let go first the groups nothing waits for (no application has to follow them), the biggest of those first.
  const succ = (g: number) => graph.succStart[g + 1] - graph.succStart[g]
  for (const [, groups] of byWave) {
    for (const [size, limit] of limits) {
      let total = groups.reduce((s, g) => s + (prior[g] ? size(g) : 0), 0)
      if (total <= limit) continue
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
  const {graph, attrs, model} = input
  const settings = model.settings
  const prior = Int32Array.from(priorIn)
  const waves = prior.reduce((m, w) => Math.max(m, w), 0)
  if (waves === 0) return prior
  const frozen = new Uint8Array(graph.count)
  for (let g = 0; g < graph.count; g++) if (attrs.pin[g] || attrs.fixed[g] || !prior[g]) frozen[g] = 1
  const cap = settings.capacity
  const rules = rulesOf(settings)
  const search = new SwapSearch({
    model,
    graph: graph,
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
