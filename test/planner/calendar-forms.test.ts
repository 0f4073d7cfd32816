// The calendar forms teams use (issue 15, item 7): weekly blackouts (every Friday), change-freeze days, yearly
// freezes, cutover windows per environment; an unsupported form gets an error naming the supported ones. The
// planner honours them, `migrate validate` re-checks them, and a plan the planner wrote always validates, on
// daylight-saving change days too.
import {readFileSync, writeFileSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {parse, stringify} from 'yaml'
import {isMigrateError, type MigrateError} from '../../src/errors.js'
import {assemblePlan} from '../../src/planner/assemble-plan.js'
import {Calendar, formatDay, parseDay, weekdayOf} from '../../src/planner/calendar.js'
import {checkPlan} from '../../src/plan-check.js'
import {renderTable} from '../../src/planner/render.js'
import {Inventory} from '../../src/schema/inventory.js'
import {PlanSettings, type PlanSettingsInput} from '../../src/schema/plan.js'
import {validateFiles} from '../../src/validate.js'

const root = path.resolve(import.meta.dirname, '../..')
const inventory = Inventory.parse(parse(readFileSync(path.join(root, 'plans/example/inventory.yaml'), 'utf8')))
const exampleSettings = parse(readFileSync(path.join(root, 'plans/example/settings.yaml'), 'utf8'))
  .settings as PlanSettingsInput
const tmp = mkdtempSync(path.join(os.tmpdir(), 'migrate-forms-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

const settings = (extra: Partial<PlanSettingsInput>) => PlanSettings.parse({...exampleSettings, ...extra})
const envOf = new Map(inventory.applications.map((a) => [a.name, a.environment]))

function error(fn: () => unknown): MigrateError {
  try {
    fn()
  } catch (e) {
    if (isMigrateError(e)) return e
    throw e
  }
  throw new Error('expected an error')
}

/** Errors `migrate validate` finds in a plan the planner wrote (none expected). */
function planErrors(plan: ReturnType<typeof assemblePlan>) {
  return checkPlan(plan).filter((i) => (i.severity ?? 'error') === 'error')
}

describe('blackout forms', () => {
  const cal = new Calendar(
    settings({
      cutoverWindows: [
        {days: ['thu'], start: '22:00', end: '02:00'},
        {days: ['sat'], start: '01:00', end: '05:00'},
      ],
      blackouts: [
        {name: 'no Friday changes', weekly: {days: ['fri']}},
        {name: 'quarter close', dates: ['2027-03-27', '2027-06-26']},
        {name: 'year-end freeze', yearly: {from: '12-20', to: '01-05'}},
      ],
    }),
  )
  it('covers every Friday, the named days, and a yearly period across the new year', () => {
    expect(cal.blackoutOn(parseDay('2027-02-05'))).toBe('no Friday changes')
    expect(cal.blackoutOn(parseDay('2027-02-06'))).toBeUndefined()
    expect(cal.blackoutOn(parseDay('2027-03-27'))).toBe('quarter close')
    expect(cal.blackoutOn(parseDay('2027-03-28'))).toBeUndefined()
    expect(cal.blackoutOn(parseDay('2027-12-19'))).toBeUndefined()
    expect(cal.blackoutOn(parseDay('2027-12-20'))).toBe('year-end freeze')
    expect(cal.blackoutOn(parseDay('2028-01-05'))).toBe('year-end freeze')
    expect(cal.blackoutOn(parseDay('2028-01-06'))).toBeUndefined()
  })
  it('skips a Thursday-night window that runs into Friday, and the named days', () => {
    for (let d = parseDay('2027-01-04'); d < parseDay('2028-02-01'); d += 3) {
      const slot = cal.nextCutover(d)
      expect(weekdayOf(slot.day)).toBe('sat')
      expect(['2027-03-27', '2027-06-26']).not.toContain(formatDay(slot.day))
      expect(cal.blackoutOn(slot.day)).toBeUndefined()
    }
  })
})

describe('cutover windows per environment', () => {
  const s = settings({
    cutoverWindows: [
      {days: ['sat'], start: '01:00', end: '05:00', environments: ['prod']},
      {days: ['tue', 'wed'], start: '19:00', end: '23:00', environments: ['dev', 'test', 'staging']},
    ],
    blackouts: [
      ...exampleSettings.blackouts!,
      {name: 'no Friday changes', weekly: {days: ['fri']}},
      {name: 'quarter close', dates: ['2027-03-31']},
    ],
    deadline: '2027-09-30',
  })
  const plan = assemblePlan(inventory, s)

  it('puts each wave in a window of its environment, outside every blackout', () => {
    const seen = new Set<string>()
    for (const w of plan.waves) {
      const envs = new Set(w.applications.map((a) => envOf.get(a)))
      const day = weekdayOf(parseDay(w.cutover.start.slice(0, 10)))
      const time = w.cutover.start.slice(11, 16)
      if (envs.has('prod')) expect([day, time], `wave ${w.number}`).toEqual(['sat', '01:00'])
      else expect(['tue', 'wed'], `wave ${w.number}`).toContain(day)
      if (!envs.has('prod')) expect(time).toBe('19:00')
      expect(w.cutover.start.slice(0, 10)).not.toBe('2027-03-31')
      seen.add(envs.has('prod') ? 'prod' : 'other')
    }
    expect([...seen].sort()).toEqual(['other', 'prod'])
  })

  it('writes a plan that validate accepts, and validate refuses a prod wave moved into the dev window', () => {
    expect(planErrors(plan)).toEqual([])
    const prod = plan.waves.findIndex((w) => w.applications.some((a) => envOf.get(a) === 'prod'))
    const day = parseDay(plan.waves[prod].cutover.start.slice(0, 10)) + 3 // the Tuesday after
    const moved = structuredClone(plan)
    moved.waves[prod].cutover = {start: `${formatDay(day)}T19:00:00+07:00`, end: `${formatDay(day)}T23:00:00+07:00`}
    moved.waves[prod].test.end = moved.waves[prod].cutover.start
    // Keep the rest of the plan consistent so the window is the only problem.
    if (prod + 1 < moved.waves.length) moved.waves = moved.waves.slice(0, prod + 1)
    const problems = planErrors(moved).filter((i) => i.code === 'CUTOVER_OUTSIDE_WINDOW')
    expect(problems.length).toBe(1)
    expect(problems[0].message).toContain('open to prod')
    expect(problems[0].path).toEqual(['waves', prod, 'cutover', 'start'])
  })

  it('says which environment has no window', () => {
    const e = error(() =>
      assemblePlan(
        inventory,
        settings({cutoverWindows: [{days: ['sat'], start: '01:00', end: '05:00', environments: ['prod']}]}),
      ),
    )
    expect(e.code).toBe('NO_CUTOVER_WINDOW')
    expect(e.message).toMatch(/no cutover window is open to a wave of (dev|staging|test)/)
    expect(e.message).toContain('sat 01:00-05:00 (prod)')
  })
})

describe('unsupported calendar forms', () => {
  const validateSettings = (blackout: unknown, window?: unknown) => {
    const file = path.join(tmp, `settings-${Math.random().toString(36).slice(2)}.yaml`)
    const s = {...exampleSettings, blackouts: [blackout], ...(window ? {cutoverWindows: [window]} : {})}
    writeFileSync(file, stringify({apiVersion: 'migrate/v1', kind: 'PlanSettings', settings: s}))
    return validateFiles([file]).diagnostics.filter((d) => d.severity === 'error')
  }
  const FORMS = [
    '{name, from: YYYY-MM-DD, to: YYYY-MM-DD}',
    '{name, dates: [YYYY-MM-DD, …]}',
    '{name, weekly: {days: [fri, …]}}',
    '{name, monthly: {fromDay: 25, toDay: end}}',
    '{name, yearly: {from: "12-20", to: "01-05"}}',
  ]

  it.each([
    ['an iCalendar RRULE', {name: 'fridays', rrule: 'FREQ=WEEKLY;BYDAY=FR'}],
    ['a cron expression', {name: 'fridays', cron: '* * * * 5'}],
    ['a free-text recurrence', {name: 'fridays', every: 'friday'}],
    ['a name alone', {name: 'fridays'}],
    ['a list instead of a mapping', ['fri']],
  ])('%s is refused with the supported forms named, on its line', (_what, blackout) => {
    const ds = validateSettings(blackout)
    expect(ds.length).toBe(1)
    expect(ds[0].line).toBeGreaterThan(0)
    for (const f of FORMS) expect(ds[0].message).toContain(f)
  })

  it('a known form with a wrong value says what is wrong in that form', () => {
    const [d] = validateSettings({name: 'fridays', weekly: {days: ['friday']}})
    expect(d.message).toMatch(/^blackout \(weekly form\) at weekly\.days\.0: .*"fri"/)
    const [y] = validateSettings({name: 'year end', yearly: {from: '12-32', to: '01-05'}})
    expect(y.message).toContain('yearly form')
  })

  it('a window for an unknown environment or weekday names the allowed values', () => {
    const ds = validateSettings(
      {name: 'x', dates: ['2027-03-31']},
      {days: ['saturday'], start: '01:00', end: '05:00', environments: ['production']},
    )
    expect(ds.length).toBe(1)
    expect(ds[0].message).toMatch(
      /^cutover window \(days form\) at days\.0: .*"mon"\|"tue"\|"wed"\|"thu"\|"fri"\|"sat"\|"sun"; environments\.0: .*"prod"\|"staging"\|"test"\|"dev"/,
    )
  })

  it.each([
    ['an RRULE window', {rrule: 'FREQ=WEEKLY;BYDAY=SA', duration: '4h'}],
    ['a one-line window', 'sat 01:00-05:00'],
  ])('%s is refused with the supported window form named', (_what, window) => {
    const ds = validateSettings({name: 'x', dates: ['2027-03-31']}, window)
    expect(ds.length).toBe(1)
    expect(ds[0].message).toContain('{days: [sat, …], start: "01:00", end: "05:00", environments: [prod, …]}')
  })
})

describe('daylight-saving change days in a whole plan', () => {
  it.each([
    ['America/New_York', [{days: ['sun'], start: '02:00', end: '06:00'}], '2027-03-14'],
    ['America/New_York', [{days: ['sun'], start: '01:00', end: '05:00'}], '2027-11-07'],
    ['Europe/London', [{days: ['sun'], start: '01:00', end: '04:00'}], '2027-03-28'],
    ['Europe/London', [{days: ['sun'], start: '00:30', end: '03:00'}], '2027-10-31'],
    ['Australia/Lord_Howe', [{days: ['sun'], start: '01:45', end: '04:00'}], '2027-04-04'],
    ['Australia/Lord_Howe', [{days: ['sun'], start: '02:00', end: '05:00'}], '2027-10-03'],
  ] as const)(
    '%s %j: the plan validates and prints the local time of its instants',
    (timezone, cutoverWindows, changeDay) => {
      // A weekly cadence from a few weeks before the change day, so a wave lands on it.
      const start = formatDay(parseDay(changeDay) - 35)
      const plan = assemblePlan(
        inventory,
        settings({
          timezone,
          startDate: start,
          deadline: undefined,
          waveCadenceDays: 7,
          testDays: 3,
          blackouts: [],
          cutoverWindows: cutoverWindows as never,
        }),
      )
      expect(planErrors(plan)).toEqual([])
      const onChange = plan.waves.find((w) => w.cutover.start.startsWith(changeDay))
      expect(onChange, `a wave on ${changeDay}`).toBeDefined()
      const table = renderTable(plan)
      for (const w of plan.waves) {
        // What the table prints is the instant's wall-clock time in the zone (Intl, not the code under test).
        const wall = (iso: string) =>
          new Intl.DateTimeFormat('en-GB', {
            timeZone: timezone,
            hour: '2-digit',
            minute: '2-digit',
            hourCycle: 'h23',
          }).format(new Date(iso))
        expect(table).toContain(`${w.cutover.start.slice(0, 10)} ${wall(w.cutover.start)}-${wall(w.cutover.end)}`)
        expect(`${w.cutover.start.slice(11, 16)}`).toBe(wall(w.cutover.start))
        expect(Date.parse(w.cutover.end)).toBeGreaterThan(Date.parse(w.cutover.start))
      }
    },
  )
})
