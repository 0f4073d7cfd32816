// The planner's calendar: civil days in the plan's time zone, blackout windows, cutover windows, and replication
// time estimates. Days are integers (days since 1970-01-01 of the local calendar), so the planner reasons in civil
// days and meets time zones only where a local time becomes an instant (a timestamp in plan.yaml) or back.
//
// Zoned time goes through Temporal (the `temporal-polyfill` package, on the tz database of Node's ICU), with one rule
// for local times that a daylight-saving change skips or repeats, RFC 5545's and Temporal's 'compatible':
// - a local time in a gap (spring forward) is moved forward by the length of the gap: New York's 02:00 on
//   2027-03-14 is 03:00-04:00, Lord Howe's 02:15 on 2027-10-03 is 02:45+11:00;
// - a local time in an overlap (fall back) is the earlier of its two instants, the one before the clocks go back:
//   New York's 01:30 on 2027-11-07 is 01:30-04:00.
// The planner writes instants with the offset in force at them, so the local time a person reads in plan.yaml is
// the wall-clock time at that instant; `migrate validate` checks that this still holds after a hand edit.
import {Temporal} from 'temporal-polyfill'
import {badInput} from '../errors.js'
import type {Blackout, PlanSettings} from '../schema/plan.js'

const DAY_MS = 86_400_000
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type WeekdayName = (typeof WEEKDAYS)[number]

/** 'YYYY-MM-DD' → civil day number. */
export function parseDay(iso: string): number {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number)
  return Math.floor(Date.UTC(y, m - 1, d) / DAY_MS)
}

/** Civil day number → 'YYYY-MM-DD'. */
export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

export function weekdayOf(day: number): WeekdayName {
  return WEEKDAYS[(((day + 4) % 7) + 7) % 7]
}

export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number)
  return h * 60 + m
}

function plainDateTime(day: number, minutes: number): Temporal.PlainDateTime {
  const d = new Date(day * DAY_MS + minutes * 60_000)
  return new Temporal.PlainDateTime(
    d.getUTCFullYear(),
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
  )
}

/** Offset of `timeZone` from UTC in minutes at the instant `utcMs` (e.g. +420 for Asia/Jakarta, +630 at Lord Howe). */
export function tzOffsetMinutes(timeZone: string, utcMs: number): number {
  return Temporal.Instant.fromEpochMilliseconds(utcMs).toZonedDateTimeISO(timeZone).offsetNanoseconds / 60e9
}

export function checkTimezone(timeZone: string): void {
  try {
    Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(timeZone)
  } catch {
    throw badInput(
      `unknown time zone "${timeZone}"`,
      'BAD_TIMEZONE',
      'Set settings.timezone to an IANA zone name such as Asia/Jakarta, America/New_York or UTC',
    )
  }
}

/** The instant of a local civil day + minutes in `timeZone`, by the 'compatible' rule for gaps and overlaps. */
export function localToUtcMs(timeZone: string, day: number, minutes: number): number {
  return plainDateTime(day, minutes).toZonedDateTime(timeZone, {disambiguation: 'compatible'}).epochMilliseconds
}

function offsetString(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'Z'
  const a = Math.abs(offsetMinutes)
  return `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`
}

/** An instant as people read it: the wall-clock time in `timeZone` with the offset then in force (…T01:00:00+07:00). */
export function isoAt(timeZone: string, utcMs: number): string {
  const z = Temporal.Instant.fromEpochMilliseconds(utcMs).toZonedDateTimeISO(timeZone)
  return `${z.toPlainDateTime().toString({smallestUnit: 'second'})}${offsetString(z.offsetNanoseconds / 60e9)}`
}

/** A local timestamp with its offset, as people read them: 2027-01-09T01:00:00+07:00. */
export function localIso(timeZone: string, day: number, minutes: number): string {
  return isoAt(timeZone, localToUtcMs(timeZone, day, minutes))
}

/** Whether an ISO timestamp carries its own offset (Z or ±HH:MM); without one it is a local time of the plan's zone. */
export function hasOffset(iso: string): boolean {
  return /([zZ]|[+-]\d{2}:\d{2})$/.test(iso)
}

/** The instant of an ISO timestamp: with an offset as written, without one as a local time of `timeZone`. */
export function instantOfIso(timeZone: string, iso: string): number {
  if (hasOffset(iso)) return Temporal.Instant.from(iso).epochMilliseconds
  return Temporal.PlainDateTime.from(iso).toZonedDateTime(timeZone, {disambiguation: 'compatible'}).epochMilliseconds
}

/** The wall-clock date, minutes and offset in `timeZone` of an ISO timestamp. */
export function localOfIso(timeZone: string, iso: string): {day: number; minutes: number; offsetMinutes: number} {
  const z = Temporal.Instant.fromEpochMilliseconds(instantOfIso(timeZone, iso)).toZonedDateTimeISO(timeZone)
  return {
    day: parseDay(z.toPlainDate().toString()),
    minutes: z.hour * 60 + z.minute,
    offsetMinutes: z.offsetNanoseconds / 60e9,
  }
}

/** Civil day (in the plan's time zone) of an ISO timestamp with or without offset. */
export function dayOfIso(timeZone: string, iso: string): number {
  if (!hasOffset(iso)) return parseDay(iso)
  return localOfIso(timeZone, iso).day
}

function dateParts(day: number): {month: number; dom: number; last: number} {
  const d = new Date(day * DAY_MS)
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
  return {month: d.getUTCMonth() + 1, dom: d.getUTCDate(), last}
}

/** One blackout of any form, as a test on civil days. */
interface BlackoutRule {
  name: string
  covers(day: number): boolean
}

function blackoutRule(b: Blackout): BlackoutRule {
  const name = b.name
  if ('from' in b) {
    const from = parseDay(b.from)
    const to = parseDay(b.to)
    return {name, covers: (day) => day >= from && day <= to}
  }
  if ('dates' in b) {
    const days = new Set(b.dates.map(parseDay))
    return {name, covers: (day) => days.has(day)}
  }
  if ('weekly' in b) {
    const days = new Set<string>(b.weekly.days)
    return {name, covers: (day) => days.has(weekdayOf(day))}
  }
  if ('monthly' in b) {
    const {fromDay, toDay} = b.monthly
    return {
      name,
      covers: (day) => {
        const {dom, last} = dateParts(day)
        const to = toDay === 'end' ? last : Math.min(toDay, last)
        return fromDay <= to ? dom >= fromDay && dom <= to : dom >= fromDay || dom <= to
      },
    }
  }
  // Yearly: MM-DD to MM-DD, wrapping over the new year when `to` comes before `from`.
  const key = (month: number, dom: number) => month * 100 + dom
  const [fm, fd] = b.yearly.from.split('-').map(Number)
  const [tm, td] = b.yearly.to.split('-').map(Number)
  const from = key(fm, fd)
  const to = key(tm, td)
  return {
    name,
    covers: (day) => {
      const {month, dom} = dateParts(day)
      const k = key(month, dom)
      return from <= to ? k >= from && k <= to : k >= from || k <= to
    },
  }
}

/** A blackout as a person reads it: "monthly sales event (every month, 25–end)". */
export function describeBlackout(b: Blackout): string {
  if ('from' in b) return `${b.name} (${b.from} – ${b.to})`
  if ('dates' in b) return `${b.name} (${b.dates.join(', ')})`
  if ('weekly' in b) return `${b.name} (every ${b.weekly.days.join(', ')})`
  if ('monthly' in b) return `${b.name} (every month, ${b.monthly.fromDay}–${b.monthly.toDay})`
  return `${b.name} (every year, ${b.yearly.from} – ${b.yearly.to})`
}

export interface CutoverSlot {
  day: number
  startMin: number
  endDay: number
  endMin: number
  /** Blackouts the search skipped past, for the wave's reasons. */
  skipped: string[]
}

/** A recurring cutover window: weekdays, local start and end (end ≤ start crosses midnight), environments it serves. */
export interface WindowRule {
  days: Set<string>
  start: number
  end: number
  /** Undefined: open to every environment. */
  environments?: Set<string>
  label: string
}

/** Blackouts, cutover windows and replication estimates of one set of settings. */
export class Calendar {
  readonly timeZone: string
  readonly startDay: number
  readonly deadlineDay: number | undefined
  readonly windows: WindowRule[]
  private readonly blackouts: BlackoutRule[]
  private readonly slotCache = new Map<string, CutoverSlot>()

  constructor(readonly settings: PlanSettings) {
    checkTimezone(settings.timezone)
    this.timeZone = settings.timezone
    this.startDay = parseDay(settings.startDate)
    this.deadlineDay = settings.deadline ? parseDay(settings.deadline) : undefined
    this.blackouts = settings.blackouts.map(blackoutRule)
    this.windows = settings.cutoverWindows
      .map((w) => ({
        days: new Set<string>(w.days),
        start: minutesOf(w.start),
        end: minutesOf(w.end),
        ...(w.environments ? {environments: new Set<string>(w.environments)} : {}),
        label: `${w.days.join(',')} ${w.start}-${w.end}${w.environments ? ` (${w.environments.join(', ')})` : ''}`,
      }))
      .sort((a, b) => a.start - b.start)
  }

  /** The blackout covering `day`, if any. */
  blackoutOn(day: number): string | undefined {
    for (const b of this.blackouts) if (b.covers(day)) return b.name
    return undefined
  }

  /** The cutover windows a wave of these environments may use: those open to every one of them (no environments: all). */
  windowsFor(environments: readonly string[] = []): WindowRule[] {
    return this.windows.filter((w) => !w.environments || environments.every((e) => w.environments!.has(e)))
  }

  /**
   * The first cutover window starting on or after `earliestDay`, open to a wave of `environments`, that touches no
   * blackout day.
   */
  nextCutover(earliestDay: number, environments: readonly string[] = []): CutoverSlot {
    const cacheKey = environments.length ? `${earliestDay}|${[...environments].sort().join(',')}` : String(earliestDay)
    const cached = this.slotCache.get(cacheKey)
    if (cached) return cached
    const windows = this.windowsFor(environments)
    if (windows.length === 0) {
      throw badInput(
        `no cutover window is open to a wave of ${environments.join(' and ')}: settings.cutoverWindows are ${this.windows.map((w) => w.label).join('; ')}`,
        'NO_CUTOVER_WINDOW',
        `Add a cutover window for ${environments.join(', ')} (or one without environments, open to all), or keep these environments in separate waves`,
      )
    }
    const skipped: string[] = []
    for (let day = earliestDay; day < earliestDay + 3660; day++) {
      const wd = weekdayOf(day)
      for (const w of windows) {
        if (!w.days.has(wd)) continue
        const endDay = w.end <= w.start ? day + 1 : day
        const b = this.blackoutOn(day) ?? this.blackoutOn(endDay)
        if (b) {
          if (!skipped.includes(b)) skipped.push(b)
          continue
        }
        const slot = {day, startMin: w.start, endDay, endMin: w.end, skipped}
        this.slotCache.set(cacheKey, slot)
        return slot
      }
    }
    throw badInput(
      `no cutover window is free of blackouts within ten years of ${formatDay(earliestDay)}`,
      'NO_CUTOVER_WINDOW',
      'Check settings.cutoverWindows (days and hours) against settings.blackouts',
    )
  }

  /**
   * The window occurrence (of those open to `environments`) that holds the cutover [start, end], compared as
   * instants with the same rule for daylight-saving changes that placed it; undefined when none does.
   */
  windowHolding(
    startIso: string,
    endIso: string,
    environments: readonly string[] = [],
  ): {window: WindowRule; day: number} | undefined {
    const start = instantOfIso(this.timeZone, startIso)
    const end = instantOfIso(this.timeZone, endIso)
    const first = localOfIso(this.timeZone, startIso).day
    for (const day of [first - 1, first]) {
      for (const w of this.windowsFor(environments)) {
        if (!w.days.has(weekdayOf(day))) continue
        const opens = localToUtcMs(this.timeZone, day, w.start)
        const closes = localToUtcMs(this.timeZone, w.end <= w.start ? day + 1 : day, w.end)
        if (opens <= start && end <= closes) return {window: w, day}
      }
    }
    return undefined
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
