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

export function deadlineError(
  input: AssignInput,
  asg: Assignment,
  replan: (s: PlanSettings) => Assignment,
): MigrateError {
  const {model, cal} = input
  const s = model.settings
  const deadline = cal.deadlineDay!
  const lastDay = lastCutover(asg)
  let replans = 0
  const works = (next: PlanSettings): number | undefined => {
    if (replans >= MAX_REPLANS) return undefined
    replans++
    try {
      const day = lastCutover(replan(next))
      return day <= deadline ? day : undefined
    } catch {
      return undefined
    }
  }
  /** The smallest value in (from, max] that works (integers), searching upwards by doubling then halving. */
  const smallestRaise = (
    from: number,
    max: number,
    make: (v: number) => PlanSettings,
  ): {v: number; day: number} | undefined => {
    if (max <= from) return undefined
    // Nothing to search when even the most this limit could need does not do it.
    const top = works(make(max))
    if (top === undefined) return undefined
    let lo = from
    let hi = -1
    let hiDay = 0
    for (let step = 1; ; step *= 2) {
      const v = Math.min(max, from + step)
      const day = v === max ? top : works(make(v))
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
      const day = works(make(mid))
      if (day !== undefined) {
        hi = mid
        hiDay = day
      } else lo = mid
    }
    return {v: hi, day: hiDay}
  }

  // Figures for the reasons.
  let inScope = 0
  let critApps = 0
  let servers = 0
  let dataGiB = 0
  for (const n of model.apps) {
    if (!n.inScope) continue
    inScope++
    servers += n.servers.length
    dataGiB += n.dataGiB
    if (n.crit >= CRIT_ORDER.high) critApps++
  }
  const advice: Advice[] = []
  const add = (
    limit: string,
    from: string | number,
    to: string | number,
    settings: Partial<PlanSettings>,
    day: number,
    why: string,
  ) =>
    advice.push({
      limit,
      from: String(from),
      to: String(to),
      settings,
      lastCutover: formatDay(day),
      text: `${limit} ${from} → ${to} (${why}; last cutover ${formatDay(day)})`,
    })
  const cap = s.capacity
  const withCap = (k: keyof PlanSettings['capacity']) => (v: number) => ({...s, capacity: {...cap, [k]: v}})
  const waves = asg.waves.length

  const crit = smallestRaise(cap.critical, Math.max(cap.critical, critApps), withCap('critical'))
  if (crit)
    add(
      'capacity.critical',
      cap.critical,
      crit.v,
      {capacity: {...cap, critical: crit.v}},
      crit.day,
      `the critical count binds: ${critApps} high/critical applications, at most ${cap.critical} a wave`,
    )
  const apps = smallestRaise(cap.apps, Math.max(cap.apps, inScope), withCap('apps'))
  if (apps)
    add(
      'capacity.apps',
      cap.apps,
      apps.v,
      {capacity: {...cap, apps: apps.v}},
      apps.day,
      `${inScope} applications, at most ${cap.apps} a wave`,
    )
  const srv = smallestRaise(cap.servers, Math.max(cap.servers, servers), withCap('servers'))
  if (srv)
    add(
      'capacity.servers',
      cap.servers,
      srv.v,
      {capacity: {...cap, servers: srv.v}},
      srv.day,
      `${servers} servers, at most ${cap.servers} a wave`,
    )
  const tib = Math.ceil(dataGiB / 1024)
  const data = smallestRaise(cap.dataTiB, Math.max(cap.dataTiB, tib), withCap('dataTiB'))
  if (data)
    add(
      'capacity.dataTiB',
      cap.dataTiB,
      data.v,
      {capacity: {...cap, dataTiB: data.v}},
      data.day,
      `${tib} TiB to replicate, at most ${cap.dataTiB} TiB a wave`,
    )
  // Every capacity limit raised together by the same share when no single one does it; then with the ramp too.
  if (!crit && !apps && !srv && !data) {
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
      const all = smallestRaise(100, 1000, scaled(ramp))
      if (!all) continue
      const next = scaled(ramp)(all.v)
      const c = next.capacity
      const what = `apps ${c.apps}, servers ${c.servers}, dataTiB ${c.dataTiB}, critical ${c.critical}${ramp ? `, ramp.earlyServers ${next.ramp.earlyServers}` : ''}`
      const was = `apps ${cap.apps}, servers ${cap.servers}, dataTiB ${cap.dataTiB}, critical ${cap.critical}${ramp ? `, ramp.earlyServers ${s.ramp.earlyServers}` : ''}`
      const why = ramp
        ? `no single limit does it: the wave size and the ramp bind together (+${all.v - 100}% on each)`
        : `no single limit does it: the wave size binds (+${all.v - 100}% on every capacity limit)`
      add(
        ramp ? 'capacity+ramp' : 'capacity',
        was,
        what,
        ramp ? {capacity: c, ramp: next.ramp} : {capacity: c},
        all.day,
        why,
      )
      break
    }
  }
  if (s.rules.includes('small-early-waves') && s.ramp.earlyWaves > 0) {
    const ramp = smallestRaise(s.ramp.earlyServers, Math.max(s.ramp.earlyServers, cap.servers), (v) => ({
      ...s,
      ramp: {...s.ramp, earlyServers: v},
    }))
    if (ramp)
      add(
        'ramp.earlyServers',
        s.ramp.earlyServers,
        ramp.v,
        {ramp: {...s.ramp, earlyServers: ramp.v}},
        ramp.day,
        `the ramp binds: the first ${s.ramp.earlyWaves} waves of each environment hold at most ${s.ramp.earlyServers} servers`,
      )
  }
  if (s.rules.includes('environments-not-mixed')) {
    const rules = s.rules.filter((r) => r !== 'environments-not-mixed')
    const day = works({...s, rules})
    if (day !== undefined)
      add(
        'rules',
        'environments-not-mixed',
        'removed',
        {rules},
        day,
        'keeping environments apart binds: dev, test, staging and production never share a wave',
      )
  }
  for (const pin of s.pins) {
    const pins = s.pins.filter((p) => p !== pin)
    const day = works({...s, pins})
    const what = pin.wave !== undefined ? `wave ${pin.wave}` : ''
    const date = pin.notBefore !== undefined ? `not before ${pin.notBefore}` : ''
    if (day !== undefined)
      add(
        'pins',
        `${pin.app} ${[what, date].filter(Boolean).join(', ')}`,
        'removed',
        {pins},
        day,
        `the pin of ${pin.app} binds`,
      )
  }
  if (s.waveCadenceDays > 1) {
    // The longest cadence that still works: search downwards for the largest value.
    let best: {v: number; day: number} | undefined
    let lo = 1
    let hi = s.waveCadenceDays - 1
    const one = works({...s, waveCadenceDays: 1})
    if (one !== undefined) {
      best = {v: 1, day: one}
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2)
        const day = works({...s, waveCadenceDays: mid})
        if (day !== undefined) {
          lo = mid
          best = {v: mid, day}
        } else hi = mid - 1
      }
    }
    if (best)
      add(
        'waveCadenceDays',
        s.waveCadenceDays,
        best.v,
        {waveCadenceDays: best.v},
        best.day,
        `the cadence binds: ${waves} waves, one every ${s.waveCadenceDays} days`,
      )
  }

  // What the plan moves by the deadline as it stands.
  let fitWaves = 0
  let fitApps = 0
  let fitServers = 0
  for (const w of asg.waves) {
    const day = w.fixed ? w.fixed.cutoverDay : w.schedule!.slot.day
    if (day > deadline) break
    fitWaves = w.number
    fitApps += w.apps
    fitServers += w.servers
  }
  const standing =
    fitWaves === 0
      ? `as it stands no wave cuts over by ${s.deadline}`
      : `as it stands, waves 1–${fitWaves} cut over by ${s.deadline}: ${fitApps} of ${inScope} applications, ${fitServers} of ${servers} servers`
  const tried = replans >= MAX_REPLANS ? ` (stopped after ${MAX_REPLANS} re-plans)` : ''
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
        wavesThatFit: fitWaves,
        appsByDeadline: fitApps,
        lastCutover: formatDay(lastDay),
        deadline: s.deadline,
        advice,
      },
    },
  )
}
