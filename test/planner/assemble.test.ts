// assemblePlan on small hand-built estates: strategies and templates, targets per cloud, move groups from cycles,
// latency-sensitive links and `together`, the pilot, critical applications kept out of the early waves, reasons,
// and the errors for contradictions and unreachable deadlines.
import {describe, expect, it} from 'vitest'
import {isMigrateError, type MigrateError} from '../../src/errors.js'
import {assemblePlan} from '../../src/planner/assemble-plan.js'
import {Inventory, type InventoryInput} from '../../src/schema/inventory.js'
import {PlanSettings, type PlanSettingsInput} from '../../src/schema/plan.js'

type AppSpec = {
  name: string
  servers?: number
  criticality?: 'low' | 'medium' | 'high' | 'critical'
  environment?: 'dev' | 'test' | 'staging' | 'prod'
  complexity?: 'low' | 'medium' | 'high'
  tags?: Record<string, string>
  db?: 'postgres' | 'mysql' | 'redis'
  noUtil?: number
  disk?: number
  vcpus?: number
}

function estate(apps: AppSpec[], deps: [string, string, boolean?][]): Inventory {
  const inv: InventoryInput = {
    apiVersion: 'migrate/v1',
    kind: 'Inventory',
    metadata: {name: 'test'},
    applications: [],
    servers: [],
    databases: [],
    dependencies: [],
  }
  for (const a of apps) {
    inv.applications!.push({
      name: a.name,
      criticality: a.criticality ?? 'low',
      environment: a.environment ?? 'prod',
      complexity: a.complexity ?? 'low',
      tags: a.tags ?? {},
    })
    for (let i = 1; i <= (a.servers ?? 2); i++) {
      const util = i > (a.noUtil ?? 0) ? {utilization: {cpuP95: 50}} : {}
      inv.servers!.push({
        id: `${a.name}-${i}`,
        name: `${a.name}-${i}`,
        provider: 'onprem',
        vcpus: a.vcpus ?? 4,
        memoryMiB: (a.vcpus ?? 4) * 4096,
        disks: [{name: 'sda', sizeGiB: a.disk ?? 100}],
        os: {family: 'linux'},
        application: a.name,
        role: i === 1 && a.db ? 'database' : 'app',
        ...util,
      })
    }
    if (a.db)
      inv.databases!.push({
        id: `${a.name}-${a.db}`,
        name: a.name,
        engine: a.db,
        serverId: `${a.name}-1`,
        sizeGiB: 200,
        application: a.name,
      })
  }
  for (const [from, to, latency] of deps)
    inv.dependencies!.push({from, to, latencySensitive: latency ?? false, learnt: 'observed'})
  return Inventory.parse(inv)
}

const base: PlanSettingsInput = {
  startDate: '2027-01-04',
  timezone: 'Asia/Jakarta',
  pilot: {apps: 1},
  ramp: {earlyWaves: 2, earlyServers: 10},
  capacity: {apps: 3, servers: 20, dataTiB: 20, critical: 1},
}
const settings = (extra: Partial<PlanSettingsInput> = {}) => PlanSettings.parse({...base, ...extra})
const waveOf = (plan: ReturnType<typeof assemblePlan>, name: string) =>
  plan.applications.find((a) => a.name === name)!.wave

function error(fn: () => unknown): MigrateError {
  try {
    fn()
  } catch (e) {
    if (isMigrateError(e)) return e
    throw e
  }
  throw new Error('expected an error')
}

describe('assemblePlan', () => {
  const inv = estate(
    [
      {name: 'web', criticality: 'critical', complexity: 'high', db: 'postgres'},
      {name: 'api', criticality: 'high'},
      {name: 'cache', db: 'redis', servers: 1},
      {name: 'batch'},
      {name: 'wiki'},
      {name: 'old', tags: {lifecycle: 'retire'}},
      {name: 'a1'},
      {name: 'a2'},
      {name: 'devbox', environment: 'dev'},
    ],
    [
      ['web', 'api'],
      ['web', 'cache', true],
      ['api', 'batch'],
      ['batch', 'api'],
      ['a1', 'a2'],
      ['web', 'old'],
    ],
  )

  it('groups cycles and latency-sensitive links, orders dependencies first, keeps critical apps out of early waves', () => {
    const plan = assemblePlan(inv, settings())
    expect(waveOf(plan, 'api')).toBe(waveOf(plan, 'batch'))
    expect(plan.applications.find((a) => a.name === 'api')!.moveGroup).toBe('api+1')
    expect(waveOf(plan, 'web')).toBe(waveOf(plan, 'cache'))
    expect(waveOf(plan, 'web')!).toBeGreaterThanOrEqual(waveOf(plan, 'api')!)
    expect(waveOf(plan, 'web')!).toBeGreaterThan(2)
    expect(waveOf(plan, 'api')!).toBeGreaterThan(2)
    expect(waveOf(plan, 'a2')!).toBeLessThanOrEqual(waveOf(plan, 'a1')!)
    expect(waveOf(plan, 'old')).toBeNull()
    // The pilot: one low-risk application, dev before prod.
    expect(plan.waves[0]).toMatchObject({number: 1, pilot: true, applications: ['devbox'], environment: 'dev'})
    const web = plan.applications.find((a) => a.name === 'web')!
    expect(web.reasons[0]).toMatch(new RegExp(`^wave ${web.wave}: depends on api \\(wave ${waveOf(plan, 'api')}\\)`))
    expect(web.reasons.join('\n')).toMatch(/moves with cache \(latency-sensitive links\)/)
    expect(plan.applications.find((a) => a.name === 'api')!.reasons[0]).toMatch(
      /high criticality: kept out of the first 2 prod waves/,
    )
  })

  it('chooses strategies, templates and targets per cloud', () => {
    const plan = assemblePlan(
      inv,
      settings({
        targets: {wiki: {cloud: 'alicloud', region: 'ap-southeast-5'}},
        strategyRules: [{match: {app: 'batch'}, strategy: 'relocate', template: 'vmware-relocate'}],
      }),
    )
    const app = (n: string) => plan.applications.find((a) => a.name === n)!
    expect(app('web')).toMatchObject({
      strategy: 'replatform',
      template: 'aws-mgn-rehost',
      target: {cloud: 'aws', region: 'ap-southeast-3'},
    })
    // A database mapped to a managed class gets the managed runbook, and what the resource must have before its wave.
    expect(app('web').databases).toEqual([
      expect.objectContaining({
        id: 'web-postgres',
        service: 'aws:rds-postgres',
        instanceClass: 'db.m6i.xlarge',
        template: 'postgres-rds',
        engine: 'postgres',
      }),
    ])
    expect(app('web').databases[0].requires).toMatchObject({'rds.logical_replication': expect.stringMatching(/^1 /)})
    // The database server is replaced by the managed service, the other is rehosted.
    expect(app('web').servers.map((s) => s.id)).toEqual(['web-2'])
    expect(app('cache')).toMatchObject({strategy: 'replatform', template: 'redis-elasticache', servers: []})
    expect(app('cache').params).toMatchObject({
      replication_group_id: expect.stringMatching(/^cache-[a-z0-9-]+$/),
      region: 'ap-southeast-3',
    })
    expect(app('cache').databases[0].requires).toMatchObject({'Multi-AZ': 'enabled', 'cluster mode': 'disabled'})
    expect(app('wiki')).toMatchObject({template: 'alicloud-smc-rehost', target: {cloud: 'alicloud'}})
    expect(app('wiki').servers[0].instanceType).toBe('ecs.g7.xlarge')
    expect(app('api').servers[0].instanceType).toBe('m6i.xlarge')
    expect(app('batch')).toMatchObject({strategy: 'relocate', template: 'vmware-relocate'})
    expect(app('old')).toMatchObject({strategy: 'retire', template: 'none', wave: null, servers: []})
  })

  it('honours together and before constraints and notBefore pins', () => {
    const plan = assemblePlan(
      inv,
      settings({
        constraints: [{together: ['wiki', 'a1']}, {before: ['a2', 'wiki']}],
        pins: [{app: 'batch', notBefore: '2027-03-01'}],
      }),
    )
    expect(waveOf(plan, 'wiki')).toBe(waveOf(plan, 'a1'))
    expect(waveOf(plan, 'a2')!).toBeLessThan(waveOf(plan, 'wiki')!)
    const batchWave = plan.waves.find((w) => w.number === waveOf(plan, 'batch'))!
    expect(batchWave.cutover.start.slice(0, 10) >= '2027-03-01').toBe(true)
    expect(plan.applications.find((a) => a.name === 'batch')!.reasons[0]).toContain('pinned after 2027-03-01')
  })

  it('names contradictions instead of planning around them', () => {
    const cycle = error(() => assemblePlan(inv, settings({constraints: [{before: ['batch', 'api']}]})))
    expect(cycle.code).toBe('CONSTRAINT_CONTRADICTS_GROUP')
    expect(cycle.message).toMatch(/before: \[batch, api\].*move group api, batch/)
    const order = error(() => assemblePlan(inv, settings({constraints: [{before: ['web', 'api']}]})))
    expect(order.code).toBe('CONSTRAINT_CYCLE')
    expect(order.message).toContain('web')
    const pin = error(() =>
      assemblePlan(
        inv,
        settings({
          pins: [
            {app: 'web', wave: 2},
            {app: 'api', wave: 3},
          ],
        }),
      ),
    )
    expect(pin.code).toBe('PIN_CONTRADICTS_ORDER')
    expect(pin.message).toMatch(/"web" is pinned to wave 2, but it depends .* on "api", which is pinned to wave 3/)
    const unknown = error(() => assemblePlan(inv, settings({pins: [{app: 'wkii', wave: 2}]})))
    expect(unknown.code).toBe('UNKNOWN_APP')
    const deadline = error(() => assemblePlan(inv, settings({deadline: '2027-02-15', waveCadenceDays: 14})))
    expect(deadline.code).toBe('DEADLINE_UNREACHABLE')
    expect(deadline.data).toMatchObject({deadline: '2027-02-15'})
    expect(deadline.hint).toMatch(/meets the deadline when re-planned|No single change of a limit meets it/)
    const unassigned = error(() => assemblePlan(Inventory.parse({...inv, unassigned: ['web-1']}), settings()))
    expect(unassigned.code).toBe('UNASSIGNED_SERVERS')
  })

  it('turns rules off when they are removed from settings.rules', () => {
    const plan = assemblePlan(
      inv,
      settings({rules: ['move-groups-together', 'dependencies-first', 'capacity'], pilot: {apps: 0}}),
    )
    // Without critical-not-early and small early waves, the critical web app may go early: waves fill to capacity.
    expect(plan.waves[0].applications.length).toBe(3)
  })
})

const envWaveIndex = (plan: ReturnType<typeof assemblePlan>, wave: number, env: string) =>
  plan.waves.filter(
    (w) =>
      w.number <= wave &&
      w.applications.some((a) => plan.applications.find((p) => p.name === a) && envOf.get(a) === env),
  ).length
const envOf = new Map<string, string>()
function remember(inv: Inventory): Inventory {
  for (const a of inv.applications) envOf.set(a.name, a.environment)
  return inv
}

describe('the ramp per environment', () => {
  // Dev and staging first, then 20 production applications, four of them critical and four complex.
  const apps: AppSpec[] = [
    {name: 'dev-a', environment: 'dev'},
    {name: 'dev-b', environment: 'dev'},
    {name: 'stg-a', environment: 'staging'},
    {name: 'stg-b', environment: 'staging'},
    {name: 'stg-c', environment: 'staging'},
  ]
  for (let i = 0; i < 20; i++)
    apps.push({
      name: `prod-${String(i).padStart(2, '0')}`,
      servers: 4,
      criticality: i % 5 === 0 ? 'critical' : 'low',
      complexity: i % 5 === 1 ? 'high' : 'low',
    })
  const inv = remember(estate(apps, []))
  const ramped = settings({
    ramp: {earlyWaves: 3, earlyServers: 10},
    pilot: {apps: 2},
    capacity: {apps: 8, servers: 40, dataTiB: 20, critical: 2},
  })

  it('starts production small with a low-risk pilot, and keeps critical and complex apps out of its first waves', () => {
    const plan = assemblePlan(inv, ramped)
    const prodWaves = plan.waves.filter((w) => w.environment === 'prod')
    const first = prodWaves[0]
    expect(first.number).toBeGreaterThan(1) // dev and staging went first
    expect(first.pilot).toBe(true)
    expect(first.applications.length).toBeLessThanOrEqual(2)
    expect(first.servers).toBeLessThanOrEqual(10)
    for (const w of prodWaves.slice(0, 3)) {
      expect(w.servers).toBeLessThanOrEqual(10)
      for (const a of w.applications)
        expect(apps.find((x) => x.name === a)).toMatchObject({criticality: 'low', complexity: 'low'})
    }
    // Each critical app after the first three production waves, and its reason says so from the final placement.
    for (const a of plan.applications.filter((x) => apps.find((y) => y.name === x.name)!.criticality === 'critical')) {
      expect(envWaveIndex(plan, a.wave!, 'prod')).toBeGreaterThan(3)
      const r = a.reasons[0]
      if (/kept out of the first 3 prod waves/.test(r)) expect(envWaveIndex(plan, a.wave!, 'prod')).toBeGreaterThan(3)
    }
    expect(plan.metrics.rulesViolated).toBe(0)
  })

  it('counts the ramp in production waves even when dev and staging take many waves', () => {
    const many = remember(
      estate(
        [
          ...apps.slice(0, 5),
          ...Array.from({length: 6}, (_, i): AppSpec => ({name: `dev-x${i}`, environment: 'dev'})),
          ...apps.slice(5),
        ],
        [],
      ),
    )
    const plan = assemblePlan(many, ramped)
    const first = plan.waves.find((w) => w.environment === 'prod')!
    expect(first.applications.length).toBeLessThanOrEqual(2)
    expect(
      first.applications.every((a) => a.startsWith('prod-') && apps.find((x) => x.name === a)!.criticality === 'low'),
    ).toBe(true)
  })

  it('spreads low-risk dev apps over the early dev waves so complex ones wait, unchanged by an unrelated prod app', () => {
    const dev: AppSpec[] = ['a', 'b', 'c'].map((n) => ({name: `dev-low-${n}`, environment: 'dev'}))
    dev.push(...['a', 'b', 'c'].map((n): AppSpec => ({name: `dev-cx-${n}`, environment: 'dev', complexity: 'high'})))
    const s = settings({
      ramp: {earlyWaves: 3, earlyServers: 10},
      pilot: {apps: 1},
      capacity: {apps: 6, servers: 40, dataTiB: 20, critical: 2},
    })
    for (const extra of [[], [{name: 'prod-lone'} as AppSpec]]) {
      const e = remember(estate([...dev, ...extra], []))
      const plan = assemblePlan(e, s)
      expect(plan.metrics.rulesViolated ?? 0).toBe(0)
      for (const a of plan.applications.filter((x) => x.name.startsWith('dev-cx')))
        expect(envWaveIndex(plan, a.wave!, 'dev')).toBeGreaterThan(3)
      for (const a of plan.applications.filter((x) => x.name.startsWith('dev-low')))
        expect(envWaveIndex(plan, a.wave!, 'dev')).toBeLessThanOrEqual(3)
      for (const a of plan.applications) expect(a.reasons[0]).not.toMatch(/nothing else could move/)
    }
  })

  it('picks as pilot the least risky application that teaches the most (a staging pilot ahead of dev waves)', () => {
    // No dev app is ready first: the dev apps depend on staging ones. The common runbook (aws-mgn-rehost, used by the
    // production apps too) teaches more than the one-off alicloud target; medium criticality is riskier than low.
    const e = estate(
      [
        {name: 'stg-a-rare', environment: 'staging'},
        {name: 'stg-b-common', environment: 'staging'},
        {name: 'stg-medium', environment: 'staging', criticality: 'medium'},
        {name: 'dev-1', environment: 'dev'},
        {name: 'p1'},
        {name: 'p2'},
        {name: 'p3'},
      ],
      [
        ['dev-1', 'stg-a-rare'],
        ['dev-1', 'stg-b-common'],
        ['dev-1', 'stg-medium'],
      ],
    )
    const plan = assemblePlan(
      e,
      settings({targets: {'stg-a-rare': {cloud: 'alicloud', region: 'ap-southeast-5'}}, pilot: {apps: 1}}),
    )
    expect(plan.waves[0]).toMatchObject({pilot: true, environment: 'staging', applications: ['stg-b-common']})
    expect(plan.applications.find((a) => a.name === 'stg-b-common')!.reasons[0]).toMatch(/^wave 1: pilot/)
  })
})

describe('honest advice, pin errors and ratings', () => {
  const crit = estate(
    Array.from({length: 10}, (_, i): AppSpec => ({name: `c${i}`, criticality: i < 6 ? 'critical' : 'low'})),
    [],
  )
  const tight = settings({
    deadline: '2027-02-13',
    waveCadenceDays: 7,
    capacity: {apps: 3, servers: 20, dataTiB: 20, critical: 1},
    ramp: {earlyWaves: 1, earlyServers: 10},
  })

  it('advises only changes that meet the deadline when re-planned, names the binding limit, and never lowers one', () => {
    const e = error(() => assemblePlan(crit, tight))
    expect(e.code).toBe('DEADLINE_UNREACHABLE')
    expect(e.message).toMatch(/as it stands(, waves 1–\d+ cut over by 2027-02-13: \d+ of 10 applications| no wave)/)
    const advice = (
      e.data as {advice: {limit: string; from: string; to: string; settings: Partial<PlanSettingsInput>}[]}
    ).advice
    expect(advice.map((a) => a.limit)).toContain('capacity.critical')
    expect(e.hint).toMatch(/capacity.critical 1 → \d+ \(the critical count binds/)
    for (const a of advice) {
      // Applied exactly as advised, the plan meets the deadline.
      const plan = assemblePlan(crit, PlanSettings.parse({...tight, ...a.settings}))
      expect(plan.waves.at(-1)!.cutover.start.slice(0, 10) <= '2027-02-13').toBe(true)
      if (/^capacity\.|^ramp\./.test(a.limit)) expect(Number(a.to)).toBeGreaterThan(Number(a.from))
      if (a.limit === 'waveCadenceDays') expect(Number(a.to)).toBeLessThan(Number(a.from))
    }
    // A cadence already at its minimum is never advised shorter.
    const daily = error(() =>
      assemblePlan(
        crit,
        PlanSettings.parse({
          ...tight,
          waveCadenceDays: 1,
          cutoverWindows: [{days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '01:00', end: '05:00'}],
          deadline: '2027-01-13',
        }),
      ),
    )
    expect(daily.code).toBe('DEADLINE_UNREACHABLE')
    expect(JSON.stringify(daily.data)).not.toMatch(/waveCadenceDays/)
    expect(daily.hint).not.toMatch(/cadence 1 →|waveCadenceDays 1/)
  })

  it('names a binding pin in the advice', () => {
    const e = error(() =>
      assemblePlan(
        crit,
        PlanSettings.parse({
          ...tight,
          capacity: {apps: 3, servers: 20, dataTiB: 20, critical: 6},
          deadline: '2027-03-01',
          pins: [{app: 'c9', notBefore: '2027-03-20'}],
        }),
      ),
    )
    expect(e.code).toBe('DEADLINE_UNREACHABLE')
    expect(e.hint).toMatch(/pins c9 not before 2027-03-20 → removed \(the pin of c9 binds/)
  })

  it("pin errors name the real cause: a dependency's notBefore, the critical limit, a pin far ahead", () => {
    const e = estate(
      [
        {name: 'front'},
        {name: 'back'},
        {name: 'x1'},
        {name: 'x2'},
        {name: 'k1', criticality: 'critical'},
        {name: 'k2', criticality: 'critical'},
      ],
      [['front', 'back']],
    )
    const s = settings({
      ramp: {earlyWaves: 0, earlyServers: 10},
      capacity: {apps: 3, servers: 20, dataTiB: 20, critical: 1},
    })
    const nb = error(() =>
      assemblePlan(
        e,
        PlanSettings.parse({
          ...s,
          pins: [
            {app: 'front', wave: 2},
            {app: 'back', notBefore: '2027-06-01'},
          ],
        }),
      ),
    )
    expect(nb.code).toBe('PIN_CONTRADICTS_ORDER')
    expect(nb.message).toMatch(/"front" is pinned to wave 2 .*"back" may not move before 2027-06-01/)
    expect(nb.message).not.toMatch(/capacity/)
    const critical = error(() =>
      assemblePlan(
        e,
        PlanSettings.parse({
          ...s,
          pins: [
            {app: 'k1', wave: 2},
            {app: 'k2', wave: 2},
          ],
        }),
      ),
    )
    expect(critical.code).toBe('PIN_OVER_CAPACITY')
    expect(critical.message).toMatch(/2 high\/critical applications \(capacity.critical 1\)/)
    expect(critical.hint).toMatch(/settings.capacity.critical to 2/)
    expect(critical.hint).not.toMatch(/capacity.apps|capacity.servers/)
    const far = error(() => assemblePlan(e, PlanSettings.parse({...s, pins: [{app: 'x1', wave: 20}]})))
    expect(far.code).toBe('PIN_LEAVES_EMPTY_WAVES')
    expect(far.message).toMatch(/"x1" is pinned to wave 20, .* waves \d+–19 would be empty/)
  })

  it('rates confidence from missing utilisation and a wave at its limit, never "well inside" then', () => {
    const e = estate(
      [
        {name: 'u1', servers: 4, noUtil: 3},
        {name: 'u2', servers: 4},
        {name: 'u3', servers: 4},
        {name: 'u4', servers: 4, criticality: 'high'},
      ],
      [],
    )
    const plan = assemblePlan(
      e,
      settings({
        pilot: {apps: 0},
        ramp: {earlyWaves: 0, earlyServers: 10},
        capacity: {apps: 2, servers: 8, dataTiB: 20, critical: 1},
      }),
    )
    for (const w of plan.waves) {
      const missing = w.applications.reduce((n, a) => n + (a === 'u1' ? 3 : 0), 0)
      const text = w.reasons.join('\n')
      if (missing > 0) {
        expect(text).toContain(`utilisation unknown for ${missing} of ${w.servers} servers`)
        expect(w.confidence).toBeLessThanOrEqual(3)
      }
      if (w.applications.length === 2 || w.servers === 8) {
        expect(text).toMatch(/at its limit/)
        expect(w.confidence).toBeLessThan(5)
      }
      if (/well inside capacity/.test(text))
        expect(missing === 0 && w.applications.length < 2 && w.servers < 8).toBe(true)
    }
  })
})

describe('stable re-plans', () => {
  const apps: AppSpec[] = Array.from({length: 24}, (_, i) => ({
    name: `s${String(i).padStart(2, '0')}`,
    servers: 3,
    vcpus: 16,
    criticality: i % 7 === 3 ? 'high' : 'low',
  }))
  // A few short chains: every sixth application starts one that the next two depend on.
  const deps: [string, string][] = apps
    .filter((_, i) => i % 6 === 1 || i % 6 === 2)
    .map((a) => [a.name, apps[apps.indexOf(a) - 1].name])
  const s = settings({
    pilot: {apps: 1},
    ramp: {earlyWaves: 2, earlyServers: 10},
    capacity: {apps: 4, servers: 12, dataTiB: 1, critical: 1},
  })

  it('moves few applications for a one-server change, and the diff names the server and its new size', async () => {
    const {diffPlans} = await import('../../src/plan-file.js')
    const first = assemblePlan(estate(apps, deps), s)
    // One server grows: a big disk (its wave no longer holds the data) and more vCPUs.
    const bigger = estate(
      apps.map((a) => (a.name === 's12' ? {...a, disk: 150, vcpus: 32} : a)),
      deps,
    )
    const second = assemblePlan(bigger, s, {plan: first, startedWaves: []})
    const d = diffPlans(first, second)
    expect(d.appsMoved).toBeLessThanOrEqual(Math.ceil(apps.length * 0.1))
    expect(d.targets).toContainEqual(
      expect.objectContaining({
        app: 's12',
        id: 's12-1',
        kind: 'server',
        from: first.applications.find((a) => a.name === 's12')!.servers[0].instanceType,
      }),
    )
    expect(d.targets.find((t) => t.id === 's12-1')!.to).not.toBe(d.targets.find((t) => t.id === 's12-1')!.from)
    // Without the previous plan, the same change moves more (this is what the stability buys).
    const fresh = diffPlans(first, assemblePlan(bigger, s))
    expect(fresh.appsMoved).toBeGreaterThanOrEqual(d.appsMoved)
    // Re-planning the same inventory with the previous plan changes nothing.
    expect(JSON.stringify(assemblePlan(estate(apps, deps), s, {plan: first, startedWaves: []}))).toBe(
      JSON.stringify(first),
    )
  })

  it('keeps a started wave with its pilot flag and replication days', () => {
    const first = assemblePlan(estate(apps, deps), s)
    expect(first.waves[0].pilot).toBe(true)
    const other = PlanSettings.parse({...s, waveCadenceDays: 21, capacity: {...s.capacity, apps: 5}})
    const again = assemblePlan(estate(apps, deps), other, {plan: first, startedWaves: [1, 2]})
    for (const n of [1, 2]) {
      const [a, b] = [first.waves[n - 1], again.waves[n - 1]]
      expect(b).toMatchObject({
        pilot: a.pilot,
        replicationDays: a.replicationDays,
        applications: a.applications,
        cutover: a.cutover,
        name: a.name,
      })
    }
  })
})
