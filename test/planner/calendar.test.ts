// The calendar: time zones through Intl, blackouts (monthly to month end, fixed dates), cutover windows that skip
// past blackouts, replication estimates; and target sizing from the shipped catalogs.
import {describe, expect, it} from 'vitest'
import {
  Calendar,
  formatDay,
  localIso,
  parseDay,
  replicationDays,
  tzOffsetMinutes,
  weekdayOf,
} from '../../src/planner/calendar.js'
import {loadCatalogs, Sizer} from '../../src/planner/sizing.js'
import {PlanSettings} from '../../src/schema/plan.js'
import type {Server} from '../../src/schema/inventory.js'

const jakarta = PlanSettings.parse({
  startDate: '2027-01-04',
  timezone: 'Asia/Jakarta',
  cutoverWindows: [{days: ['sat'], start: '23:00', end: '03:00'}],
  blackouts: [
    {name: 'sales', monthly: {fromDay: 25, toDay: 'end'}},
    {name: 'Lebaran', from: '2027-03-06', to: '2027-03-14'},
  ],
})

describe('calendar', () => {
  it('knows weekdays and converts local times with the zone offset', () => {
    expect(weekdayOf(parseDay('2027-01-04'))).toBe('mon')
    expect(formatDay(parseDay('2027-02-28') + 1)).toBe('2027-03-01')
    expect(tzOffsetMinutes('Asia/Jakarta', Date.UTC(2027, 0, 1))).toBe(420)
    expect(localIso('Asia/Jakarta', parseDay('2027-01-09'), 60)).toBe('2027-01-09T01:00:00+07:00')
    // Daylight saving: Berlin is +01:00 in January and +02:00 in July.
    expect(localIso('Europe/Berlin', parseDay('2027-01-09'), 60)).toBe('2027-01-09T01:00:00+01:00')
    expect(localIso('Europe/Berlin', parseDay('2027-07-10'), 60)).toBe('2027-07-10T01:00:00+02:00')
    expect(localIso('UTC', parseDay('2027-07-10'), 0)).toBe('2027-07-10T00:00:00Z')
  })

  it('covers the 25th to the end of every month, February included, and fixed dates', () => {
    const cal = new Calendar(jakarta)
    expect(cal.blackoutOn(parseDay('2027-01-24'))).toBeUndefined()
    expect(cal.blackoutOn(parseDay('2027-01-25'))).toBe('sales')
    expect(cal.blackoutOn(parseDay('2027-01-31'))).toBe('sales')
    expect(cal.blackoutOn(parseDay('2027-02-28'))).toBe('sales')
    expect(cal.blackoutOn(parseDay('2027-03-01'))).toBeUndefined()
    expect(cal.blackoutOn(parseDay('2027-03-10'))).toBe('Lebaran')
  })

  it('skips cutover windows that touch a blackout, including the day a window ends on', () => {
    const cal = new Calendar(jakarta)
    // Saturday 2027-01-23 23:00 to Sunday 01-24 03:00 is free; Saturday 01-30 is in the sales event.
    expect(formatDay(cal.nextCutover(parseDay('2027-01-18')).day)).toBe('2027-01-23')
    const slot = cal.nextCutover(parseDay('2027-01-24'))
    expect(formatDay(slot.day)).toBe('2027-02-06')
    expect(slot.skipped).toEqual(['sales'])
    // Lebaran: 03-06 and 03-13 are out; 03-20 is the next window.
    expect(formatDay(cal.nextCutover(parseDay('2027-03-01')).day)).toBe('2027-03-20')
    // A window on the 24th that ends after midnight on the 25th touches the blackout.
    const fri = new Calendar(
      PlanSettings.parse({...jakarta, cutoverWindows: [{days: ['sun'], start: '22:00', end: '02:00'}]}),
    )
    expect(formatDay(fri.nextCutover(parseDay('2027-01-24')).day)).toBe('2027-02-07')
    expect(cal.cutoverBlackout('2027-01-30T23:00:00+07:00', '2027-01-31T03:00:00+07:00')).toBe('sales')
    expect(cal.cutoverBlackout('2027-01-23T23:00:00+07:00', '2027-01-24T03:00:00+07:00')).toBeUndefined()
  })

  it('estimates replication days from size × 0.7 over the bandwidth, slowed by the change rate', () => {
    // 10 TiB × 0.7 at 1 Gbit/s ≈ 61,600 s → 1 day.
    expect(replicationDays(10240, 0, 1000)).toBe(1)
    // 50 TiB at 100 Mbit/s ≈ 35.6 days → 36.
    expect(replicationDays(51200, 0, 100)).toBe(36)
    // A change rate eating half the link doubles the time.
    expect(replicationDays(51200, 527, 100)).toBeGreaterThan(70)
    expect(replicationDays(100, 2000, 100)).toBe(Number.POSITIVE_INFINITY)
    expect(replicationDays(0, 0, 100)).toBe(0)
  })
})

describe('target sizing', () => {
  const server = (vcpus: number, gib: number, cpuP95?: number, memP95?: number): Server =>
    ({
      id: 's',
      name: 's',
      provider: 'onprem',
      vcpus,
      memoryMiB: gib * 1024,
      disks: [],
      os: {family: 'linux'},
      privateIps: [],
      publicIps: [],
      state: 'running',
      tags: {},
      ...(cpuP95 !== undefined ? {utilization: {cpuP95, memoryP95: memP95}} : {}),
    }) as Server
  const catalogs = loadCatalogs()
  it('picks the smallest type with at least the vCPUs and memory', () => {
    const aws = new Sizer(catalogs.aws)
    expect(aws.sizeServer(server(4, 16)).instanceType).toBe('m6i.xlarge')
    expect(aws.sizeServer(server(4, 8)).instanceType).toBe('c6i.xlarge')
    expect(aws.sizeServer(server(4, 32)).instanceType).toBe('r6i.xlarge')
    expect(aws.sizeServer(server(3, 12)).instanceType).toBe('m6i.xlarge')
    const ali = new Sizer(catalogs.alicloud)
    expect(ali.sizeServer(server(8, 32)).instanceType).toBe('ecs.g7.2xlarge')
    expect(ali.sizeServer(server(12, 48)).instanceType).toBe('ecs.g7.3xlarge')
  })
  it('goes one step down when p95 CPU is low', () => {
    const aws = new Sizer(catalogs.aws)
    const s = aws.sizeServer(server(8, 32, 10, 30))
    expect(s.instanceType).toBe('m6i.xlarge')
    expect(s.reason).toContain('one step down')
    // Memory busy: keep the memory, halve the vCPUs.
    expect(aws.sizeServer(server(8, 32, 10, 80)).instanceType).toBe('r6i.xlarge')
    expect(aws.sizeServer(server(8, 32, 60, 30)).instanceType).toBe('m6i.2xlarge')
  })
  it('maps databases to managed classes by host size or data volume', () => {
    const aws = new Sizer(catalogs.aws)
    const pg = {
      id: 'db',
      name: 'db',
      engine: 'postgres',
      sizeGiB: 300,
      managed: false,
      role: 'primary',
      tags: {},
    } as const
    expect(aws.sizeDatabase(pg as never, server(16, 64))).toMatchObject({
      service: 'aws:rds-postgres',
      instanceClass: 'db.m6i.4xlarge',
    })
    expect(aws.sizeDatabase(pg as never, undefined)).toMatchObject({instanceClass: 'db.m6i.xlarge'})
    const redis = {...pg, engine: 'redis', sizeGiB: 20}
    expect(aws.sizeDatabase(redis as never, undefined)).toMatchObject({
      service: 'aws:elasticache-redis',
      instanceClass: 'cache.m6g.2xlarge',
    })
    expect(new Sizer(catalogs.alicloud).sizeDatabase(redis as never, undefined)).toMatchObject({
      service: 'alicloud:tair-redis',
      instanceClass: 'redis.master.4xlarge.default',
    })
    expect(aws.sizeDatabase({...pg, engine: 'mongodb'} as never, undefined)).toBeUndefined()
  })
})
