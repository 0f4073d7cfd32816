// Property-based tests of the planner over generated estates: every in-scope application in exactly one wave, no
// capacity exceeded, no cutover in a blackout, dependency cycles never split, ordering constraints held (or a clear
// error exactly when they contradict), identical input → byte-identical output. The oracles below are written
// independently of the planner (plain reachability on small graphs).
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
// @ts-expect-error plain ESM generator shared with the benchmark
import {generateEstate, generatedSettings} from '../../bench/estate-gen.mjs'
import {isMigrateError} from '../../src/errors.js'
import {toYaml} from '../../src/io/write-yaml.js'
import {assemblePlan} from '../../src/planner/assemble-plan.js'
import {Calendar, dayOfIso, weekdayOf} from '../../src/planner/calendar.js'
import {planQuality} from '../../src/planner/quality.js'
import type {Inventory} from '../../src/schema/inventory.js'
import {Plan, PlanSettings, type PlanSettingsInput} from '../../src/schema/plan.js'

/** Application-level relation from the raw inventory: le[i][j] = "wave(i) ≤ wave(j)" is required. */
function oracle(inv: Inventory, settings: PlanSettings) {
  const names = inv.applications.map((a) => a.name)
  const idx = new Map(names.map((n, i) => [n, i]))
  const owner = new Map<string, number>()
  for (const a of inv.applications) owner.set(a.name, idx.get(a.name)!)
  for (const s of inv.servers) owner.set(s.id, idx.get(s.application!)!)
  for (const d of inv.databases) owner.set(d.id, idx.get(d.application!)!)
  const out = new Set(
    inv.applications
      .filter((a) => a.tags.lifecycle === 'retire' || a.tags.lifecycle === 'retain')
      .map((a) => idx.get(a.name)!),
  )
  const n = names.length
  const le = Array.from({length: n}, (_, i) => Array.from({length: n}, (_, j) => i === j))
  const deps: [number, number][] = []
  for (const d of inv.dependencies) {
    const a = owner.get(d.from)!
    const b = owner.get(d.to)!
    if (a === b || out.has(a) || out.has(b)) continue
    deps.push([a, b])
    le[b][a] = true // the target moves no later than its user
    if (d.latencySensitive) le[a][b] = true
  }
  const strict: [number, number][] = []
  for (const c of settings.constraints) {
    if ('before' in c) {
      const x = idx.get(c.before[0])!
      const y = idx.get(c.before[1])!
      if (!out.has(x) && !out.has(y)) {
        strict.push([x, y])
        le[x][y] = true
      }
    } else {
      const ms = c.together.map((m) => idx.get(m)!)
      for (const x of ms) for (const y of ms) le[x][y] = true
    }
  }
  for (let k = 0; k < n; k++)
    for (let i = 0; i < n; i++) if (le[i][k]) for (let j = 0; j < n; j++) if (le[k][j]) le[i][j] = true
  const contradiction = strict.some(([x, y]) => le[y][x])
  return {names, idx, out, le, deps, strict, contradiction}
}

const estateArb = fc.record({
  servers: fc.integer({min: 30, max: 300}),
  seed: fc.integer({min: 1, max: 1_000_000}),
  cycles: fc.double({min: 0, max: 0.3, noNaN: true}),
  latency: fc.double({min: 0, max: 0.3, noNaN: true}),
  cadence: fc.integer({min: 3, max: 21}),
  capApps: fc.integer({min: 3, max: 10}),
  capServers: fc.integer({min: 60, max: 120}),
  earlyWaves: fc.integer({min: 0, max: 4}),
  pilot: fc.integer({min: 0, max: 3}),
  monthlyFrom: fc.integer({min: 15, max: 28}),
  fixedBlackout: fc.boolean(),
  windowDays: fc.subarray(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const, {minLength: 1}),
  windowStart: fc.integer({min: 0, max: 23}),
  windowLen: fc.integer({min: 1, max: 6}),
  timezone: fc.constantFrom('Asia/Jakarta', 'UTC', 'Europe/Berlin', 'America/New_York'),
  befores: fc.array(fc.tuple(fc.nat(), fc.nat()), {maxLength: 3}),
  together: fc.option(fc.tuple(fc.nat(), fc.nat()), {nil: undefined}),
})

function build(p: fc.RecordValue<typeof estateArb> extends never ? never : any): {
  inv: Inventory
  settings: PlanSettings
} {
  const inv = generateEstate({servers: p.servers, seed: p.seed, cycles: p.cycles, latency: p.latency}) as Inventory
  const apps = inv.applications.map((a) => a.name)
  const pickApp = (k: number) => apps[k % apps.length]
  const constraints: PlanSettingsInput['constraints'] = []
  for (const [x, y] of p.befores) if (pickApp(x) !== pickApp(y)) constraints.push({before: [pickApp(x), pickApp(y)]})
  if (p.together && pickApp(p.together[0]) !== pickApp(p.together[1]))
    constraints.push({together: [pickApp(p.together[0]), pickApp(p.together[1])]})
  const end = (p.windowStart + p.windowLen) % 24
  const settings = PlanSettings.parse(
    generatedSettings(p.servers, {
      waveCadenceDays: p.cadence,
      timezone: p.timezone,
      capacity: {apps: p.capApps, servers: p.capServers, dataTiB: 200, critical: 3},
      ramp: {earlyWaves: p.earlyWaves, earlyServers: 10},
      pilot: {apps: p.pilot},
      cutoverWindows: [
        {
          days: p.windowDays,
          start: `${String(p.windowStart).padStart(2, '0')}:00`,
          end: `${String(end).padStart(2, '0')}:30`,
        },
      ],
      blackouts: [
        {name: 'sales', monthly: {fromDay: p.monthlyFrom, toDay: 'end'}},
        ...(p.fixedBlackout ? [{name: 'Lebaran', from: '2027-03-06', to: '2027-03-14'}] : []),
      ],
      constraints,
    }),
  )
  return {inv, settings}
}

const ALLOWED_ERRORS = new Set([
  'CONSTRAINT_CYCLE',
  'CONSTRAINT_CONTRADICTS_GROUP',
  'MOVE_GROUP_TOO_BIG',
  'CONSTRAINT_OUT_OF_SCOPE',
])

describe('planner properties over generated estates', () => {
  it('places every in-scope application once, within capacity, outside blackouts, in dependency order', () => {
    fc.assert(
      fc.property(estateArb, (p) => {
        const {inv, settings} = build(p)
        const o = oracle(inv, settings)
        let plan: Plan
        try {
          plan = assemblePlan(inv, settings)
        } catch (error) {
          if (!isMigrateError(error) || !ALLOWED_ERRORS.has(error.code)) throw error
          // A constraint error exactly when the constraints contradict the order (or a group is too big).
          if (error.code === 'CONSTRAINT_CYCLE' || error.code === 'CONSTRAINT_CONTRADICTS_GROUP')
            expect(o.contradiction).toBe(true)
          return
        }
        expect(o.contradiction).toBe(false)
        expect(Plan.safeParse(plan).success).toBe(true)
        // Every in-scope application in exactly one wave; the others in none.
        const seen = new Map<string, number>()
        for (const w of plan.waves)
          for (const a of w.applications) {
            expect(seen.has(a)).toBe(false)
            seen.set(a, w.number)
          }
        for (const a of plan.applications) {
          const i = o.idx.get(a.name)!
          if (o.out.has(i)) {
            expect(a.wave).toBeNull()
            expect(seen.has(a.name)).toBe(false)
          } else {
            expect(a.wave).not.toBeNull()
            expect(seen.get(a.name)).toBe(a.wave)
          }
        }
        expect(plan.applications.length).toBe(inv.applications.length)
        const wave = (i: number) => plan.applications.find((a) => a.name === o.names[i])!.wave!
        // Capacity held (servers counted from the inventory).
        const cal = new Calendar(settings)
        const serversOf = new Map<string, number>()
        for (const s of inv.servers) serversOf.set(s.application!, (serversOf.get(s.application!) ?? 0) + 1)
        for (const w of plan.waves) {
          expect(w.applications.length).toBeLessThanOrEqual(settings.capacity.apps)
          expect(w.applications.reduce((s, a) => s + (serversOf.get(a) ?? 0), 0)).toBeLessThanOrEqual(
            settings.capacity.servers,
          )
          // No cutover in a blackout, and inside a cutover window.
          expect(cal.cutoverBlackout(w.cutover.start, w.cutover.end)).toBeUndefined()
          const d = dayOfIso(settings.timezone, w.cutover.start)
          expect(
            settings.cutoverWindows.some(
              (cw) => cw.days.includes(weekdayOf(d)) && w.cutover.start.slice(11, 16) === cw.start,
            ),
          ).toBe(true)
          expect(
            w.replicationStart <= w.test.start ||
              dayOfIso(settings.timezone, w.replicationStart) <= dayOfIso(settings.timezone, w.test.start),
          ).toBe(true)
          expect(dayOfIso(settings.timezone, w.test.start)).toBeLessThanOrEqual(d)
        }
        // Waves in calendar order.
        for (let k = 1; k < plan.waves.length; k++)
          expect(dayOfIso(settings.timezone, plan.waves[k].cutover.start)).toBeGreaterThan(
            dayOfIso(settings.timezone, plan.waves[k - 1].cutover.start),
          )
        // Cycles (mutual reachability) never split; dependency targets no later; before constraints strictly earlier.
        const inScope = o.names.map((_, i) => i).filter((i) => !o.out.has(i))
        for (const i of inScope) for (const j of inScope) if (o.le[i][j] && o.le[j][i]) expect(wave(i)).toBe(wave(j))
        for (const [a, b] of o.deps) expect(wave(b)).toBeLessThanOrEqual(wave(a))
        for (const [x, y] of o.strict) expect(wave(x)).toBeLessThan(wave(y))
        // The quality measure agrees: nothing violated but the early-wave rules the planner may relax.
        const q = planQuality(plan, inv)
        expect(
          q.violations.capacity +
            q.violations.blackout +
            q.violations['move-groups-together'] +
            q.violations['dependencies-first'] +
            q.violations['before-constraints'],
        ).toBe(0)
      }),
      {numRuns: 60, seed: 42},
    )
  })

  it('gives byte-identical output for identical input', () => {
    fc.assert(
      fc.property(estateArb, (p) => {
        const {inv, settings} = build(p)
        let a: string
        try {
          a = toYaml(assemblePlan(inv, settings))
        } catch (error) {
          if (isMigrateError(error) && ALLOWED_ERRORS.has(error.code)) return
          throw error
        }
        const b = toYaml(assemblePlan(structuredClone(inv), structuredClone(settings)))
        expect(b).toBe(a)
      }),
      {numRuns: 20, seed: 7},
    )
  })

  it('honours pins (wave, notBefore) or names the contradiction', () => {
    fc.assert(
      fc.property(
        estateArb,
        fc.array(
          fc.record({
            app: fc.nat(),
            wave: fc.option(fc.integer({min: 1, max: 8}), {nil: undefined}),
            notBefore: fc.option(fc.integer({min: 0, max: 150}), {nil: undefined}),
          }),
          {minLength: 1, maxLength: 3},
        ),
        (p, pins) => {
          const {inv, settings: base} = build({...p, befores: [], together: undefined})
          const o = oracle(inv, base)
          const inScope = o.names.filter((_, i) => !o.out.has(i))
          const day0 = Date.UTC(2027, 0, 4)
          const settings = PlanSettings.parse({
            ...base,
            pins: pins.map((x) => ({
              app: inScope[x.app % inScope.length],
              ...(x.wave !== undefined ? {wave: x.wave} : {}),
              ...(x.notBefore !== undefined
                ? {notBefore: new Date(day0 + x.notBefore * 86_400_000).toISOString().slice(0, 10)}
                : {}),
            })),
          })
          let plan: Plan
          try {
            plan = assemblePlan(inv, settings)
          } catch (error) {
            if (!isMigrateError(error)) throw error
            expect([
              'PIN_CONFLICT',
              'PIN_CONTRADICTS_ORDER',
              'MOVE_GROUP_TOO_BIG',
              'PIN_OVER_CAPACITY',
              'PIN_LEAVES_EMPTY_WAVES',
            ]).toContain(error.code)
            if (error.code === 'PIN_CONTRADICTS_ORDER' && !/may not move before/.test(error.message)) {
              // Some application must move no later than another, yet is pinned to a later (or the same, with a chain) wave.
              const pinned = settings.pins
                .filter((x) => x.wave !== undefined)
                .map((x) => ({i: o.idx.get(x.app)!, w: x.wave!}))
              expect(pinned.some((x) => pinned.some((y) => x.i !== y.i && o.le[y.i][x.i] && y.w > x.w))).toBe(true)
            }
            return
          }
          const waveOf = new Map(plan.applications.map((a) => [a.name, a.wave]))
          for (const pin of settings.pins) {
            if (pin.wave !== undefined) expect(waveOf.get(pin.app)).toBe(pin.wave)
            if (pin.notBefore !== undefined) {
              const w = plan.waves.find((x) => x.number === waveOf.get(pin.app))!
              expect(w.cutover.start.slice(0, 10) >= pin.notBefore).toBe(true)
            }
          }
          for (const [a, b] of o.deps) expect(waveOf.get(o.names[b])!).toBeLessThanOrEqual(waveOf.get(o.names[a])!)
          const listed = plan.waves.flatMap((w) => w.applications)
          expect(new Set(listed).size).toBe(listed.length)
          expect(listed.length).toBe(inScope.length)
          const q = planQuality(plan, inv)
          expect(
            q.violations.capacity + q.violations.blackout + q.violations.pins + q.violations['dependencies-first'],
          ).toBe(0)
        },
      ),
      {numRuns: 40, seed: 11},
    )
  })

  it('keeps started waves fixed when re-planning with other settings', () => {
    fc.assert(
      fc.property(estateArb, fc.integer({min: 1, max: 3}), (p, started) => {
        const {inv, settings} = build({...p, befores: [], together: undefined})
        let first: Plan
        try {
          first = assemblePlan(inv, settings)
        } catch (error) {
          if (isMigrateError(error) && error.code === 'MOVE_GROUP_TOO_BIG') return
          throw error
        }
        const keep = first.waves.slice(0, Math.min(started, first.waves.length)).map((w) => w.number)
        const changed = PlanSettings.parse({
          ...settings,
          waveCadenceDays: settings.waveCadenceDays + 5,
          capacity: {...settings.capacity, apps: settings.capacity.apps + 1},
        })
        const second = assemblePlan(inv, changed, {plan: first, startedWaves: keep})
        for (const n of keep) {
          const a = first.waves.find((w) => w.number === n)!
          const b = second.waves.find((w) => w.number === n)!
          expect(b.applications).toEqual(a.applications)
          expect(b.cutover).toEqual(a.cutover)
          expect(b.replicationStart).toBe(a.replicationStart)
        }
        const placed = new Set(second.waves.flatMap((w) => w.applications))
        for (const a of second.applications) expect(a.wave === null || placed.has(a.name)).toBe(true)
      }),
      {numRuns: 15, seed: 3},
    )
  })
})

/** Soft-rule violations of a plan with some applications put in other waves (a person's edit), or undefined when the edit breaks a hard rule. */
function editedViolations(
  plan: Plan,
  inv: Inventory,
  settings: PlanSettings,
  o: ReturnType<typeof oracle>,
  moves: Map<string, number>,
): number | undefined {
  const wave = (name: string) => moves.get(name) ?? plan.applications.find((a) => a.name === name)!.wave!
  // Hard rules, checked here from the inventory: dependency order and groups, capacity (apps, servers, critical).
  for (const [a, b] of o.deps) if (wave(o.names[b]) > wave(o.names[a])) return undefined
  for (let i = 0; i < o.names.length; i++)
    for (let j = 0; j < o.names.length; j++)
      if (
        i !== j &&
        !o.out.has(i) &&
        !o.out.has(j) &&
        o.le[i][j] &&
        o.le[j][i] &&
        wave(o.names[i]) !== wave(o.names[j])
      )
        return undefined
  const servers = new Map<string, number>()
  for (const s of inv.servers) servers.set(s.application!, (servers.get(s.application!) ?? 0) + 1)
  const crit = new Set(
    inv.applications.filter((a) => a.criticality === 'high' || a.criticality === 'critical').map((a) => a.name),
  )
  const edited = structuredClone(plan)
  for (const a of edited.applications) if (a.wave !== null) a.wave = wave(a.name)
  for (const w of edited.waves) {
    w.applications = edited.applications.filter((a) => a.wave === w.number).map((a) => a.name)
    if (w.applications.length === 0) return undefined // a person would not leave a wave empty
    if (w.applications.length > settings.capacity.apps) return undefined
    if (w.applications.reduce((s, a) => s + (servers.get(a) ?? 0), 0) > settings.capacity.servers) return undefined
    if (w.applications.filter((a) => crit.has(a)).length > settings.capacity.critical) return undefined
  }
  return planQuality(edited, inv).rulesViolated
}

describe('placement at least as good as any single swap', () => {
  it('leaves no move of one application (with its move group) or swap of two that lowers the rule violations', () => {
    fc.assert(
      fc.property(
        estateArb,
        fc.constantFrom<'layered' | 'chains' | 'fanin' | 'cycles' | 'mixed'>(
          'layered',
          'chains',
          'fanin',
          'cycles',
          'mixed',
        ),
        (p, shape) => {
          const servers = Math.min(p.servers, 160)
          const inv = generateEstate({servers, seed: p.seed, cycles: p.cycles, latency: p.latency, shape}) as Inventory
          const settings = PlanSettings.parse(
            generatedSettings(servers, {
              waveCadenceDays: p.cadence,
              capacity: {apps: p.capApps, servers: p.capServers, dataTiB: 200, critical: 3},
              ramp: {earlyWaves: p.earlyWaves, earlyServers: 10 + (p.seed % 3) * 8},
              pilot: {apps: p.pilot},
            }),
          )
          let plan: Plan
          try {
            plan = assemblePlan(inv, settings)
          } catch (error) {
            if (isMigrateError(error) && ALLOWED_ERRORS.has(error.code)) return
            throw error
          }
          const o = oracle(inv, settings)
          const base = planQuality(plan, inv).rulesViolated
          expect(editedViolations(plan, inv, settings, o, new Map())).toBe(base)
          // Applications that must share a wave move as one (mutual reachability: cycles, latency links, together).
          const inScope = o.names.map((_, i) => i).filter((i) => !o.out.has(i))
          const groups: string[][] = []
          const seen = new Set<number>()
          for (const i of inScope) {
            if (seen.has(i)) continue
            const g = inScope.filter((j) => o.le[i][j] && o.le[j][i])
            for (const j of g) seen.add(j)
            groups.push(g.map((j) => o.names[j]))
          }
          const waveOf = (g: string[]) => plan.applications.find((a) => a.name === g[0])!.wave!
          const waves = plan.waves.map((w) => w.number)
          const better: string[] = []
          for (const g of groups) {
            for (const w of waves) {
              if (w === waveOf(g)) continue
              const v = editedViolations(plan, inv, settings, o, new Map(g.map((n) => [n, w])))
              if (v !== undefined && v < base) better.push(`${g.join('+')} → wave ${w}: ${v} < ${base}`)
            }
          }
          for (let x = 0; x < groups.length; x++) {
            for (let y = x + 1; y < groups.length; y++) {
              const [g, h] = [groups[x], groups[y]]
              if (waveOf(g) === waveOf(h)) continue
              const v = editedViolations(
                plan,
                inv,
                settings,
                o,
                new Map([
                  ...g.map((n): [string, number] => [n, waveOf(h)]),
                  ...h.map((n): [string, number] => [n, waveOf(g)]),
                ]),
              )
              if (v !== undefined && v < base) better.push(`swap ${g.join('+')} ↔ ${h.join('+')}: ${v} < ${base}`)
            }
          }
          expect(better).toEqual([])
        },
      ),
      {numRuns: 60, seed: 15},
    )
  })
})

describe('reasons and ratings from the final placement', () => {
  it('says only what the plan shows: dependencies, early waves, capacity, utilisation, limits', () => {
    fc.assert(
      fc.property(
        estateArb,
        fc.constantFrom<'layered' | 'chains' | 'fanin' | 'cycles' | 'mixed'>(
          'layered',
          'chains',
          'fanin',
          'cycles',
          'mixed',
        ),
        (p, shape) => {
          const inv = generateEstate({
            servers: p.servers,
            seed: p.seed,
            cycles: p.cycles,
            latency: p.latency,
            shape,
          }) as Inventory
          const settings = PlanSettings.parse(
            generatedSettings(p.servers, {
              capacity: {apps: p.capApps, servers: p.capServers, dataTiB: 200, critical: 3},
              ramp: {earlyWaves: p.earlyWaves, earlyServers: 10},
              pilot: {apps: p.pilot},
            }),
          )
          let plan: Plan
          try {
            plan = assemblePlan(inv, settings)
          } catch (error) {
            if (isMigrateError(error) && ALLOWED_ERRORS.has(error.code)) return
            throw error
          }
          const wave = new Map(plan.applications.map((a) => [a.name, a.wave]))
          const env = new Map(inv.applications.map((a) => [a.name, a.environment]))
          const envIndex = (w: number, e: string) =>
            plan.waves.filter((x) => x.number <= w && x.applications.some((a) => env.get(a) === e)).length
          const byNumber = new Map(plan.waves.map((w) => [w.number, w]))
          for (const a of plan.applications) {
            if (a.wave === null) continue
            const r = a.reasons[0]
            expect(r.startsWith(`wave ${a.wave}: `)).toBe(true)
            for (const m of r.matchAll(/([a-z]+-\d+) \(wave (\d+)\)/g)) expect(wave.get(m[1])).toBe(Number(m[2]))
            const kept = /kept out of the first (\d+) (dev|test|staging|prod) waves/.exec(r)
            if (kept) expect(envIndex(a.wave, kept[2])).toBeGreaterThan(Number(kept[1]))
            const full = /capacity \(applications\) full in waves? ([\d–]+(?:, [\d–]+)*)/.exec(r)
            if (full) {
              for (const part of full[1].split(', ')) {
                const [x, y] = part.split('–').map(Number)
                for (let w = x; w <= (y || x); w++)
                  expect(byNumber.get(w)!.applications.length).toBeGreaterThan(
                    settings.capacity.apps - (a.moveGroup.includes('+') ? Number(a.moveGroup.split('+')[1]) + 1 : 1),
                  )
              }
            }
            if (/pilot/.test(r.split(',')[0])) expect(byNumber.get(a.wave)!.pilot).toBe(true)
          }
          const util = new Map<string, [number, number]>()
          for (const s of inv.servers) {
            const u = util.get(s.application!) ?? [0, 0]
            u[0]++
            if (s.utilization?.cpuP95 === undefined) u[1]++
            util.set(s.application!, u)
          }
          for (const w of plan.waves) {
            const text = w.reasons.join('\n')
            const missing = w.applications.reduce((n, a) => n + util.get(a)![1], 0)
            if (missing > 0) expect(text).toContain(`utilisation unknown for ${missing} of ${w.servers} servers`)
            else expect(text).not.toContain('utilisation unknown')
            if (missing * 10 > w.servers) expect(w.confidence).toBeLessThan(5)
            const atLimit = w.applications.length >= settings.capacity.apps || w.servers >= settings.capacity.servers
            if (atLimit) expect(text).toMatch(/at its limit/)
            if (/well inside capacity/.test(text))
              expect(missing === 0 && w.applications.length < 0.8 * settings.capacity.apps + 1 && !atLimit).toBe(true)
          }
        },
      ),
      {numRuns: 40, seed: 21},
    )
  })
})
