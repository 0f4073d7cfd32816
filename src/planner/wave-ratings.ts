// Each wave of the plan with its risk and confidence, rated from the wave's final contents: what it holds
// (criticality, complexity, how close to each capacity limit, runbook templates no earlier wave has run, dependencies
// split across sites) and how much is known about it (observed dependencies, utilisation, time to replicate and test).
import type {AppPlan, Wave} from '../schema/plan.js'
import type {Calendar} from './calendar.js'
import type {Placement} from './explain.js'
import {CRIT_ORDER, ENV_NAMES} from './model.js'
import type {WaveSlot} from './waves.js'

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

/** Dependencies between two different waves, counted for each of the two. */
function splitPerWave(p: Placement): Map<number, number> {
  const {edges} = p.model
  const split = new Map<number, number>()
  for (let e = 0; e < edges.count; e++) {
    const wa = p.appWave[edges.from[e]]
    const wb = p.appWave[edges.to[e]]
    if (!wa || !wb || wa === wb) continue
    split.set(wa, (split.get(wa) ?? 0) + 1)
    split.set(wb, (split.get(wb) ?? 0) + 1)
  }
  return split
}

/** What a wave holds, as its ratings need it. */
interface WaveContents {
  slot: WaveSlot
  /** Application indices, ascending. */
  members: number[]
  servers: number
  dataGiB: number
  critical: string[]
  high: string[]
  complex: string[]
  times: WaveTimes
  split: number
  /** [what, value, limit] of each capacity limit the wave is at, or near (over 80%). */
  atLimit: [string, number, number][]
  nearLimit: [string, number, number][]
  /** Runbook templates the wave is the first to use, when that counts (not a pilot, not the first wave). */
  newTemplates: string[]
}

/** The contents of a wave; the templates it uses join `seenTemplates`. */
function contentsOf(
  p: Placement,
  slot: WaveSlot,
  ctx: {apps: AppPlan[]; cal: Calendar; split: Map<number, number>; seenTemplates: Set<string>; first: boolean},
): WaveContents {
  const {model, graph} = p
  const cap = model.settings.capacity
  const members: number[] = []
  for (const g of slot.groups) for (const a of graph.members[g]) members.push(a)
  members.sort((x, y) => x - y)
  const names = (f: (a: number) => boolean) => members.filter(f).map((a) => model.apps[a].name)
  const critical = names((a) => model.apps[a].crit === CRIT_ORDER.critical)
  const high = names((a) => model.apps[a].crit === CRIT_ORDER.high)
  const complex = names((a) => model.apps[a].complexity >= 2)
  const servers = members.reduce((s, a) => s + model.apps[a].servers.length, 0)
  const dataGiB = members.reduce((s, a) => s + model.apps[a].dataGiB, 0)
  // Limits: at a limit is a risk (no slack) and lowers confidence; near one is said.
  const limits: [string, number, number][] = [
    ['applications', members.length, cap.apps],
    ['servers', servers, cap.servers],
    ['TiB of data', Math.round((dataGiB / 1024) * 10) / 10, cap.dataTiB],
    ['high/critical applications', critical.length + high.length, cap.critical],
  ]
  const templates = new Set<string>()
  for (const a of members) {
    const ap = ctx.apps[a]
    templates.add(ap.template)
    for (const d of ap.databases) if (d.template) templates.add(d.template)
  }
  const fresh = [...templates].filter((t) => t !== 'none' && !ctx.seenTemplates.has(t)).sort()
  for (const t of fresh) ctx.seenTemplates.add(t)
  return {
    slot,
    members,
    servers,
    dataGiB,
    critical,
    high,
    complex,
    times: timesOf(slot, ctx.cal),
    split: ctx.split.get(slot.number) ?? 0,
    atLimit: limits.filter(([, v, c]) => v >= c && v > 0),
    nearLimit: limits.filter(([, v, c]) => v < c && v > 0.8 * c),
    newTemplates: fresh.length && !slot.pilot && !ctx.first ? fresh : [],
  }
}

/** The wave's risk: a score and what makes it. */
function riskOf(p: Placement, w: WaveContents): {score: number; risk: string[]} {
  const risk: string[] = []
  let score = 0
  if (w.critical.length) {
    score += 3 * w.critical.length
    risk.push(`${w.critical.length} critical: ${list(w.critical)}`)
  }
  if (w.high.length) {
    score += 2 * w.high.length
    risk.push(`${w.high.length} high criticality: ${list(w.high)}`)
  }
  if (w.complex.length) {
    score += w.complex.length
    risk.push(`high complexity: ${list(w.complex)}`)
  }
  const figures = (ls: [string, number, number][]) => ls.map(([what, v, c]) => `${v} of ${c} ${what}`).join(', ')
  if (w.atLimit.length) {
    score += 1
    risk.push(`at its limit: ${figures(w.atLimit)}`)
  }
  if (w.nearLimit.length) {
    score += 1
    risk.push(`near its limit: ${figures(w.nearLimit)}`)
  }
  if (w.newTemplates.length) {
    score += Math.min(2, w.newTemplates.length)
    risk.push(`first wave to use ${w.newTemplates.join(', ')}`)
  }
  if (w.split > 0) {
    score += 1
    risk.push(`${w.split} dependenc${w.split === 1 ? 'y' : 'ies'} to other waves run across sites meanwhile`)
  }
  if (w.slot.pilot) {
    const envs = [...new Set(w.members.map((a) => p.model.apps[a].env))]
    risk.push(
      `pilot wave: the first ${envs.map((e) => ENV_NAMES[e]).join('/')} wave, low-risk applications to prove the tooling and runbooks`,
    )
  }
  const {skipped} = w.times
  if (skipped.length)
    risk.push(`cutover moved past the ${skipped.join(', ')} blackout${skipped.length === 1 ? '' : 's'}`)
  return {score, risk}
}

/** The wave's confidence, 1 to 5, and what lowers it. */
function confidenceOf(p: Placement, w: WaveContents): {confidence: number; conf: string[]} {
  const {model, graph, tally} = p
  const {settings} = model
  const {slot, members, servers, times} = w
  const conf: string[] = []
  let confidence = 5
  if (w.atLimit.length) {
    confidence--
    conf.push(
      `at its limit (${w.atLimit.map(([what]) => what).join(', ')}): no slack if an application grows or is added`,
    )
  }
  if (w.newTemplates.length) {
    confidence--
    conf.push(`no earlier wave has run ${w.newTemplates.join(', ')}`)
  }
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
  if (conf.length === 0)
    conf.push('dependencies observed, utilisation known for every server, well inside capacity and cadence')
  return {confidence: Math.max(1, confidence), conf}
}

/** The plan's entry for a wave: its contents, dates, risk and confidence. */
function waveOf(p: Placement, w: WaveContents): Wave {
  const {model} = p
  const {slot, members, times} = w
  const {score, risk} = riskOf(p, w)
  const {confidence, conf} = confidenceOf(p, w)
  const level = slot.pilot && score <= 2 ? 'low' : score <= 1 ? 'low' : score <= 6 ? 'medium' : 'high'
  const envs = new Set(members.map((a) => model.apps[a].env))
  const env = envs.size === 1 ? [...envs][0] : undefined
  return {
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
    applications: members.map((a) => model.apps[a].name),
    replicationStart: times.replicationStart,
    test: times.test,
    cutover: times.cutover,
    servers: w.servers,
    databases: members.reduce((s, a) => s + model.apps[a].dbs.length, 0),
    dataGiB: Math.round(w.dataGiB * 10) / 10,
    ...(times.replicationDays !== undefined ? {replicationDays: times.replicationDays} : {}),
    splitDependencies: w.split,
    risk: level,
    confidence,
    reasons: [...risk.map((r) => `risk: ${r}`), ...conf.map((c) => `confidence: ${c}`)],
  }
}

/** The waves of the plan with their risk and confidence, each reason computed from the wave's final contents. */
export function buildWaves(p: Placement, apps: AppPlan[], cal: Calendar): Wave[] {
  const ctx = {apps, cal, split: splitPerWave(p), seenTemplates: new Set<string>(), first: true}
  const out: Wave[] = []
  for (const slot of p.asg.waves) {
    out.push(waveOf(p, contentsOf(p, slot, ctx)))
    ctx.first = false
  }
  return out
}
