// Reasons, derived from the final placement only (never from what the scheduler tried on the way): which waves are
// pilots and why each application is in its wave and not an earlier one (why-not-earlier.ts). Each wave's risk and
// confidence are rated in wave-ratings.ts.
import type {PlanSettings} from '../schema/plan.js'
import type {GroupAttrs} from './group-attrs.js'
import {rulesOf} from './rule-ranking.js'
import type {Assignment} from './waves.js'
import type {GroupGraph} from './graph.js'
import {CRIT_ORDER, ENV_NAMES, type EstateModel} from './model.js'
import {ENVS, WaveTally} from './tally.js'
import {whyNotEarlier} from './why-not-earlier.js'

const ORDINAL = ['0th', '1st', '2nd', '3rd']
const ordinal = (k: number) => (k < 4 ? ORDINAL[k] : `${k}th`)

/** The final placement and what the explanations need of it. */
export interface Placement {
  model: EstateModel
  graph: GroupGraph
  attrs: GroupAttrs
  asg: Assignment
  appWave: Int32Array
  /** Indexed per environment, over the final placement. */
  tally: WaveTally
  waveDay: (w: number) => number
  /** The previous plan's wave of each group, when the re-plan kept to it. */
  prior?: Int32Array
  /** Filled on first use: per wave and environment, the waves before it that hold the environment. */
  envBefore?: Int32Array
  /** Filled on first use: the last wave holding dev, test or staging applications. */
  lastNonProd?: number
  /** Filled on first use: undirected application adjacency (CSR). */
  adjacency?: {start: Int32Array; list: Int32Array}
}

export function finalTally(model: EstateModel, appWave: Int32Array, waves: number): WaveTally {
  const s = model.settings
  const t = new WaveTally(waves, {
    earlyWaves: s.ramp.earlyWaves,
    earlyServers: s.ramp.earlyServers,
    pilotApps: s.pilot.apps,
  })
  model.apps.forEach((n, a) => {
    if (appWave[a])
      t.add(appWave[a], n.env, 1, n.servers.length, n.crit >= CRIT_ORDER.high || n.complexity >= 2 ? 1 : 0)
  })
  t.index()
  return t
}

function isBlocked(model: EstateModel, a: number): boolean {
  const n = model.apps[a]
  return n.crit >= CRIT_ORDER.high || n.complexity >= 2
}

/**
 * Marks the pilots: the first wave of an environment when it holds at most `pilot.apps` applications, none of
 * high/critical criticality or high complexity. A started wave keeps the flag it had.
 */
export function markPilots(p: Placement): void {
  const {model, asg, tally} = p
  const pilotApps = model.settings.pilot.apps
  for (const slot of asg.waves) {
    if (slot.fixed) {
      slot.pilot = slot.fixed.pilot ?? false
      continue
    }
    const w = slot.number
    let envs = 0
    let first = true
    let apps = 0
    let blocked = 0
    for (let e = 0; e < ENVS; e++) {
      const i = w * ENVS + e
      if (!tally.apps[i]) continue
      envs++
      apps += tally.apps[i]
      blocked += tally.blocked[i]
      if (tally.envIndex[i] !== 1) first = false
    }
    slot.pilot = pilotApps > 0 && envs === 1 && first && apps <= pilotApps && blocked === 0
  }
}

/** The placement reason of application a: the facts of its wave, what it waits for, and why not earlier. */
export function placementReason(
  p: Placement,
  a: number,
  afterOf: Map<number, string[]>,
  pin: PlanSettings['pins'][number] | undefined,
  deps: string | undefined,
): string {
  const {model, graph, asg, appWave, tally} = p
  const s = model.settings
  const g = graph.groupOf[a]
  const w = appWave[a]
  const slot = asg.waves[w - 1]
  const env = model.apps[a].env
  const parts: string[] = []
  if (slot.fixed) parts.push('the wave had started before this re-plan: kept')
  else if (slot.pilot)
    parts.push(
      `${w === 1 ? 'pilot' : `${ENV_NAMES[env]} pilot`}: the first ${ENV_NAMES[env]} wave, low-risk applications that exercise runbooks ${p.attrs.teach[g] > 0 ? `${Math.round(p.attrs.teach[g])} application${p.attrs.teach[g] === 1 ? '' : 's'} use` : 'in use'}`,
    )
  if (pin?.wave) parts.push(`pinned to wave ${pin.wave}`)
  if (pin?.notBefore) parts.push(`pinned after ${pin.notBefore}`)
  if (deps) parts.push(deps)
  for (const before of afterOf.get(a) ?? []) {
    const b = model.appIndex.get(before)
    if (b !== undefined && appWave[b]) parts.push(`after ${before} (wave ${appWave[b]}, a before constraint)`)
  }
  // Why not an earlier wave: each earlier wave its dependencies allow, grouped by what stops it.
  let lo = 1
  for (let k = graph.predStart[g]; k < graph.predStart[g + 1]; k++)
    lo = Math.max(lo, asg.waveOf[graph.predList[k]] + graph.predStrict[k])
  if (!slot.fixed && !pin?.wave) parts.push(...whyNotEarlier(p, g, a, w, lo))
  // An early-wave rule that gives way here, said as it is.
  const k = tally.envIndex[w * ENVS + env]
  if (!slot.fixed && k >= 1 && k <= s.ramp.earlyWaves) {
    const rules = rulesOf(s)
    if (rules.critical && isBlocked(model, a)) {
      const n = model.apps[a]
      parts.push(
        `in the ${ordinal(k)} ${ENV_NAMES[env]} wave despite ${n.crit >= CRIT_ORDER.high ? `${n.app.criticality} criticality` : 'high complexity'}: the rule critical-not-early gives way (no single move or swap of applications would remove a violation)`,
      )
    } else if (rules.critical && p.attrs.blocked[g]) {
      parts.push(
        `in the ${ordinal(k)} ${ENV_NAMES[env]} wave with a critical or complex application of its move group (critical-not-early gives way)`,
      )
    }
  }
  if (parts.length === 0)
    parts.push(
      lo >= w && w > 1
        ? 'the first wave its dependencies allow'
        : 'no dependencies to wait for: the first wave with room',
    )
  return `wave ${w}: ${parts.join(', ')}`
}
