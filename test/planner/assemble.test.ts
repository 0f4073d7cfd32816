// assemblePlan on small hand-built estates: strategies and templates, targets per cloud, move groups from cycles,
// latency-sensitive links and `together`, the pilot, critical applications kept out of the early waves, reasons,
// and the errors for contradictions and unreachable deadlines.
import {describe, expect, it} from 'vitest'
import {isMigrateError, type MigrateError} from '../../src/errors.js'
import {assemblePlan} from '../../src/planner/assemble-plan.js'
import {Inventory, type InventoryInput} from '../../src/schema/inventory.js'
import {PlanSettings, type PlanSettingsInput} from '../../src/schema/plan.js'

type AppSpec = {name: string; servers?: number; criticality?: 'low' | 'medium' | 'high' | 'critical'; environment?: 'dev' | 'test' | 'staging' | 'prod'; complexity?: 'low' | 'medium' | 'high'; tags?: Record<string, string>; db?: 'postgres' | 'mysql' | 'redis'}

function estate(apps: AppSpec[], deps: [string, string, boolean?][]): Inventory {
  const inv: InventoryInput = {apiVersion: 'migrate/v1', kind: 'Inventory', metadata: {name: 'test'}, applications: [], servers: [], databases: [], dependencies: []}
  for (const a of apps) {
    inv.applications!.push({name: a.name, criticality: a.criticality ?? 'low', environment: a.environment ?? 'prod', complexity: a.complexity ?? 'low', tags: a.tags ?? {}})
    for (let i = 1; i <= (a.servers ?? 2); i++) {
      inv.servers!.push({id: `${a.name}-${i}`, name: `${a.name}-${i}`, provider: 'onprem', vcpus: 4, memoryMiB: 16384, disks: [{name: 'sda', sizeGiB: 100}], os: {family: 'linux'}, application: a.name, role: i === 1 && a.db ? 'database' : 'app', utilization: {cpuP95: 50}})
    }
    if (a.db) inv.databases!.push({id: `${a.name}-${a.db}`, name: a.name, engine: a.db, serverId: `${a.name}-1`, sizeGiB: 200, application: a.name})
  }
  for (const [from, to, latency] of deps) inv.dependencies!.push({from, to, latencySensitive: latency ?? false, learnt: 'observed'})
  return Inventory.parse(inv)
}

const base: PlanSettingsInput = {startDate: '2027-01-04', timezone: 'Asia/Jakarta', pilot: {apps: 1}, ramp: {earlyWaves: 2, earlyServers: 10}, capacity: {apps: 3, servers: 20, dataTiB: 20, critical: 1}}
const settings = (extra: Partial<PlanSettingsInput> = {}) => PlanSettings.parse({...base, ...extra})
const waveOf = (plan: ReturnType<typeof assemblePlan>, name: string) => plan.applications.find((a) => a.name === name)!.wave

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
    expect(plan.applications.find((a) => a.name === 'api')!.reasons[0]).toMatch(/high criticality: kept out of waves 1–2/)
  })

  it('chooses strategies, templates and targets per cloud', () => {
    const plan = assemblePlan(inv, settings({targets: {wiki: {cloud: 'alicloud', region: 'ap-southeast-5'}}, strategyRules: [{match: {app: 'batch'}, strategy: 'relocate', template: 'vmware-relocate'}]}))
    const app = (n: string) => plan.applications.find((a) => a.name === n)!
    expect(app('web')).toMatchObject({strategy: 'replatform', template: 'aws-mgn-rehost', target: {cloud: 'aws', region: 'ap-southeast-3'}})
    expect(app('web').databases).toEqual([expect.objectContaining({id: 'web-postgres', service: 'aws:rds-postgres', instanceClass: 'db.m6i.xlarge', template: 'postgres-logical-replication'})])
    // The database server is replaced by the managed service, the other is rehosted.
    expect(app('web').servers.map((s) => s.id)).toEqual(['web-2'])
    expect(app('cache')).toMatchObject({strategy: 'replatform', template: 'redis-replicaof', servers: []})
    expect(app('wiki')).toMatchObject({template: 'alicloud-smc-rehost', target: {cloud: 'alicloud'}})
    expect(app('wiki').servers[0].instanceType).toBe('ecs.g7.xlarge')
    expect(app('api').servers[0].instanceType).toBe('m6i.xlarge')
    expect(app('batch')).toMatchObject({strategy: 'relocate', template: 'vmware-relocate'})
    expect(app('old')).toMatchObject({strategy: 'retire', template: 'none', wave: null, servers: []})
  })

  it('honours together and before constraints and notBefore pins', () => {
    const plan = assemblePlan(inv, settings({constraints: [{together: ['wiki', 'a1']}, {before: ['a2', 'wiki']}], pins: [{app: 'batch', notBefore: '2027-03-01'}]}))
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
    const pin = error(() => assemblePlan(inv, settings({pins: [{app: 'web', wave: 2}, {app: 'api', wave: 3}]})))
    expect(pin.code).toBe('PIN_CONTRADICTS_ORDER')
    expect(pin.message).toMatch(/"web" is pinned to wave 2, but it depends .* on "api", which is pinned to wave 3/)
    const unknown = error(() => assemblePlan(inv, settings({pins: [{app: 'wkii', wave: 2}]})))
    expect(unknown.code).toBe('UNKNOWN_APP')
    const deadline = error(() => assemblePlan(inv, settings({deadline: '2027-02-15', waveCadenceDays: 14})))
    expect(deadline.code).toBe('DEADLINE_UNREACHABLE')
    expect(deadline.data).toMatchObject({deadline: '2027-02-15'})
    expect(deadline.hint).toMatch(/more waves? would be needed/)
    const unassigned = error(() => assemblePlan(Inventory.parse({...inv, unassigned: ['web-1']}), settings()))
    expect(unassigned.code).toBe('UNASSIGNED_SERVERS')
  })

  it('turns rules off when they are removed from settings.rules', () => {
    const plan = assemblePlan(inv, settings({rules: ['move-groups-together', 'dependencies-first', 'capacity'], pilot: {apps: 0}}))
    // Without critical-not-early and small early waves, the critical web app may go early: waves fill to capacity.
    expect(plan.waves[0].applications.length).toBe(3)
  })
})
