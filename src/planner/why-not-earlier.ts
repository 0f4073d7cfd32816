// Why an application is not in an earlier wave, from the final placement: for each earlier wave its dependencies
// allow, the first rule that keeps its move group out (a started wave, a notBefore date, environments apart, the
// early-wave rules, capacity, production after the others), grouped by rule; or that the wave had room.
import {formatDay} from './calendar.js'
import type {Placement} from './explain.js'
import {CRIT_ORDER, ENV_NAMES} from './model.js'
import {rulesOf} from './rule-ranking.js'
import {ENVS, type WaveTally} from './tally.js'

/** What keeps a group out of a wave: the rule, and its text for the waves it keeps the group out of. */
interface KeptOut {
  kind: string
  text: (ws: number[]) => string
}

/** The environment of wave w when it holds one, else undefined. */
function envOf(tally: WaveTally, w: number): number | undefined {
  let env: number | undefined
  for (let e = 0; e < ENVS; e++) {
    if (!tally.has(w, e)) continue
    if (env !== undefined) return undefined
    env = e
  }
  return env
}

/** Which environment wave of `env` wave w is or would be (the waves of env before it, plus one). */
function envIndexAt(p: Placement, w: number, env: number): number {
  const t = p.tally
  if (t.has(w, env)) return t.envIndex[w * ENVS + env]
  if (!p.envBefore) {
    // envBefore[w * 4 + e]: waves before w that hold e.
    const before = new Int32Array((t.waves + 2) * ENVS)
    for (let x = 1; x <= t.waves + 1; x++)
      for (let e = 0; e < ENVS; e++)
        before[x * ENVS + e] = before[(x - 1) * ENVS + e] + (x > 1 && t.has(x - 1, e) ? 1 : 0)
    p.envBefore = before
  }
  return p.envBefore[w * ENVS + env] + 1
}

/** "wave 3" or "waves 1–2, 5". */
export function ranges(ws: number[]): string {
  const out: string[] = []
  for (let i = 0; i < ws.length; ) {
    let j = i
    while (j + 1 < ws.length && ws[j + 1] === ws[j] + 1) j++
    out.push(i === j ? `${ws[i]}` : `${ws[i]}–${ws[j]}`)
    i = j + 1
  }
  return `wave${ws.length > 1 ? 's' : ''} ${out.join(', ')}`
}

/** Why group g (application a its first) could not move in wave c, an earlier wave its dependencies allow. */
function whyNotIn(p: Placement, g: number, c: number, a: number): KeptOut | undefined {
  const {model, attrs, asg, tally, waveDay} = p
  const s = model.settings
  const rules = rulesOf(s)
  const slot = asg.waves[c - 1]
  const env = attrs.env[g]
  if (slot.fixed) return {kind: 'started', text: (ws) => `${ranges(ws)} had started`}
  if (attrs.notBefore[g] > waveDay(c))
    return {kind: 'notBefore', text: () => `not before ${formatDay(attrs.notBefore[g])}`}
  const other = envOf(tally, c)
  if (rules.env && other !== undefined && other !== env) return otherEnvironment(tally, env)
  const k = envIndexAt(p, c, env)
  if (rules.critical && k <= s.ramp.earlyWaves && attrs.blocked[g]) return tooCriticalEarly(p, g, a)
  const full = rules.capacity ? capacityFull(p, g, c) : undefined
  if (full) return full
  if (rules.smallEarly && k <= s.ramp.earlyWaves) {
    const early = earlyWaveFull(p, g, c, k)
    if (early) return early
  }
  if (rules.devFirst && env === 3 && lastNonProd(p) > c)
    return {kind: 'devFirst', text: () => 'production after dev/test/staging'}
  return undefined
}

/** Environments apart: the wave moves another environment's applications. */
function otherEnvironment(tally: WaveTally, env: number): KeptOut {
  const names = (ws: number[]) =>
    [
      ...new Set(
        ws
          .map((w) => envOf(tally, w))
          .filter((e) => e !== undefined)
          .map((e) => ENV_NAMES[e!]),
      ),
    ].join('/')
  return {
    kind: 'env',
    text: (ws) =>
      `${ranges(ws)} move${ws.length === 1 ? 's' : ''} ${names(ws)} applications (one environment per wave${env === 3 ? ', production after the others' : ''})`,
  }
}

/** critical-not-early: the group holds a critical or complex application and the wave is an early one. */
function tooCriticalEarly(p: Placement, g: number, a: number): KeptOut {
  const s = p.model.settings
  const n = p.model.apps[a]
  const env = p.attrs.env[g]
  const what =
    n.crit >= CRIT_ORDER.high
      ? `${n.app.criticality} criticality`
      : n.complexity >= 2
        ? 'high complexity'
        : 'a critical or complex application in its move group'
  const own = envIndexAt(p, p.asg.waveOf[g], env)
  return {
    kind: 'early',
    text: (ws) =>
      own > s.ramp.earlyWaves
        ? `${what}: kept out of the first ${s.ramp.earlyWaves} ${ENV_NAMES[env]} waves`
        : `${what}: kept out of ${ranges(ws)} (early ${ENV_NAMES[env]} waves)`,
  }
}

/** The capacity limit the group would exceed in wave c, if any. */
function capacityFull(p: Placement, g: number, c: number): KeptOut | undefined {
  const {attrs} = p
  const cap = p.model.settings.capacity
  const slot = p.asg.waves[c - 1]
  const what =
    slot.apps + attrs.apps[g] > cap.apps
      ? 'applications'
      : slot.servers + attrs.servers[g] > cap.servers
        ? 'servers'
        : slot.dataGiB + attrs.dataGiB[g] > cap.dataTiB * 1024
          ? 'data'
          : slot.crit + attrs.crit[g] > cap.critical
            ? 'critical applications'
            : ''
  if (!what) return undefined
  return {kind: `capacity ${what}`, text: (ws) => `capacity (${what}) full in ${ranges(ws)}`}
}

/** small-early-waves: wave c, the k-th of the group's environment, would hold too many servers, or is a full pilot. */
function earlyWaveFull(p: Placement, g: number, c: number, k: number): KeptOut | undefined {
  const {attrs} = p
  const s = p.model.settings
  const slot = p.asg.waves[c - 1]
  const env = attrs.env[g]
  if (slot.servers + attrs.servers[g] > s.ramp.earlyServers)
    return {
      kind: 'ramp',
      text: (ws) =>
        `${ranges(ws)} ${ws.length === 1 ? 'is an early' : 'are early'} ${ENV_NAMES[env]} wave${ws.length === 1 ? '' : 's'} (at most ${s.ramp.earlyServers} servers)`,
    }
  if (k === 1 && s.pilot.apps > 0 && slot.apps + attrs.apps[g] > s.pilot.apps)
    return {
      kind: 'pilot',
      text: (ws) =>
        `${ranges(ws)}: the ${ENV_NAMES[env]} pilot holds at most ${s.pilot.apps} application${s.pilot.apps === 1 ? '' : 's'}`,
    }
  return undefined
}

/** The last wave holding dev, test or staging applications (computed once per placement). */
function lastNonProd(p: Placement): number {
  if (p.lastNonProd === undefined) {
    const {tally} = p
    p.lastNonProd = 0
    for (let w = 1; w <= tally.waves; w++) for (let e = 0; e < 3; e++) if (tally.has(w, e)) p.lastNonProd = w
  }
  return p.lastNonProd
}

/** Days the dependencies of group g's applications would spend split across sites with g in wave c. */
function splitDays(p: Placement, g: number, c: number): number {
  const {graph, appWave, waveDay} = p
  const {start, list} = adjacency(p)
  const dc = waveDay(c)
  let sum = 0
  for (const a of graph.members[g]) {
    for (let k = start[a]; k < start[a + 1]; k++) {
      const b = list[k]
      if (graph.groupOf[b] === g || !appWave[b]) continue
      sum += Math.abs(dc - waveDay(appWave[b]))
    }
  }
  return sum
}

/** The undirected application adjacency (CSR), built once per placement. */
function adjacency(p: Placement): {start: Int32Array; list: Int32Array} {
  if (!p.adjacency) {
    const {edges} = p.model
    const n = p.model.apps.length
    const start = new Int32Array(n + 1)
    for (let e = 0; e < edges.count; e++) {
      start[edges.from[e] + 1]++
      start[edges.to[e] + 1]++
    }
    for (let i = 0; i < n; i++) start[i + 1] += start[i]
    const fill = start.slice(0, n)
    const list = new Int32Array(edges.count * 2)
    for (let e = 0; e < edges.count; e++) {
      list[fill[edges.from[e]]++] = edges.to[e]
      list[fill[edges.to[e]]++] = edges.from[e]
    }
    p.adjacency = {start, list}
  }
  return p.adjacency
}

/**
 * Why application a (of group g, in wave w) is not in an earlier wave from `lo`, the first its dependencies allow
 * (at most 24 back): up to three rules with the waves each keeps it out of, then whether the waves with room would
 * have split more dependency days.
 */
export function whyNotEarlier(p: Placement, g: number, a: number, w: number, lo: number): string[] {
  const parts: string[] = []
  const byKind = new Map<string, {text: (ws: number[]) => string; ws: number[]}>()
  const free: number[] = []
  for (let c = Math.max(lo, w - 24); c < w; c++) {
    const r = whyNotIn(p, g, c, a)
    if (!r) {
      free.push(c)
      continue
    }
    const x = byKind.get(r.kind) ?? {text: r.text, ws: []}
    x.ws.push(c)
    byKind.set(r.kind, x)
  }
  for (const [, x] of [...byKind].slice(0, 3)) parts.push(x.text(x.ws))
  if (free.length > 0) {
    const here = splitDays(p, g, w)
    if (free.every((c) => splitDays(p, g, c) > here))
      parts.push(`kept next to the applications it works with (fewer days split across sites than in ${ranges(free)})`)
    else
      parts.push(
        `${ranges(free)} ${free.length === 1 ? 'has' : 'have'} room too (others moved after it was placed, and re-plans leave applications where they are)`,
      )
  }
  return parts
}
