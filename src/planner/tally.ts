// Per-wave, per-environment tallies of an assignment and the soft rules counted on them. One yardstick for the
// quality figures, the planner's swap search and the benchmark's "could one swap do better" check, so the three can
// never disagree. The ramp is counted per environment: the k-th wave that holds an environment is that
// environment's k-th wave, whatever its global number (dev and staging waves do not use up production's ramp).
export const ENVS = 4

export interface RampLimits {
  /** The first `earlyWaves` waves of each environment are its early waves. */
  earlyWaves: number
  /** An early wave holds at most this many servers. */
  earlyServers: number
  /** An environment's first wave holds at most this many applications (0: no such limit). */
  pilotApps: number
}

/** Which soft rules count (a rule removed from settings.rules does not). */
export interface SoftRules {
  env: boolean
  devFirst: boolean
  critical: boolean
  smallEarly: boolean
}

export const ALL_SOFT: SoftRules = {env: true, devFirst: true, critical: true, smallEarly: true}

export interface SoftViolations {
  'environments-not-mixed': number
  'dev-before-prod': number
  'critical-not-early': number
  'small-early-waves': number
}

const PROD = 3

/**
 * apps/servers/blocked per (wave, environment), waves 1..W (index w * 4 + env). `blocked` counts applications of high
 * or critical criticality or high complexity: the ones the early waves of their environment should not hold.
 */
export class WaveTally {
  readonly apps: Int32Array
  readonly servers: Int32Array
  readonly blocked: Int32Array
  /** envIndex[w * 4 + e]: the how-manieth wave of environment e wave w is (0 when w holds none of e). */
  readonly envIndex: Int32Array
  firstProd = 0

  constructor(
    readonly waves: number,
    readonly ramp: RampLimits,
    readonly rules: SoftRules = ALL_SOFT,
  ) {
    const n = (waves + 1) * ENVS
    this.apps = new Int32Array(n)
    this.servers = new Int32Array(n)
    this.blocked = new Int32Array(n)
    this.envIndex = new Int32Array(n)
  }

  add(w: number, env: number, apps: number, servers: number, blocked: number, sign: 1 | -1 = 1): void {
    const i = w * ENVS + env
    this.apps[i] += sign * apps
    this.servers[i] += sign * servers
    this.blocked[i] += sign * blocked
  }

  /** Recomputes each wave's index within its environments and the first production wave. */
  index(): void {
    const seen = [0, 0, 0, 0]
    this.firstProd = 0
    for (let w = 1; w <= this.waves; w++) {
      for (let e = 0; e < ENVS; e++) {
        const i = w * ENVS + e
        this.envIndex[i] = this.apps[i] > 0 ? ++seen[e] : 0
      }
      if (this.firstProd === 0 && this.apps[w * ENVS + PROD] > 0) this.firstProd = w
    }
  }

  /** True when wave w holds environment e (after `index`). */
  has(w: number, e: number): boolean {
    return this.apps[w * ENVS + e] > 0
  }

  /** Soft violations of wave w alone, given the indices (see `index`). */
  waveTerm(w: number, out?: SoftViolations): number {
    const {rules, ramp} = this
    let envs = 0
    let total = 0
    let early = false
    let pilotOver = false
    let sum = 0
    for (let e = 0; e < ENVS; e++) {
      const i = w * ENVS + e
      if (this.apps[i] === 0) continue
      envs++
      total += this.servers[i]
      const k = this.envIndex[i]
      if (k <= ramp.earlyWaves) {
        early = true
        if (rules.critical && this.blocked[i] > 0) {
          sum += this.blocked[i]
          if (out) out['critical-not-early'] += this.blocked[i]
        }
        if (k === 1 && ramp.pilotApps > 0 && this.apps[i] > ramp.pilotApps) pilotOver = true
      }
      if (rules.devFirst && e < PROD && this.firstProd > 0 && w > this.firstProd) {
        sum += this.apps[i]
        if (out) out['dev-before-prod'] += this.apps[i]
      }
    }
    if (rules.env && envs > 1) {
      sum++
      if (out) out['environments-not-mixed']++
    }
    if (rules.smallEarly && early && (total > ramp.earlyServers || pilotOver)) {
      sum++
      if (out) out['small-early-waves']++
    }
    return sum
  }

  /** All soft violations (indexes first). */
  violations(out?: SoftViolations): number {
    this.index()
    let sum = 0
    for (let w = 1; w <= this.waves; w++) sum += this.waveTerm(w, out)
    return sum
  }
}

export function emptySoft(): SoftViolations {
  return {'environments-not-mixed': 0, 'dev-before-prod': 0, 'critical-not-early': 0, 'small-early-waves': 0}
}
