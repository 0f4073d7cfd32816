// The calendar promises of a (possibly hand-edited) plan, re-checked as the planner keeps them: settings that make
// sense, timestamps that name one instant and say its local time, each wave's replication → test → cutover in order,
// cutovers inside a cutover window open to the wave's environments, outside blackouts, after the start and by the
// deadline, waves in date order and a cadence apart. Waves the state journal shows as started keep the dates they
// ran with: findings that depend on settings changed since are warnings for them.
import {Temporal} from 'temporal-polyfill'
import type {PathIssue} from '../schema/issues.js'
import type {Plan, PlanSettings, Wave} from '../schema/plan.js'
import {
  Calendar,
  checkTimezone,
  formatDay,
  hasOffset,
  instantOfIso,
  isoAt,
  localOfIso,
  localToUtcMs,
  parseDay,
  weekdayOf,
  type CutoverSlot,
} from './calendar.js'

type Path = PathIssue['path']

/** Problems of the settings alone (a settings file, or a plan's `settings:`), under `at` (e.g. ['settings']). */
export function checkSettings(settings: PlanSettings, at: Path): {issues: PathIssue[]; calendar?: Calendar} {
  const issues: PathIssue[] = []
  let calendar: Calendar | undefined
  try {
    checkTimezone(settings.timezone)
    try {
      calendar = new Calendar(settings)
    } catch {
      // Settings the schema refused (checked here on the raw document): the schema's errors say why.
    }
  } catch (error) {
    issues.push({
      path: [...at, 'timezone'],
      code: 'BAD_TIMEZONE',
      message: (error as Error).message,
      hint: 'Use an IANA zone name such as Asia/Jakarta, America/New_York or UTC',
    })
  }
  if (settings.deadline && parseDay(settings.deadline) <= parseDay(settings.startDate)) {
    issues.push({
      path: [...at, 'deadline'],
      code: 'BAD_SETTINGS',
      message: `the deadline ${settings.deadline} is not after the start date ${settings.startDate}`,
      hint: 'Move the deadline after startDate',
    })
  }
  settings.blackouts.forEach((b, i) => {
    if ('from' in b && parseDay(b.to) < parseDay(b.from))
      issues.push({
        path: [...at, 'blackouts', i, 'to'],
        code: 'BLACKOUT_ENDS_BEFORE_START',
        message: `blackout "${b.name}" ends on ${b.to}, before it starts on ${b.from}`,
        hint: 'Swap from and to (both days are inclusive)',
      })
  })
  return {issues, calendar}
}

const STAMPS = [
  {path: ['replicationStart'], label: 'replication start'},
  {path: ['test', 'start'], label: 'test start'},
  {path: ['test', 'end'], label: 'test end'},
  {path: ['cutover', 'start'], label: 'cutover start'},
  {path: ['cutover', 'end'], label: 'cutover end'},
] as const

function stampOf(w: Wave, k: number): string {
  const p = STAMPS[k].path
  return p.length === 1 ? w.replicationStart : w[p[0]][p[1]]
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

/** A timestamp that does not say one instant, or says a local time other than the instant's in the plan's zone. */
function stampProblem(tz: string, iso: string): {message: string; hint: string} | undefined {
  if (!hasOffset(iso)) {
    try {
      Temporal.PlainDateTime.from(iso).toZonedDateTime(tz, {disambiguation: 'reject'})
      return undefined
    } catch {
      const ms = instantOfIso(tz, iso)
      const before = Temporal.PlainDateTime.from(iso).toZonedDateTime(tz, {disambiguation: 'earlier'})
      const after = Temporal.PlainDateTime.from(iso).toZonedDateTime(tz, {disambiguation: 'later'})
      const repeated = before.epochMilliseconds < after.epochMilliseconds
      return repeated
        ? {
            message: `${iso} happens twice in ${tz} (the clocks go back that night): it does not say which`,
            hint: `Write it with its offset: ${isoAt(tz, before.epochMilliseconds)} (the first) or ${isoAt(tz, after.epochMilliseconds)} (the second)`,
          }
        : {
            message: `${iso} does not exist in ${tz} (the clocks skip that hour)`,
            hint: `Write the instant meant with its offset, e.g. ${isoAt(tz, ms)}`,
          }
    }
  }
  const local = localOfIso(tz, iso)
  const written = iso.slice(0, 16).replace('T', ' ')
  const actual = `${formatDay(local.day)} ${hhmm(local.minutes)}`
  const expected = isoAt(tz, instantOfIso(tz, iso))
  if (written !== actual)
    return {
      message: `${iso} reads as ${written}, but that instant is ${actual} in ${tz}, the plan's time zone`,
      hint: `Write ${expected}, or the local time meant with the offset ${tz} has then`,
    }
  return undefined
}

export interface WaveCalendarInput {
  plan: Plan
  calendar: Calendar
  /** Environments of each wave's applications (by index in plan.waves); empty when unknown. */
  environments: (waveIndex: number) => string[]
  /** Wave numbers the state journal names: they keep the dates they started with. */
  started: Set<number>
}

export function checkWaveCalendar(input: WaveCalendarInput): PathIssue[] {
  const issues: PathIssue[] = []
  const valid = input.plan.waves.map((w, i) => {
    const at = (k: number): Path => ['waves', i, ...STAMPS[k].path]
    const stamps = checkStamps(input.calendar.timeZone, w, at)
    issues.push(...stamps.issues)
    if (!stamps.instants) return false
    issues.push(...checkPeriods(w, at, stamps.instants), ...checkAgainstSettings(input, w, i, at, stamps.instants))
    return true
  })
  issues.push(...checkSequence(input, valid))
  return issues
}

/** Every timestamp of a wave names one instant and says its local time; their instants when they all do. */
function checkStamps(tz: string, w: Wave, at: (k: number) => Path): {issues: PathIssue[]; instants?: number[]} {
  const issues: PathIssue[] = []
  STAMPS.forEach((_, k) => {
    const p = stampProblem(tz, stampOf(w, k))
    if (p)
      issues.push({
        path: at(k),
        code: 'TIME_NOT_LOCAL',
        message: `wave ${w.number} ${STAMPS[k].label}: ${p.message}`,
        hint: p.hint,
      })
  })
  return issues.length ? {issues} : {issues, instants: STAMPS.map((_, k) => instantOfIso(tz, stampOf(w, k)))}
}

/** Replication → test → cutover, each after the one before, and each period ending after it starts. */
function checkPeriods(
  w: Wave,
  at: (k: number) => Path,
  [repl, testStart, testEnd, cutStart, cutEnd]: number[],
): PathIssue[] {
  const issues: PathIssue[] = []
  const outOfOrder = (k: number, what: string, other: number) =>
    issues.push({
      path: at(k),
      code: 'WAVE_DATES_OUT_OF_ORDER',
      message: `wave ${w.number}: ${what} (${STAMPS[k].label} ${stampOf(w, k)}, ${STAMPS[other].label} ${stampOf(w, other)})`,
      hint: 'Each wave replicates, then tests, then cuts over, and each period ends after it starts: put the dates back in that order, or re-plan',
    })
  if (repl > cutStart) outOfOrder(0, 'replication starts after the cutover', 3)
  else if (repl > testStart) outOfOrder(0, 'replication starts after testing does', 1)
  if (testStart > cutStart) outOfOrder(1, 'testing starts after the cutover', 3)
  else if (testEnd < testStart) outOfOrder(2, 'testing ends before it starts', 1)
  else if (testEnd > cutStart) outOfOrder(2, 'testing ends after the cutover starts', 3)
  if (cutEnd <= cutStart) outOfOrder(4, 'the cutover ends before it starts', 3)
  return issues
}

/**
 * The start date, the deadline, the cutover windows and the blackouts. A started wave keeps the dates it started
 * with: what it breaks of settings changed since is a warning.
 */
function checkAgainstSettings(
  {plan, calendar: cal, environments, started}: WaveCalendarInput,
  w: Wave,
  i: number,
  at: (k: number) => Path,
  instants: number[],
): PathIssue[] {
  const issues: PathIssue[] = []
  const s = plan.settings
  const tz = cal.timeZone
  const severity = started.has(w.number) ? 'warning' : 'error'
  const keptNote = started.has(w.number)
    ? ` (wave ${w.number} has started: it keeps its dates, but know that it breaks the settings as they are now)`
    : ''
  const startMs = localToUtcMs(tz, cal.startDay, 0)
  const early = instants.findIndex((t) => t < startMs)
  if (early >= 0)
    issues.push({
      path: at(early),
      code: 'BEFORE_START_DATE',
      severity,
      message: `wave ${w.number} ${STAMPS[early].label} ${stampOf(w, early)} is before the start date ${s.startDate}${keptNote}`,
      hint: 'Nothing happens before settings.startDate: move the date, or re-plan',
    })
  const cutDay = localOfIso(tz, w.cutover.start).day
  if (cal.deadlineDay !== undefined && cutDay > cal.deadlineDay)
    issues.push({
      path: at(3),
      code: 'AFTER_DEADLINE',
      severity,
      message: `wave ${w.number} cuts over on ${formatDay(cutDay)}, after the deadline ${s.deadline}${keptNote}`,
      hint: 'Every cutover is on or before settings.deadline: move it earlier, or move the deadline and re-plan',
    })
  const envs = environments(i)
  const next = (): CutoverSlot | undefined => {
    try {
      return cal.nextCutover(cutDay, envs)
    } catch {
      return undefined // no window at all: the message names those there are
    }
  }
  if (instants[4] > instants[3] && !cal.windowHolding(w.cutover.start, w.cutover.end, envs)) {
    const from = localOfIso(tz, w.cutover.start)
    const to = localOfIso(tz, w.cutover.end)
    const open = cal.windowsFor(envs)
    const slot = next()
    const perEnvironment = cal.windows.some((x) => x.environments)
    issues.push({
      path: at(3),
      code: 'CUTOVER_OUTSIDE_WINDOW',
      severity,
      message: `wave ${w.number} cuts over ${weekdayOf(from.day)} ${formatDay(from.day)} ${hhmm(from.minutes)}-${hhmm(to.minutes)} (${tz}), outside every cutover window${perEnvironment && envs.length ? ` open to ${envs.join(', ')}` : ''} (${open.length ? open.map((x) => x.label).join('; ') : 'none'})${keptNote}`,
      hint: `Cutovers happen only in settings.cutoverWindows${slot ? `; the next one is ${weekdayOf(slot.day)} ${formatDay(slot.day)} ${hhmm(slot.startMin)}-${hhmm(slot.endMin)}` : ''}: move it there, or re-plan`,
    })
  }
  const blackout = cal.cutoverBlackout(w.cutover.start, w.cutover.end)
  if (blackout) {
    const slot = next()
    issues.push({
      path: at(3),
      code: 'CUTOVER_IN_BLACKOUT',
      severity,
      message: `wave ${w.number} cuts over on ${formatDay(cutDay)}, inside the blackout "${blackout}"${keptNote}`,
      hint: slot
        ? `The next free cutover window is ${formatDay(slot.day)}; move the cutover there or re-plan`
        : 'Move the cutover out of the blackout, or re-plan',
    })
  }
  return issues
}

/** Waves in number order, cutting over in the same order, a cadence apart (two started waves keep their dates). */
function checkSequence({plan, calendar: cal, started}: WaveCalendarInput, valid: boolean[]): PathIssue[] {
  const issues: PathIssue[] = []
  const tz = cal.timeZone
  const cadence = plan.settings.waveCadenceDays
  for (let i = 1; i < plan.waves.length; i++) {
    const prev = plan.waves[i - 1]
    const w = plan.waves[i]
    if (w.number <= prev.number) {
      issues.push({
        path: ['waves', i, 'number'],
        code: 'WAVE_NUMBER_ORDER',
        message: `wave ${w.number} is listed after wave ${prev.number}`,
        hint: 'List waves once each, in increasing number',
      })
      continue
    }
    if (!valid[i] || !valid[i - 1]) continue
    if (instantOfIso(tz, w.cutover.start) <= instantOfIso(tz, prev.cutover.start)) {
      issues.push({
        path: ['waves', i, 'cutover', 'start'],
        code: 'WAVES_OUT_OF_DATE_ORDER',
        message: `wave ${w.number} cuts over ${w.cutover.start}, not after wave ${prev.number} (${prev.cutover.start})`,
        hint: 'Waves cut over in their order: renumber them, move the date, or re-plan',
      })
      continue
    }
    const prevDay = localOfIso(tz, prev.cutover.start).day
    const gap = localOfIso(tz, w.cutover.start).day - prevDay
    if (gap < cadence && !(started.has(w.number) && started.has(prev.number))) {
      issues.push({
        path: ['waves', i, 'cutover', 'start'],
        code: 'WAVE_CADENCE',
        message: `wave ${w.number} cuts over ${gap} day${gap === 1 ? '' : 's'} after wave ${prev.number}; settings.waveCadenceDays is ${cadence}`,
        hint: `Move it to ${formatDay(prevDay + cadence)} or later (in a cutover window), or lower waveCadenceDays and re-plan`,
      })
    }
  }
  return issues
}
