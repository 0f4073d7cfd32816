// Reasons and ratings, derived from the final placement only (never from what the scheduler tried on the way): why
// each application is in its wave and not an earlier one, which waves are pilots, and each wave's risk and
// confidence with the figures behind them.
import type {PlanSettings, Wave} from '../schema/plan.js'
import type {AppPlan} from '../schema/plan.js'
import type {GroupAttrs} from './group-attrs.js'
import {rulesOf} from './rule-ranking.js'
import type {Assignment, WaveSlot} from './waves.js'
import {formatDay, type Calendar} from './calendar.js'
import type {GroupGraph} from './graph.js'
import {CRIT_ORDER, type EstateModel} from './model.js'
import {ENVS, WaveTally} from './tally.js'

const ENV_NAMES = ['dev', 'test', 'staging', 'prod'] as const
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

function ranges(ws: number[]): string {
  const out: string[] = []
  for (let i = 0; i < ws.length; ) {
    let j = i
    while (j + 1 < ws.length && ws[j + 1] === ws[j] + 1) j++
    out.push(i === j ? `${ws[i]}` : `${ws[i]}–${ws[j]}`)
    i = j + 1
  }
  return `wave${ws.length > 1 ? 's' : ''} ${out.join(', ')}`
}

/** Why group g could not move in wave c (an earlier wave its dependencies allow), or undefined when nothing stops it. */
function whyNotIn(
  p: Placement,
  g: number,
  c: number,
  a: number,
): {kind: string; text: (ws: number[]) => string} | undefined {
  const {model, attrs, asg, tally, waveDay} = p
  const s = model.settings
  const rules = rulesOf(s)
  const slot = asg.waves[c - 1]
  const n = model.apps[a]
  const env = attrs.env[g]
  if (slot.fixed) return {kind: 'started', text: (ws) => `${ranges(ws)} had started`}
  if (attrs.notBefore[g] > waveDay(c))
    return {kind: 'notBefore', text: () => `not before ${formatDay(attrs.notBefore[g])}`}
  const other = envOf(tally, c)
  if (rules.env && other !== undefined && other !== env) {
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
  const k = envIndexAt(p, c, env)
  if (rules.critical && k <= s.ramp.earlyWaves && attrs.blocked[g]) {
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
  const cap = s.capacity
  if (rules.capacity) {
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
    if (what) return {kind: `capacity ${what}`, text: (ws) => `capacity (${what}) full in ${ranges(ws)}`}
  }
  if (rules.smallEarly && k <= s.ramp.earlyWaves) {
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
  }
  if (rules.devFirst && env === 3) {
    // Production waits while dev/test/staging applications are still to move after c.
    if (p.lastNonProd === undefined) {
      p.lastNonProd = 0
      for (let w = 1; w <= tally.waves; w++) for (let e = 0; e < 3; e++) if (tally.has(w, e)) p.lastNonProd = w
    }
    if (p.lastNonProd > c) return {kind: 'devFirst', text: () => 'production after dev/test/staging'}
  }
  return undefined
}

/** Days the dependencies of group g's applications would spend split across sites with g in wave c. */
function splitDays(p: Placement, g: number, c: number): number {
  const {model, graph, appWave, waveDay} = p
  if (!p.adjacency) {
    const {edges} = model
    const n = model.apps.length
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
  const {start, list} = p.adjacency
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
  if (!slot.fixed && !pin?.wave) {
    const byKind = new Map<string, {text: (ws: number[]) => string; ws: number[]}>()
    let free: number[] = []
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
        parts.push(
          `kept next to the applications it works with (fewer days split across sites than in ${ranges(free)})`,
        )
      else
        parts.push(
          `${ranges(free)} ${free.length === 1 ? 'has' : 'have'} room too (others moved after it was placed, and re-plans leave applications where they are)`,
        )
      free = []
    }
  }
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

function list(names: string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ')
}

interface WaveTimes {
  replicationStart: string
  test: {start: string; end: string}
  cutover: {start: string; end: string}
  replicationDays?: number
  skipped: string[]
}

function timesOf(slot: WaveSlot, cal: Calendar): WaveTimes {
  if (slot.fixed)
    return {
      replicationStart: slot.fixed.replicationStart,
      test: slot.fixed.test,
      cutover: slot.fixed.cutover,
      replicationDays: slot.fixed.replicationDays,
      skipped: [],
    }
  const sc = slot.schedule!
  return {
    replicationStart: cal.iso(sc.replicationStartDay, 9 * 60),
    test: {start: cal.iso(sc.testStartDay, 9 * 60), end: cal.iso(sc.slot.day, sc.slot.startMin)},
    cutover: {start: cal.iso(sc.slot.day, sc.slot.startMin), end: cal.iso(sc.slot.endDay, sc.slot.endMin)},
    replicationDays: sc.replicationDays,
    skipped: [...sc.slot.skipped],
  }
}

/** The waves of the plan with their risk and confidence, each reason computed from the wave's final contents. */
export function buildWaves(p: Placement, apps: AppPlan[], cal: Calendar): Wave[] {
  const {model, graph, asg, appWave, tally} = p
  const {settings, edges} = model
  const cap = settings.capacity
  const splitPerWave = new Map<number, number>()
  for (let e = 0; e < edges.count; e++) {
    const wa = appWave[edges.from[e]]
    const wb = appWave[edges.to[e]]
    if (!wa || !wb || wa === wb) continue
    splitPerWave.set(wa, (splitPerWave.get(wa) ?? 0) + 1)
    splitPerWave.set(wb, (splitPerWave.get(wb) ?? 0) + 1)
  }
  const seenTemplates = new Set<string>()
  const out: Wave[] = []
  for (const slot of asg.waves) {
    const members: number[] = []
    for (const g of slot.groups) for (const a of graph.members[g]) members.push(a)
    members.sort((x, y) => x - y)
    const names = members.map((a) => model.apps[a].name)
    const envs = new Set(members.map((a) => model.apps[a].env))
    const dbs = members.reduce((s, a) => s + model.apps[a].dbs.length, 0)
    const times = timesOf(slot, cal)
    const risk: string[] = []
    const conf: string[] = []
    let score = 0
    let confidence = 5
    const critical = members.filter((a) => model.apps[a].crit === CRIT_ORDER.critical).map((a) => model.apps[a].name)
    const high = members.filter((a) => model.apps[a].crit === CRIT_ORDER.high).map((a) => model.apps[a].name)
    const complex = members.filter((a) => model.apps[a].complexity >= 2).map((a) => model.apps[a].name)
    if (critical.length) {
      score += 3 * critical.length
      risk.push(`${critical.length} critical: ${list(critical)}`)
    }
    if (high.length) {
      score += 2 * high.length
      risk.push(`${high.length} high criticality: ${list(high)}`)
    }
    if (complex.length) {
      score += complex.length
      risk.push(`high complexity: ${list(complex)}`)
    }
    const servers = members.reduce((s, a) => s + model.apps[a].servers.length, 0)
    const dataGiB = members.reduce((s, a) => s + model.apps[a].dataGiB, 0)
    const crit = critical.length + high.length
    // Limits: at a limit is a risk (no slack) and lowers confidence; near one is said.
    const limits: [string, number, number][] = [
      ['applications', members.length, cap.apps],
      ['servers', servers, cap.servers],
      ['TiB of data', Math.round((dataGiB / 1024) * 10) / 10, cap.dataTiB],
      ['high/critical applications', crit, cap.critical],
    ]
    const atLimit = limits.filter(([, v, c]) => v >= c && v > 0)
    const nearLimit = limits.filter(([, v, c]) => v < c && v > 0.8 * c)
    if (atLimit.length) {
      score += 1
      risk.push(`at its limit: ${atLimit.map(([what, v, c]) => `${v} of ${c} ${what}`).join(', ')}`)
      confidence--
      conf.push(
        `at its limit (${atLimit.map(([what]) => what).join(', ')}): no slack if an application grows or is added`,
      )
    }
    if (nearLimit.length) {
      score += 1
      risk.push(`near its limit: ${nearLimit.map(([what, v, c]) => `${v} of ${c} ${what}`).join(', ')}`)
    }
    const templates = new Set<string>()
    for (const a of members) {
      const ap = apps[a]
      templates.add(ap.template)
      for (const d of ap.databases) if (d.template) templates.add(d.template)
    }
    const fresh = [...templates].filter((t) => t !== 'none' && !seenTemplates.has(t)).sort()
    for (const t of fresh) seenTemplates.add(t)
    if (fresh.length && !slot.pilot && out.length > 0) {
      score += Math.min(2, fresh.length)
      risk.push(`first wave to use ${fresh.join(', ')}`)
      confidence--
      conf.push(`no earlier wave has run ${fresh.join(', ')}`)
    }
    const split = splitPerWave.get(slot.number) ?? 0
    if (split > 0) {
      score += 1
      risk.push(`${split} dependenc${split === 1 ? 'y' : 'ies'} to other waves run across sites meanwhile`)
    }
    if (slot.pilot)
      risk.push(
        `pilot wave: the first ${[...envs].map((e) => ENV_NAMES[e]).join('/')} wave, low-risk applications to prove the tooling and runbooks`,
      )
    if (times.skipped.length)
      risk.push(`cutover moved past the ${times.skipped.join(', ')} blackout${times.skipped.length === 1 ? '' : 's'}`)
    const observed = members.filter((a) => model.apps[a].observedDeps).length
    if (members.length > 0 && observed < members.length) {
      confidence--
      conf.push(
        observed === 0
          ? 'dependencies are declared only, none observed on the wire'
          : `${members.length - observed} of ${members.length} applications have declared dependencies only`,
      )
    }
    const util = members.reduce((s, a) => s + model.apps[a].utilKnown, 0)
    if (servers > 0 && util < servers) {
      const missing = servers - util
      confidence -= missing * 2 >= servers ? 2 : missing * 10 > servers ? 1 : 0
      conf.push(`utilisation unknown for ${missing} of ${servers} servers: their sizes follow the source`)
    }
    if (times.replicationDays !== undefined && times.replicationDays + settings.testDays > settings.waveCadenceDays) {
      confidence--
      conf.push(
        `replication (${times.replicationDays} d) and testing (${settings.testDays} d) take longer than the cadence`,
      )
    }
    const soft = tally.waveTerm(slot.number)
    if (soft > 0 && !slot.fixed) {
      confidence--
      conf.push(
        `${soft} early-wave or environment rule${soft === 1 ? '' : 's'} give${soft === 1 ? 's' : ''} way in this wave`,
      )
    }
    const pinned = members.filter((a) => p.attrs.pin[graph.groupOf[a]] === slot.number).map((a) => model.apps[a].name)
    if (pinned.length) conf.push(`pinned here: ${list(pinned)}`)
    confidence = Math.max(1, confidence)
    if (conf.length === 0)
      conf.push('dependencies observed, utilisation known for every server, well inside capacity and cadence')
    const level = slot.pilot && score <= 2 ? 'low' : score <= 1 ? 'low' : score <= 6 ? 'medium' : 'high'
    const env = envs.size === 1 ? [...envs][0] : undefined
    out.push({
      number: slot.number,
      name: slot.fixed
        ? slot.fixed.name
        : slot.pilot
          ? slot.number === 1
            ? 'Pilot'
            : `Pilot (${ENV_NAMES[env!]})`
          : `Wave ${slot.number}`,
      pilot: slot.pilot,
      ...(env !== undefined ? {environment: ENV_NAMES[env]} : {}),
      applications: names,
      replicationStart: times.replicationStart,
      test: times.test,
      cutover: times.cutover,
      servers,
      databases: dbs,
      dataGiB: Math.round(dataGiB * 10) / 10,
      ...(times.replicationDays !== undefined ? {replicationDays: times.replicationDays} : {}),
      splitDependencies: split,
      risk: level,
      confidence,
      reasons: [...risk.map((r) => `risk: ${r}`), ...conf.map((c) => `confidence: ${c}`)],
    })
  }
  return out
}
