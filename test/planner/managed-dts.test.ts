// The planner on Alibaba Cloud: a MySQL or Redis database mapped to ApsaraDB RDS / Tair gets the DTS runbook, and the
// plan lists, for its wave, the target instance and the DTS job the team must create first.
import {describe, expect, it} from 'vitest'
import {assemblePlan} from '../../src/planner/assemble-plan.js'
import {managedResourceLines, managedResources} from '../../src/planner/managed.js'
import {Inventory} from '../../src/schema/inventory.js'
import {PlanSettings} from '../../src/schema/plan.js'

const inv = Inventory.parse({
  apiVersion: 'migrate/v1',
  kind: 'Inventory',
  metadata: {name: 'shop'},
  applications: [{name: 'shop'}, {name: 'cache'}],
  servers: ['shop', 'cache'].map((a) => ({
    id: `${a}-db`,
    name: `${a}-db`,
    provider: 'onprem',
    vcpus: 4,
    memoryMiB: 16384,
    disks: [{name: 'sda', sizeGiB: 100}],
    os: {family: 'linux'},
    application: a,
    role: 'database',
    utilization: {cpuP95: 40},
  })),
  databases: [
    {
      id: 'shop-mysql',
      name: 'shop',
      engine: 'mysql',
      version: '8.0',
      serverId: 'shop-db',
      sizeGiB: 50,
      application: 'shop',
    },
    {id: 'cache-redis', name: 'cache', engine: 'redis', serverId: 'cache-db', sizeGiB: 4, application: 'cache'},
  ],
})

describe('planner: Alibaba Cloud managed databases', () => {
  it('picks the DTS runbooks and lists the DTS job and the target instance per wave', () => {
    const plan = assemblePlan(
      inv,
      PlanSettings.parse({
        startDate: '2027-01-04',
        targets: {
          shop: {cloud: 'alicloud', region: 'ap-southeast-5'},
          cache: {cloud: 'alicloud', region: 'ap-southeast-5'},
        },
      }),
    )
    const app = (n: string) => plan.applications.find((a) => a.name === n)!
    expect(app('shop')).toMatchObject({
      template: 'alicloud-dts-mysql',
      params: {engine: 'mysql', database: 'shop', region: 'ap-southeast-5'},
    })
    expect(app('cache')).toMatchObject({template: 'alicloud-dts-redis', params: {region: 'ap-southeast-5'}})
    const rs = managedResources(plan)
    expect(rs.map((r) => [r.app, r.template, r.service])).toEqual(
      expect.arrayContaining([
        ['shop', 'alicloud-dts-mysql', 'alicloud:rds-mysql'],
        ['cache', 'alicloud-dts-redis', 'alicloud:tair-redis'],
      ]),
    )
    for (const r of rs) {
      expect(r.wave).toBe(app(r.app).wave)
      expect(r.requires['DTS job']).toMatch(/job id → dts_job_id/)
      expect(r.requires['target instance']).toMatch(/→ target_instance_id/)
    }
    expect(rs.find((r) => r.app === 'shop')!.requires['source binlog']).toMatch(/ROW/)
    expect(managedResourceLines(plan).join('\n')).toMatch(/DTS job: a DTS migration instance for shop-shop-mysql/)
  })
})
