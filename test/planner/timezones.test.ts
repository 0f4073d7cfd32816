// Daylight-saving change days in New York, London and Lord Howe (a 30-minute shift), both directions, through the
// calendar the planner uses. One rule (RFC 5545 / Temporal 'compatible'): a local time the clocks skip moves forward
// by the gap, a local time they repeat is the earlier instant. Every timestamp written carries the offset in force
// at its instant, so the wall-clock time a person reads is the instant's local time in the plan's zone.
import {Temporal} from 'temporal-polyfill'
import {describe, expect, it} from 'vitest'
import {Calendar, formatDay, localIso, localOfIso, parseDay} from '../../src/planner/calendar.js'
import {PlanSettings} from '../../src/schema/plan.js'

/** The wall-clock time of an instant in a zone, independently of the code under test (Intl). */
function wallClock(timeZone: string, iso: string): string {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  })
  const p = Object.fromEntries(f.formatToParts(new Date(iso)).map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

const at = (tz: string, date: string, hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number)
  return localIso(tz, parseDay(date), h * 60 + m)
}

// [zone, change day, local time, expected timestamp, what happens]
const CASES: [string, string, string, string, string][] = [
  [
    'America/New_York',
    '2027-03-14',
    '02:00',
    '2027-03-14T03:00:00-04:00',
    'gap: 02:00-03:00 skipped, forward by the gap',
  ],
  ['America/New_York', '2027-03-14', '02:30', '2027-03-14T03:30:00-04:00', 'gap'],
  ['America/New_York', '2027-03-14', '06:00', '2027-03-14T06:00:00-04:00', 'after the gap'],
  ['America/New_York', '2027-03-14', '01:59', '2027-03-14T01:59:00-05:00', 'before the gap'],
  ['America/New_York', '2027-11-07', '01:30', '2027-11-07T01:30:00-04:00', 'overlap: the earlier 01:30 (EDT)'],
  ['America/New_York', '2027-11-07', '02:00', '2027-11-07T02:00:00-05:00', 'after the overlap'],
  ['Europe/London', '2027-03-28', '01:00', '2027-03-28T02:00:00+01:00', 'gap: 01:00-02:00 skipped'],
  ['Europe/London', '2027-03-28', '01:30', '2027-03-28T02:30:00+01:00', 'gap'],
  ['Europe/London', '2027-10-31', '01:30', '2027-10-31T01:30:00+01:00', 'overlap: the earlier 01:30 (BST)'],
  ['Europe/London', '2027-10-31', '00:30', '2027-10-31T00:30:00+01:00', 'before the overlap'],
  ['Europe/London', '2027-10-31', '02:00', '2027-10-31T02:00:00Z', 'after the overlap'],
  ['Australia/Lord_Howe', '2027-10-03', '02:15', '2027-10-03T02:45:00+11:00', 'gap of 30 minutes: 02:00-02:30 skipped'],
  ['Australia/Lord_Howe', '2027-10-03', '02:00', '2027-10-03T02:30:00+11:00', 'gap'],
  ['Australia/Lord_Howe', '2027-10-03', '02:30', '2027-10-03T02:30:00+11:00', 'end of the gap'],
  [
    'Australia/Lord_Howe',
    '2027-04-04',
    '01:45',
    '2027-04-04T01:45:00+11:00',
    'overlap of 30 minutes: the earlier 01:45',
  ],
  ['Australia/Lord_Howe', '2027-04-04', '01:29', '2027-04-04T01:29:00+11:00', 'before the overlap'],
  ['Australia/Lord_Howe', '2027-04-04', '02:00', '2027-04-04T02:00:00+10:30', 'after the overlap'],
]

describe('local times on daylight-saving change days', () => {
  it.each(CASES)('%s %s %s → %s (%s)', (tz, date, hhmm, expected) => {
    const iso = at(tz, date, hhmm)
    expect(iso).toBe(expected)
    // The instant written and the wall-clock time written agree (checked with Intl, not with the code under test).
    expect(wallClock(tz, iso)).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 16)}`)
    // Read back, it is the same local time.
    const back = localOfIso(tz, iso)
    expect(formatDay(back.day)).toBe(iso.slice(0, 10))
    // The rule is Temporal's 'compatible', whatever the zone.
    expect(Temporal.Instant.from(iso).epochMilliseconds).toBe(
      Temporal.PlainDateTime.from(`${date}T${hhmm}`).toZonedDateTime(tz, {disambiguation: 'compatible'})
        .epochMilliseconds,
    )
  })

  it('a New York window sun 02:00-06:00 on 2027-03-14 opens when the clocks reach 03:00 EDT, never at 01:00', () => {
    const cal = new Calendar(
      PlanSettings.parse({
        startDate: '2027-03-01',
        timezone: 'America/New_York',
        cutoverWindows: [{days: ['sun'], start: '02:00', end: '06:00'}],
      }),
    )
    const slot = cal.nextCutover(parseDay('2027-03-08'))
    expect(formatDay(slot.day)).toBe('2027-03-14')
    const start = cal.iso(slot.day, slot.startMin)
    const end = cal.iso(slot.endDay, slot.endMin)
    expect([start, end]).toEqual(['2027-03-14T03:00:00-04:00', '2027-03-14T06:00:00-04:00'])
    expect(wallClock('America/New_York', start)).toBe('2027-03-14 03:00')
    // Three real hours: the hour from 02:00 to 03:00 does not exist that night.
    expect(Date.parse(end) - Date.parse(start)).toBe(3 * 3_600_000)
  })

  it('windows across midnight and across the change keep their instants ordered in every zone', () => {
    for (const [tz, date] of [
      ['America/New_York', '2027-03-13'],
      ['America/New_York', '2027-11-06'],
      ['Europe/London', '2027-03-27'],
      ['Europe/London', '2027-10-30'],
      ['Australia/Lord_Howe', '2027-10-02'],
      ['Australia/Lord_Howe', '2027-04-03'],
    ]) {
      const cal = new Calendar(
        PlanSettings.parse({
          startDate: '2027-01-01',
          timezone: tz,
          cutoverWindows: [{days: ['sat'], start: '23:00', end: '04:00'}],
        }),
      )
      const slot = cal.nextCutover(parseDay(date))
      expect(formatDay(slot.day)).toBe(date)
      const start = cal.iso(slot.day, slot.startMin)
      const end = cal.iso(slot.endDay, slot.endMin)
      expect(Date.parse(end)).toBeGreaterThan(Date.parse(start))
      expect(wallClock(tz, end)).toBe(`${end.slice(0, 10)} ${end.slice(11, 16)}`)
    }
  })
})
