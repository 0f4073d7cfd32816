// Advice for a deadline the plan cannot meet: each candidate change of a limit (critical count, capacity, the ramp,
// environments apart, a pin, the cadence) is re-planned, and only the changes that then meet the deadline are
// advised, each as the smallest change that does, naming the limit that binds. A limit is only ever raised, and a
// cadence already at its minimum is not shortened. Plus what the plan moves by the deadline as it stands.
import {MigrateError, EXIT} from '../errors.js'
import type {PlanSettings} from '../schema/plan.js'
import type {AssignInput, Assignment} from './waves.js'
import {formatDay} from './calendar.js'
import {CRIT_ORDER} from './model.js'

export function lastCutover(asg: Assignment): number {
  const last = asg.waves[asg.waves.length - 1]
  if (!last) return Number.NEGATIVE_INFINITY
  return last.fixed ? last.fixed.cutoverDay : last.schedule!.slot.day
}

export interface Advice {
  /** The setting changed, e.g. capacity.critical, or rules, or pins. */
  limit: string
  from: string
  to: string
  /** Top-level settings to apply as they are ({...settings, ...advice.settings}). */
  settings: Partial<PlanSettings>
  /** The last cutover with the change. */
  lastCutover: string
  text: string
}

/** At most this many re-plans per deadline error, so even a large estate answers in seconds. */
const MAX_REPLANS = 64

/** Candidate settings re-planned within the budget of MAX_REPLANS: which ones meet the deadline, and how early. */
class Trials {
  count = 0
  constructor(
    private readonly replan: (s: PlanSettings) => Assignment,
    private readonly deadline: number,
  ) {}

  get exhausted(): boolean {
    return this.count >= MAX_REPLANS
  }

  /** The last cutover under these settings when it meets the deadline; undefined otherwise or past the budget. */
  works(next: PlanSettings): number | undefined {
    if (this.exhausted) return undefined
    this.count++
    try {
      const day = lastCutover(this.replan(next))
      return day <= this.deadline ? day : undefined
    } catch {
      return undefined
    }
  }

  /** The smallest value in (from, max] that works (integers), searching upwards by doubling then halving. */
  smallestRaise(from: number, max: number, make: (v: number) => PlanSettings): Found | undefined {
    if (max <= from) return undefined
    // Nothing to search when even the most this limit could need does not do it.
    const top = this.works(make(max))
    if (top === undefined) return undefined
    let lo = from
    let hi = -1
    let hiDay = 0
    for (let step = 1; ; step *= 2) {
      const v = Math.min(max, from + step)
      const day = v === max ? top : this.works(make(v))
      if (day !== undefined) {
        hi = v
        hiDay = day
        break
      }
      lo = v
      if (v >= max) return undefined
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2)
      const day = this.works(make(mid))
      if (day !== undefined) {
        hi = mid
        hiDay = day
      } else lo = mid
    }
    return {v: hi, day: hiDay}
  }

  /** The largest value in [1, below) that works, when 1 does: searching downwards from the current cadence. */
  largestBelow(below: number, make: (v: number) => PlanSettings): Found | undefined {
    const one = this.works(make(1))
    if (one === undefined) return undefined
    let best: Found = {v: 1, day: one}
    let lo = 1
    let hi = below - 1
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2)
      const day = this.works(make(mid))
      if (day !== undefined) {
        lo = mid
        best = {v: mid, day}
      } else hi = mid - 1
    }
    return best
  }
}

/** A value that meets the deadline and the last cutover with it. */
interface Found {
  v: number
  day: number
}

/** The in-scope estate's totals, for the reasons. */
interface EstateTotals {
  inScope: number
  critApps: number
  servers: number
  dataGiB: number
}

function estateTotals(model: AssignInput['model']): EstateTotals {
  const totals: EstateTotals = {inScope: 0, critApps: 0, servers: 0, dataGiB: 0}
  for (const n of model.apps) {
    if (!n.inScope) continue
    totals.inScope++
    totals.servers += n.servers.length
    totals.dataGiB += n.dataGiB
    if (n.crit >= CRIT_ORDER.high) totals.critApps++
  }
  return totals
}

function advise(
  limit: string,
  from: string | number,
  to: string | number,
  settings: Partial<PlanSettings>,
  day: number,
  why: string,
): Advice {
  return {
    limit,
    from: String(from),
    to: String(to),
    settings,
    lastCutover: formatDay(day),
    text: `${limit} ${from} → ${to} (${why}; last cutover ${formatDay(day)})`,
  }
}

/** Each capacity limit raised on its own: the smallest raise of each that works. */
function capacityAdvice(s: PlanSettings, totals: EstateTotals, trials: Trials): Advice[] {
  const cap = s.capacity
  const tib = Math.ceil(totals.dataGiB / 1024)
  const limits: [keyof PlanSettings['capacity'], number, string][] = [
    [
      'critical',
      totals.critApps,
      `the critical count binds: ${totals.critApps} high/critical applications, at most ${cap.critical} a wave`,
    ],
    ['apps', totals.inScope, `${totals.inScope} applications, at most ${cap.apps} a wave`],
    ['servers', totals.servers, `${totals.servers} servers, at most ${cap.servers} a wave`],
    ['dataTiB', tib, `${tib} TiB to replicate, at most ${cap.dataTiB} TiB a wave`],
  ]
  const advice: Advice[] = []
  for (const [k, need, why] of limits) {
    const found = trials.smallestRaise(cap[k], Math.max(cap[k], need), (v) => ({...s, capacity: {...cap, [k]: v}}))
    if (found) advice.push(advise(`capacity.${k}`, cap[k], found.v, {capacity: {...cap, [k]: found.v}}, found.day, why))
  }
  return advice
}

/** Every capacity limit raised together by the same share (when no single one does it); then with the ramp too. */
function scaledCapacityAdvice(s: PlanSettings, trials: Trials): Advice | undefined {
  const cap = s.capacity
  const withRamp = s.rules.includes('small-early-waves') && s.ramp.earlyWaves > 0
  const scaled =
    (ramp: boolean) =>
    (pct: number): PlanSettings => ({
      ...s,
      capacity: {
        apps: Math.ceil((cap.apps * pct) / 100),
        servers: Math.ceil((cap.servers * pct) / 100),
        dataTiB: Math.ceil((cap.dataTiB * pct) / 100),
        critical: Math.ceil((cap.critical * pct) / 100),
      },
      ...(ramp ? {ramp: {...s.ramp, earlyServers: Math.ceil((s.ramp.earlyServers * pct) / 100)}} : {}),
    })
  for (const ramp of withRamp ? [false, true] : [false]) {
    const all = trials.smallestRaise(100, 1000, scaled(ramp))
    if (!all) continue
    const next = scaled(ramp)(all.v)
    const c = next.capacity
    const what = `apps ${c.apps}, servers ${c.servers}, dataTiB ${c.dataTiB}, critical ${c.critical}${ramp ? `, ramp.earlyServers ${next.ramp.earlyServers}` : ''}`
    const was = `apps ${cap.apps}, servers ${cap.servers}, dataTiB ${cap.dataTiB}, critical ${cap.critical}${ramp ? `, ramp.earlyServers ${s.ramp.earlyServers}` : ''}`
    const why = ramp
      ? `no single limit does it: the wave size and the ramp bind together (+${all.v - 100}% on each)`
      : `no single limit does it: the wave size binds (+${all.v - 100}% on every capacity limit)`
    const settings = ramp ? {capacity: c, ramp: next.ramp} : {capacity: c}
    return advise(ramp ? 'capacity+ramp' : 'capacity', was, what, settings, all.day, why)
  }
  return undefined
}

/** The ramp's early-wave server limit raised, when the ramp is on. */
function rampAdvice(s: PlanSettings, trials: Trials): Advice | undefined {
  if (!s.rules.includes('small-early-waves') || s.ramp.earlyWaves <= 0) return undefined
  const ramp = trials.smallestRaise(s.ramp.earlyServers, Math.max(s.ramp.earlyServers, s.capacity.servers), (v) => ({
    ...s,
    ramp: {...s.ramp, earlyServers: v},
  }))
  if (!ramp) return undefined
  return advise(
    'ramp.earlyServers',
    s.ramp.earlyServers,
    ramp.v,
    {ramp: {...s.ramp, earlyServers: ramp.v}},
    ramp.day,
    `the ramp binds: the first ${s.ramp.earlyWaves} waves of each environment hold at most ${s.ramp.earlyServers} servers`,
  )
}

/** The rule keeping environments apart dropped, when it is on. */
function environmentsAdvice(s: PlanSettings, trials: Trials): Advice | undefined {
  if (!s.rules.includes('environments-not-mixed')) return undefined
  const rules = s.rules.filter((r) => r !== 'environments-not-mixed')
  const day = trials.works({...s, rules})
  if (day === undefined) return undefined
  return advise(
    'rules',
    'environments-not-mixed',
    'removed',
    {rules},
    day,
    'keeping environments apart binds: dev, test, staging and production never share a wave',
  )
}

/** Each pin dropped on its own. */
function pinAdvice(s: PlanSettings, trials: Trials): Advice[] {
  const advice: Advice[] = []
  for (const pin of s.pins) {
    const pins = s.pins.filter((p) => p !== pin)
    const day = trials.works({...s, pins})
    const what = pin.wave !== undefined ? `wave ${pin.wave}` : ''
    const date = pin.notBefore !== undefined ? `not before ${pin.notBefore}` : ''
    if (day !== undefined)
      advice.push(
        advise(
          'pins',
          `${pin.app} ${[what, date].filter(Boolean).join(', ')}`,
          'removed',
          {pins},
          day,
          `the pin of ${pin.app} binds`,
        ),
      )
  }
  return advice
}

/** The longest shorter cadence that works, unless the cadence is already one day. */
function cadenceAdvice(s: PlanSettings, waves: number, trials: Trials): Advice | undefined {
  if (s.waveCadenceDays <= 1) return undefined
  const best = trials.largestBelow(s.waveCadenceDays, (v) => ({...s, waveCadenceDays: v}))
  if (!best) return undefined
  return advise(
    'waveCadenceDays',
    s.waveCadenceDays,
    best.v,
    {waveCadenceDays: best.v},
    best.day,
    `the cadence binds: ${waves} waves, one every ${s.waveCadenceDays} days`,
  )
}

/** What the plan moves by the deadline as it stands: the last wave that cuts over by then, and its running totals. */
function byDeadline(asg: Assignment, deadline: number): {waves: number; apps: number; servers: number} {
  const fit = {waves: 0, apps: 0, servers: 0}
  for (const w of asg.waves) {
    const day = w.fixed ? w.fixed.cutoverDay : w.schedule!.slot.day
    if (day > deadline) break
    fit.waves = w.number
    fit.apps += w.apps
    fit.servers += w.servers
  }
  return fit
}

export function deadlineError(
  input: AssignInput,
  asg: Assignment,
  replan: (s: PlanSettings) => Assignment,
): MigrateError {
  const {model, cal} = input
  const s = model.settings
  const deadline = cal.deadlineDay!
  const lastDay = lastCutover(asg)
  const trials = new Trials(replan, deadline)
  const totals = estateTotals(model)
  const waves = asg.waves.length

  // The order matters: the re-plans share one budget.
  const advice = capacityAdvice(s, totals, trials)
  if (advice.length === 0) advice.push(...present(scaledCapacityAdvice(s, trials)))
  advice.push(...present(rampAdvice(s, trials)), ...present(environmentsAdvice(s, trials)))
  advice.push(...pinAdvice(s, trials), ...present(cadenceAdvice(s, waves, trials)))

  const fit = byDeadline(asg, deadline)
  const standing =
    fit.waves === 0
      ? `as it stands no wave cuts over by ${s.deadline}`
      : `as it stands, waves 1–${fit.waves} cut over by ${s.deadline}: ${fit.apps} of ${totals.inScope} applications, ${fit.servers} of ${totals.servers} servers`
  const tried = trials.exhausted ? ` (stopped after ${MAX_REPLANS} re-plans)` : ''
  const hint =
    advice.length > 0
      ? `Each of these meets the deadline when re-planned${tried}: ${advice.map((a) => a.text).join('; ')}. Or move the deadline to ${formatDay(lastDay)}`
      : `No single change of a limit meets it when re-planned (tried capacity, the ramp, environments apart, ${s.pins.length ? 'each pin, ' : ''}${s.waveCadenceDays > 1 ? 'the cadence' : 'not the cadence, already 1 day'})${tried}: move the deadline to ${formatDay(lastDay)}, or change several limits at once`
  return new MigrateError(
    `the plan needs ${waves} waves and the last cuts over on ${formatDay(lastDay)}, after the deadline ${s.deadline}; ${standing}`,
    {
      code: 'DEADLINE_UNREACHABLE',
      exitCode: EXIT.BAD_INPUT,
      hint,
      data: {
        wavesNeeded: waves,
        wavesThatFit: fit.waves,
        appsByDeadline: fit.apps,
        lastCutover: formatDay(lastDay),
        deadline: s.deadline,
        advice,
      },
    },
  )
}

function present<T>(x: T | undefined): T[] {
  return x === undefined ? [] : [x]
}
