// Whatever the planner writes, `migrate validate` accepts: over generated estates with cutover windows per
// environment, weekly, monthly and single-day blackouts, cadences, and time zones with daylight saving (New York,
// London, Lord Howe's 30-minute shift) as well as without, the plan written beside its inventory validates with no
// error. validate re-checks the planner's promises independently of the planner (its own reading of the calendar,
// the order and the constraints), so a disagreement either way fails here.
import fc from 'fast-check'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
// @ts-expect-error plain ESM generator shared with the benchmark
import {generateEstate, generatedSettings} from '../../bench/estate-gen.mjs'
import {isMigrateError} from '../../src/errors.js'
import {toYaml} from '../../src/io/write-yaml.js'
import {assemblePlan} from '../../src/planner/assemble-plan.js'
import type {Inventory} from '../../src/schema/inventory.js'
import {PlanSettings} from '../../src/schema/plan.js'
import {validateFiles} from '../../src/validate.js'

const tmp = mkdtempSync(path.join(os.tmpdir(), 'migrate-validate-prop-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
const hh = (h: number, m = 0) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`

const arb = fc.record({
  servers: fc.integer({min: 30, max: 200}),
  seed: fc.integer({min: 1, max: 1_000_000}),
  timezone: fc.constantFrom('Asia/Jakarta', 'UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe'),
  cadence: fc.integer({min: 3, max: 14}),
  prodDays: fc.subarray([...DAYS], {minLength: 1, maxLength: 3}),
  otherDays: fc.subarray([...DAYS], {minLength: 1, maxLength: 3}),
  prodStart: fc.integer({min: 0, max: 23}),
  prodLen: fc.integer({min: 1, max: 6}),
  otherStart: fc.integer({min: 0, max: 23}),
  perEnvironment: fc.boolean(),
  weeklyBlackout: fc.option(fc.constantFrom(...DAYS), {nil: undefined}),
  freezeDays: fc.array(fc.integer({min: 0, max: 200}), {maxLength: 4}),
  startDay: fc.integer({min: 0, max: 300}),
})

function build(p: fc.RecordValue<typeof arb> extends never ? never : any): {inv: Inventory; settings: PlanSettings} {
  const inv = generateEstate({servers: p.servers, seed: p.seed, cycles: 0.1, latency: 0.1}) as Inventory
  const start = new Date(Date.UTC(2027, 0, 4 + p.startDay))
  const day = (k: number) => new Date(start.getTime() + k * 86_400_000).toISOString().slice(0, 10)
  const window = (days: string[], h: number, len: number, environments?: string[]) => ({
    days,
    start: hh(h, 30),
    end: hh((h + len) % 24, 30),
    ...(environments ? {environments} : {}),
  })
  const cutoverWindows = p.perEnvironment
    ? [
        window(p.prodDays, p.prodStart, p.prodLen, ['prod']),
        window(p.otherDays, p.otherStart, 3, ['dev', 'test', 'staging']),
      ]
    : [window(p.prodDays, p.prodStart, p.prodLen)]
  // A weekly blackout never covers every window day (the planner would rightly find no window).
  const weekly =
    p.weeklyBlackout &&
    !p.prodDays.every((d: string) => d === p.weeklyBlackout) &&
    !p.otherDays.every((d: string) => d === p.weeklyBlackout)
      ? [{name: 'weekly freeze', weekly: {days: [p.weeklyBlackout]}}]
      : []
  const settings = PlanSettings.parse(
    generatedSettings(p.servers, {
      startDate: day(0),
      timezone: p.timezone,
      waveCadenceDays: p.cadence,
      cutoverWindows,
      blackouts: [
        {name: 'sales', monthly: {fromDay: 26, toDay: 'end'}},
        ...weekly,
        ...(p.freezeDays.length ? [{name: 'change freeze', dates: [...new Set(p.freezeDays.map(day))].sort()}] : []),
      ],
    }),
  )
  return {inv, settings}
}

let n = 0
describe('validate accepts what the planner writes', () => {
  it('on generated estates, calendars and time zones', () => {
    let planned = 0
    fc.assert(
      fc.property(arb, (p) => {
        const {inv, settings} = build(p)
        let plan: ReturnType<typeof assemblePlan>
        try {
          plan = assemblePlan(inv, settings)
        } catch (error) {
          if (isMigrateError(error) && ['MOVE_GROUP_TOO_BIG', 'NO_CUTOVER_WINDOW'].includes(error.code)) return
          throw error
        }
        planned++
        const dir = path.join(tmp, `p${++n}`)
        mkdirSync(dir)
        writeFileSync(path.join(dir, 'inventory.yaml'), toYaml(inv))
        writeFileSync(path.join(dir, 'plan.yaml'), toYaml(plan))
        const errors = validateFiles([path.join(dir, 'plan.yaml')]).diagnostics.filter((d) => d.severity === 'error')
        expect(errors.map((d) => `${d.code}: ${d.message}`)).toEqual([])
        // Every wave of a per-environment calendar is in a window of its own environment (validate said so; make
        // sure the case was exercised with both kinds of waves).
      }),
      {numRuns: 40, seed: 1014},
    )
    expect(planned).toBeGreaterThan(20)
  })
})
