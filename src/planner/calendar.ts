// The planner's calendar: civil days in the plan's time zone, blackout windows, cutover windows, and replication
// time estimates. Days are integers (days since 1970-01-01 of the local calendar), so the planner never does
// time-zone arithmetic except when it writes a timestamp; offsets come from Intl (no tz database dependency).
import {badInput} from '../errors.js'
import type {Blackout, PlanSettings} from '../schema/plan.js'

const DAY_MS = 86_400_000
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const

/** 'YYYY-MM-DD' → civil day number. */
export function parseDay(iso: string): number {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number)
  return Math.floor(Date.UTC(y, m - 1, d) / DAY_MS)
}

/** Civil day number → 'YYYY-MM-DD'. */
export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

export function weekdayOf(day: number): (typeof WEEKDAYS)[number] {
  return WEEKDAYS[(((day + 4) % 7) + 7) % 7]
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number)
  return h * 60 + m
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/** Offset of `timeZone` from UTC in minutes at the instant `utcMs` (e.g. +420 for Asia/Jakarta). */
export function tzOffsetMinutes(timeZone: string, utcMs: number): number {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric'})
    formatters.set(timeZone, f)
  }
  const p: Record<string, number> = {}
  for (const part of f.formatToParts(new Date(utcMs))) if (part.type !== 'literal') p[part.type] = Number(part.value)
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000)
}

export function checkTimezone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', {timeZone})
  } catch {
    throw badInput(`unknown time zone "${timeZone}"`, 'BAD_TIMEZONE', 'Set settings.timezone to an IANA zone name such as Asia/Jakarta, Asia/Singapore or UTC')
  }
}

/** The UTC instant of a local civil day + minutes in `timeZone`. */
export function localToUtcMs(timeZone: string, day: number, minutes: number): number {
  const guess = day * DAY_MS + minutes * 60_000
  const off1 = tzOffsetMinutes(timeZone, guess)
  let t = guess - off1 * 60_000
  const off2 = tzOffsetMinutes(timeZone, t)
  if (off2 !== off1) t = guess - off2 * 60_000
  return t
}

/** A local timestamp with its offset, as people read them: 2027-01-09T01:00:00+07:00. */
export function localIso(timeZone: string, day: number, minutes: number): string {
  const t = localToUtcMs(timeZone, day, minutes)
  const off = tzOffsetMinutes(timeZone, t)
  const local = new Date(t + off * 60_000).toISOString().slice(0, 19)
  if (off === 0) return `${local}Z`
  const sign = off < 0 ? '-' : '+'
  const a = Math.abs(off)
  return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`
}

/** Civil day (in the plan's time zone) of an ISO timestamp with or without offset. */
export function dayOfIso(timeZone: string, iso: string): number {
  if (!/[zZ]|[+-]\d{2}:\d{2}$/.test(iso)) return parseDay(iso)
  const t = Date.parse(iso)
  return Math.floor((t + tzOffsetMinutes(timeZone, t) * 60_000) / DAY_MS)
}

function daysInMonth(day: number): {dom: number; last: number} {
  const d = new Date(day * DAY_MS)
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
  return {dom: d.getUTCDate(), last}
}

export interface CutoverSlot {
  day: number
  startMin: number
  endDay: number
  endMin: number
  /** Blackouts the search skipped past, for the wave's reasons. */
  skipped: string[]
}

/** Blackouts, cutover windows and replication estimates of one set of settings. */
export class Calendar {
  readonly timeZone: string
  readonly startDay: number
  readonly deadlineDay: number | undefined
  private readonly fixed: {name: string; from: number; to: number}[] = []
  private readonly monthly: {name: string; from: number; to: number | 'end'}[] = []
  private readonly windows: {days: Set<string>; start: number; end: number}[]
  private readonly slotCache = new Map<number, CutoverSlot>()

  constructor(readonly settings: PlanSettings) {
    checkTimezone(settings.timezone)
    this.timeZone = settings.timezone
    this.startDay = parseDay(settings.startDate)
    this.deadlineDay = settings.deadline ? parseDay(settings.deadline) : undefined
    for (const b of settings.blackouts) this.addBlackout(b)
    this.windows = settings.cutoverWindows
      .map((w) => ({days: new Set<string>(w.days), start: minutesOf(w.start), end: minutesOf(w.end)}))
      .sort((a, b) => a.start - b.start)
  }

  private addBlackout(b: Blackout): void {
    if ('monthly' in b) this.monthly.push({name: b.name, from: b.monthly.fromDay, to: b.monthly.toDay})
    else this.fixed.push({name: b.name, from: parseDay(b.from), to: parseDay(b.to)})
  }

  /** The blackout covering `day`, if any. */
  blackoutOn(day: number): string | undefined {
    for (const f of this.fixed) if (day >= f.from && day <= f.to) return f.name
    if (this.monthly.length > 0) {
      const {dom, last} = daysInMonth(day)
      for (const m of this.monthly) {
        const to = m.to === 'end' ? last : Math.min(m.to, last)
        const inside = m.from <= to ? dom >= m.from && dom <= to : dom >= m.from || dom <= to
        if (inside) return m.name
      }
    }
    return undefined
  }

  /** The first cutover window starting on or after `earliestDay` that touches no blackout day. */
  nextCutover(earliestDay: number): CutoverSlot {
    const cached = this.slotCache.get(earliestDay)
    if (cached) return cached
    const skipped: string[] = []
    for (let day = earliestDay; day < earliestDay + 3660; day++) {
      const wd = weekdayOf(day)
      for (const w of this.windows) {
        if (!w.days.has(wd)) continue
        const endDay = w.end <= w.start ? day + 1 : day
        const b = this.blackoutOn(day) ?? this.blackoutOn(endDay)
        if (b) {
          if (!skipped.includes(b)) skipped.push(b)
          continue
        }
        const slot = {day, startMin: w.start, endDay, endMin: w.end, skipped}
        this.slotCache.set(earliestDay, slot)
        return slot
      }
    }
    throw badInput(`no cutover window is free of blackouts within ten years of ${formatDay(earliestDay)}`, 'NO_CUTOVER_WINDOW', 'Check settings.cutoverWindows (days and hours) against settings.blackouts')
  }

  /** Does a cutover [start, end] (ISO timestamps) touch a blackout day? Returns its name. */
  cutoverBlackout(startIso: string, endIso: string): string | undefined {
    const a = dayOfIso(this.timeZone, startIso)
    const b = dayOfIso(this.timeZone, endIso)
    for (let d = a; d <= Math.max(a, b) && d <= a + 31; d++) {
      const name = this.blackoutOn(d)
      if (name) return name
    }
    return undefined
  }

  iso(day: number, minutes: number): string {
    return localIso(this.timeZone, day, minutes)
  }
}

const MBIT_PER_GIB = (1024 * 1024 * 1024 * 8) / 1_000_000

/**
 * Whole days of initial replication for `dataGiB` (compressed/deduplicated to 70%) over `bandwidthMbps`, slowed by
 * the daily change volume that must be shipped at the same time. Infinity when changes outrun the link.
 */
export function replicationDays(dataGiB: number, changeGiBPerDay: number, bandwidthMbps: number): number {
  if (dataGiB <= 0) return 0
  const changeMbps = (changeGiBPerDay * MBIT_PER_GIB) / 86_400
  const effective = bandwidthMbps - changeMbps
  if (effective <= 0) return Number.POSITIVE_INFINITY
  const seconds = (dataGiB * 0.7 * MBIT_PER_GIB) / effective
  return Math.max(1, Math.ceil(seconds / 86_400))
}
