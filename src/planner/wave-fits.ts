// Whether a group may go into the wave being filled, by the ranked rules that are on, and if not, why.
import type {Ranking} from './rule-ranking.js'
import type {AssignInput, GroupNotes, WaveSlot} from './waves.js'

export type Verdict = 'ok' | 'force' | 'order' | 'pin' | 'prior' | 'notBefore' | 'env' | 'early' | 'capacity'

/** The wave being filled, and how far its rules are relaxed. */
export interface WaveFill {
  wave: number
  slot: WaveSlot
  /** The earliest cutover day of the wave (later when it waits for notBefore pins). */
  earliestDay: number
  /** 0: every rule; 1: groups held for their previous plan's wave may come; 2: early-wave rules relaxed too. */
  relax: number
  /** While risky groups wait, at most this many low-risk groups go into this early wave (spread over the ramp). */
  spread: number
  spreadTaken: number
}

/** Room each wave keeps for the groups the previous plan had there, per capacity. */
export interface Reserved {
  apps: Float64Array
  servers: Float64Array
  data: Float64Array
  crit: Float64Array
}

/** What the verdict reads of the scheduler's state. */
export interface FitState {
  readonly input: AssignInput
  readonly ranking: Ranking
  /** The earliest wave each group may go in (after its placed predecessors). */
  readonly minWave: Int32Array
  readonly prior: Int32Array | undefined
  /** How many waves each environment has had so far. */
  readonly envWaves: number[]
  readonly unplacedPerEnv: number[]
  readonly reserved: Reserved
  readonly notes: GroupNotes
}

/** The how-manieth wave of its environment group g would move in, if it went into the wave being filled. */
export const envWaveOf = (st: FitState, g: number): number => st.envWaves[st.input.attrs.env[g]] + 1

/** g is next in line for its environment (every earlier one placed, a later one waiting): dev/test first. */
function frontier(st: FitState, g: number): boolean {
  if (!st.ranking.rules.devFirst) return false
  const e = st.input.attrs.env[g]
  for (let x = 0; x < e; x++) if (st.unplacedPerEnv[x] > 0) return false
  for (let x = e + 1; x < 4; x++) if (st.unplacedPerEnv[x] > 0) return true
  return false
}

/** Group g would break critical-not-early or small-early-waves in the k-th wave of its environment. */
function breaksEarlyRules(st: FitState, g: number, fill: WaveFill, k: number): boolean {
  const {attrs, model} = st.input
  const {rules, envBeatsCritical, envBeatsSmall, serverCap} = st.ranking
  const {slot} = fill
  // Relaxed (nothing else could fill the wave), the early-wave rules give way for one group only.
  if (fill.relax >= 2 && slot.groups.length === 0) return false
  // Only alone in a wave, so one such group per early wave at most.
  const front = slot.groups.length === 0 && frontier(st, g)
  const pilotApps = model.settings.pilot.apps
  if (rules.critical && attrs.blocked[g] && !(front && envBeatsCritical)) return true
  if (rules.smallEarly && !(front && envBeatsSmall)) {
    if (k === 1 && pilotApps > 0 && slot.apps + attrs.apps[g] > pilotApps) return true
    if (slot.servers + attrs.servers[g] > serverCap(k, false)) return true
  }
  return false
}

/** The capacity group g would exceed in the wave ('' when it fits), room kept for the previous plan's groups. */
function capacityExceeded(st: FitState, g: number, fill: WaveFill, k: number, kept: boolean): string {
  const {attrs, model, graph} = st.input
  const cap = model.settings.capacity
  const {slot, wave, relax} = fill
  const {prior, reserved} = st
  const serverCap = st.ranking.serverCap
  // Room kept for the previous plan's groups of this wave (none for those groups themselves).
  const keep = relax === 0 && prior && prior[g] !== wave && wave <= graph.count + 1
  const rApps = keep ? reserved.apps[wave] : 0
  const rServers = keep ? reserved.servers[wave] : 0
  const rData = keep ? reserved.data[wave] : 0
  const rCrit = keep ? reserved.crit[wave] : 0
  const servers = slot.servers + attrs.servers[g] + rServers
  if (slot.apps + attrs.apps[g] + rApps > cap.apps) return 'applications'
  if (
    servers > serverCap(k, true) ||
    (k > model.settings.ramp.earlyWaves && !kept && relax < 2 && servers > serverCap(k, false))
  )
    return 'servers'
  if (slot.dataGiB + attrs.dataGiB[g] + rData > cap.dataTiB * 1024) return 'data'
  if (slot.crit + attrs.crit[g] + rCrit > cap.critical) return 'critical applications'
  return ''
}

/** Whether group g may go into the wave being filled ('ok', or 'force' for a pin), and if not, why. */
export function verdictOf(st: FitState, g: number, fill: WaveFill): Verdict {
  const {attrs, latestWave, model} = st.input
  const {rules} = st.ranking
  const {wave, slot} = fill
  const prior = st.prior
  if (st.minWave[g] > wave) return 'order'
  if (attrs.pin[g]) return attrs.pin[g] > wave ? 'pin' : 'force'
  if (latestWave[g] <= wave) return 'force'
  if (attrs.notBefore[g] > fill.earliestDay) return 'notBefore'
  if (fill.relax === 0 && prior && prior[g] > wave) return 'prior'
  if (rules.env && slot.env >= 0 && attrs.env[g] !== slot.env) return 'env'
  if (!attrs.blocked[g] && fill.spreadTaken >= fill.spread && latestWave[g] > wave) return 'early'
  const k = envWaveOf(st, g)
  // A group back in its previous plan's wave keeps it while the hard rules allow (the swap search still removes any
  // early-wave violation one move or swap can).
  const kept = prior !== undefined && prior[g] === wave
  if (k <= model.settings.ramp.earlyWaves && !kept && breaksEarlyRules(st, g, fill, k)) return 'early'
  if (rules.capacity) {
    const what = capacityExceeded(st, g, fill, k, kept)
    if (what) {
      if (!st.notes.capacityWave[g]) {
        st.notes.capacityWave[g] = wave
        st.notes.capacityWhat[g] = what
      }
      return 'capacity'
    }
  }
  return 'ok'
}
