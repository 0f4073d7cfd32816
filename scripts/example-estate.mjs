// Generates the built-in example estate (plans/example/inventory.yaml): a colocation estate modelled on the public
// Tokopedia story (30+ applications on hundreds of VMs, self-managed PostgreSQL, MySQL, MariaDB and Redis). It is
// deterministic (seeded), so the committed file is reproducible: `node scripts/example-estate.mjs`.
import {writeFileSync, renameSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import path from 'node:path'
import {stringify} from 'yaml'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = process.argv[2] ?? path.join(root, 'plans/example/inventory.yaml')

let seed = 20271104
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (xs) => xs[Math.floor(rnd() * xs.length)]

// name, owner team, criticality, environment, complexity, VMs by role, databases [engine, GiB, change GiB/day], tags
const APPS = [
  ['api-gateway', 'platform', 'critical', 'prod', 'high', {lb: 4, api: 8}, []],
  [
    'user-auth',
    'identity',
    'critical',
    'prod',
    'high',
    {web: 4, api: 10},
    [
      ['postgres', 820, 40],
      ['redis', 32, 60],
    ],
  ],
  [
    'payments',
    'payments',
    'critical',
    'prod',
    'high',
    {api: 10, worker: 6},
    [
      ['mysql', 1400, 90],
      ['redis', 16, 20],
    ],
  ],
  ['orders', 'transactions', 'critical', 'prod', 'high', {api: 12, worker: 8}, [['mysql', 2100, 150]]],
  ['inventory-stock', 'transactions', 'critical', 'prod', 'medium', {api: 6, worker: 2}, [['mysql', 420, 35]]],
  ['fraud-detection', 'risk', 'critical', 'prod', 'high', {api: 4, worker: 4}, [['postgres', 310, 12]]],
  ['cart', 'transactions', 'high', 'prod', 'medium', {api: 8}, [['redis', 64, 80]]],
  ['catalog', 'discovery', 'high', 'prod', 'medium', {api: 10, worker: 2}, [['mariadb', 900, 25]]],
  ['search', 'discovery', 'high', 'prod', 'high', {search: 15, api: 6}, []],
  ['pricing', 'discovery', 'high', 'prod', 'medium', {api: 4}, [['postgres', 85, 6]]],
  ['seller-centre', 'merchant', 'high', 'prod', 'medium', {web: 6, api: 8}, [['postgres', 610, 18]]],
  ['logistics', 'fulfilment', 'high', 'prod', 'medium', {api: 8, worker: 4}, [['mysql', 530, 22]]],
  ['mq-broker', 'platform', 'high', 'prod', 'high', {queue: 9}, []],
  ['config-service', 'platform', 'high', 'prod', 'low', {app: 3}, [['postgres', 4, 0.1]]],
  [
    'promo',
    'growth',
    'medium',
    'prod',
    'medium',
    {api: 6},
    [
      ['postgres', 150, 8],
      ['redis', 12, 10],
    ],
  ],
  ['notification', 'growth', 'medium', 'prod', 'low', {worker: 8}, [['redis', 8, 15]]],
  ['image-service', 'media', 'medium', 'prod', 'low', {api: 6, storage: 6}, []],
  ['analytics-pipeline', 'data', 'medium', 'prod', 'high', {batch: 18, worker: 8}, [['postgres', 3100, 120]]],
  ['recommendation', 'data', 'medium', 'prod', 'medium', {api: 6, batch: 4}, [['redis', 48, 30]]],
  ['chat', 'merchant', 'medium', 'prod', 'medium', {api: 6, worker: 4}, [['mariadb', 300, 14]]],
  ['loyalty-points', 'growth', 'medium', 'prod', 'low', {api: 4}, [['mariadb', 120, 4]]],
  ['digital-goods', 'verticals', 'medium', 'prod', 'medium', {api: 4, worker: 2}, [['mysql', 150, 6]]],
  ['log-pipeline', 'platform', 'medium', 'prod', 'medium', {worker: 8}, []],
  ['monitoring', 'sre', 'medium', 'prod', 'low', {app: 4, storage: 2}, []],
  ['feature-flags', 'platform', 'medium', 'prod', 'low', {app: 2}, [['redis', 1, 0.2]]],
  ['reviews', 'discovery', 'low', 'prod', 'low', {api: 4}, [['mariadb', 210, 3]]],
  ['wishlist', 'growth', 'low', 'prod', 'low', {api: 3}, [['redis', 6, 1]]],
  ['help-center', 'care', 'low', 'prod', 'low', {web: 3}, [['mariadb', 40, 0.5]]],
  ['cms', 'care', 'low', 'prod', 'low', {web: 2}, [['mysql', 30, 0.3]]],
  ['internal-admin', 'sre', 'low', 'prod', 'low', {web: 2}, [['postgres', 18, 0.2]]],
  [
    'staging-checkout',
    'transactions',
    'medium',
    'staging',
    'medium',
    {api: 6, worker: 2},
    [
      ['mysql', 120, 2],
      ['redis', 4, 1],
    ],
  ],
  ['staging-discovery', 'discovery', 'low', 'staging', 'medium', {api: 6, search: 3}, [['mariadb', 60, 1]]],
  ['dev-sandbox', 'platform', 'low', 'dev', 'low', {app: 6}, [['postgres', 25, 0.5]]],
  ['legacy-reporting', 'finance', 'low', 'prod', 'low', {batch: 2}, [['mysql', 60, 0.1]], {lifecycle: 'retire'}],
  ['ldap-directory', 'it', 'medium', 'prod', 'low', {app: 2}, [], {lifecycle: 'retain'}],
]

// Declared application dependencies (from → to). search ⇄ catalog and orders ⇄ loyalty-points are tightly coupled.
const DEPS = [
  [
    'api-gateway',
    [
      'user-auth',
      'orders',
      'cart',
      'catalog',
      'search',
      'promo',
      'seller-centre',
      'reviews',
      'wishlist',
      'digital-goods',
    ],
  ],
  ['orders', ['payments', 'cart', 'inventory-stock', 'logistics', 'promo', 'pricing', 'loyalty-points', 'mq-broker']],
  ['payments', ['fraud-detection', 'user-auth', 'notification', 'mq-broker']],
  ['cart', ['catalog', 'pricing', 'promo', 'inventory-stock']],
  ['catalog', ['image-service', 'search', 'pricing']],
  ['search', ['catalog']],
  ['loyalty-points', ['orders']],
  ['seller-centre', ['catalog', 'orders', 'image-service', 'user-auth', 'chat']],
  ['logistics', ['notification', 'mq-broker']],
  ['notification', ['user-auth', 'mq-broker']],
  ['recommendation', ['catalog', 'analytics-pipeline']],
  ['analytics-pipeline', ['log-pipeline', 'mq-broker']],
  ['log-pipeline', ['mq-broker']],
  ['reviews', ['catalog', 'user-auth']],
  ['wishlist', ['catalog', 'user-auth']],
  ['chat', ['user-auth', 'notification']],
  ['digital-goods', ['payments', 'user-auth']],
  ['promo', ['user-auth', 'feature-flags']],
  ['fraud-detection', ['user-auth']],
  ['help-center', ['user-auth']],
  ['internal-admin', ['user-auth', 'config-service']],
  ['monitoring', ['mq-broker']],
  ['staging-checkout', ['staging-discovery']],
]
const CONFIG_USERS = [
  'api-gateway',
  'user-auth',
  'payments',
  'orders',
  'cart',
  'catalog',
  'search',
  'seller-centre',
  'logistics',
  'promo',
  'notification',
  'recommendation',
  'chat',
]

const SIZES = {
  lb: [4, 8],
  api: [8, 16],
  web: [4, 8],
  worker: [8, 32],
  search: [16, 64],
  queue: [8, 32],
  batch: [16, 64],
  app: [4, 8],
  storage: [8, 32],
  database: [16, 64],
  cache: [8, 32],
}
const OSES = [
  {family: 'linux', name: 'CentOS', version: '7.9'},
  {family: 'linux', name: 'CentOS', version: '7.9'},
  {family: 'linux', name: 'Ubuntu', version: '18.04'},
  {family: 'linux', name: 'Ubuntu', version: '20.04'},
  {family: 'linux', name: 'Debian', version: '10'},
]
const DB_VERSION = {postgres: '11.22', mysql: '5.7.44', mariadb: '10.3.39', redis: '5.0.14'}
const DB_PORT = {postgres: 5432, mysql: 3306, mariadb: 3306, redis: 6379}

const applications = []
const servers = []
const databases = []
const dependencies = []
let ip = 10
const nextIp = () => {
  ip++
  return `10.20.${Math.floor(ip / 250)}.${(ip % 250) + 2}`
}

for (const [name, owner, criticality, environment, complexity, roles, dbs, extraTags = {}] of APPS) {
  applications.push({name, owner, criticality, environment, complexity, tags: {team: owner, ...extraTags}})
  const rack = `rack-${String.fromCharCode(65 + Math.floor(rnd() * 8))}`
  const add = (role, n, mem, extra = {}) => {
    const [cpu, memGiB] = SIZES[role]
    const id = `${name}-${role}-${String(n).padStart(2, '0')}`
    const os = pick(OSES)
    const dataDisk =
      role === 'database'
        ? extra.dataGiB
        : role === 'storage'
          ? 2000
          : role === 'search'
            ? 500
            : role === 'batch'
              ? 1000
              : role === 'queue'
                ? 800
                : 100
    const server = {
      id,
      name: id,
      provider: 'onprem',
      region: 'colo-jkt1',
      zone: rack,
      hostname: `${id}.colo.internal`,
      privateIps: [nextIp()],
      vcpus: extra.vcpus ?? cpu,
      memoryMiB: (mem ?? memGiB) * 1024,
      disks: [
        {name: 'sda', sizeGiB: 50, type: 'ssd', usedGiB: 18},
        {
          name: 'sdb',
          sizeGiB: dataDisk,
          type: role === 'storage' || role === 'batch' ? 'hdd' : 'ssd',
          usedGiB: Math.round(dataDisk * (0.4 + rnd() * 0.4)),
        },
      ],
      os,
      state: 'running',
      tags: {app: name, role, env: environment},
      application: name,
      role,
      environment,
    }
    if (rnd() < 0.6)
      server.utilization = {cpuP95: Math.round(5 + rnd() * 70), memoryP95: Math.round(30 + rnd() * 60), days: 30}
    servers.push(server)
    return server
  }
  for (const [role, count] of Object.entries(roles)) for (let i = 1; i <= count; i++) add(role, i)
  dbs.forEach(([engine, sizeGiB, change], k) => {
    const role = engine === 'redis' ? 'cache' : 'database'
    const vcpus = sizeGiB > 1000 ? 32 : sizeGiB > 200 ? 16 : 8
    const memGiB = engine === 'redis' ? Math.max(8, Math.ceil((sizeGiB * 1.5) / 8) * 8) : vcpus * 4
    const primary = add(role, 2 * k + 1, memGiB, {vcpus, dataGiB: Math.ceil(sizeGiB * 1.3)})
    const replica = add(role, 2 * k + 2, memGiB, {vcpus, dataGiB: Math.ceil(sizeGiB * 1.3)})
    const id = `${name}-${engine}${dbs.filter(([e]) => e === engine).length > 1 ? `-${k + 1}` : ''}`
    databases.push({
      id,
      name: engine === 'redis' ? `${name}-cache` : name.replaceAll('-', '_'),
      engine,
      version: DB_VERSION[engine],
      serverId: primary.id,
      host: primary.privateIps[0],
      port: DB_PORT[engine],
      sizeGiB,
      changeGiBPerDay: change,
      application: name,
      managed: false,
      role: 'primary',
      settings:
        engine === 'postgres'
          ? {wal_level: 'replica', max_replication_slots: '10'}
          : engine === 'redis'
            ? {appendonly: 'no', save: '3600 1'}
            : {binlog_format: 'ROW', gtid_mode: engine === 'mysql' ? 'ON' : 'slave_pos'},
      tags: {app: name, replica: replica.id},
    })
    dependencies.push({
      from: name,
      to: id,
      kind: engine === 'redis' ? 'reads' : 'writes',
      protocol: 'tcp',
      port: DB_PORT[engine],
      learnt: 'declared',
      latencySensitive: true,
      weight: 10,
    })
  })
}
for (const [from, tos] of DEPS)
  for (const to of tos)
    dependencies.push({
      from,
      to,
      kind: 'calls',
      protocol: to === 'mq-broker' ? 'kafka' : 'https',
      port: to === 'mq-broker' ? 9092 : 443,
      learnt: 'declared',
      latencySensitive: false,
      weight: 1 + Math.round(rnd() * 9),
    })
for (const from of CONFIG_USERS)
  dependencies.push({
    from,
    to: 'config-service',
    kind: 'reads',
    protocol: 'grpc',
    port: 8500,
    learnt: 'declared',
    latencySensitive: false,
    weight: 1,
  })
// A few observed server-level edges, as an ssh probe would record them.
dependencies.push({
  from: 'search-search-01',
  to: 'catalog-database-01',
  kind: 'reads',
  protocol: 'tcp',
  port: 3306,
  learnt: 'observed',
  latencySensitive: true,
  weight: 40,
})
dependencies.push({
  from: 'cart-api-01',
  to: 'cart-cache-01',
  kind: 'reads',
  protocol: 'tcp',
  port: 6379,
  learnt: 'observed',
  latencySensitive: true,
  weight: 80,
})
dependencies.push({
  from: 'orders-worker-01',
  to: 'mq-broker-queue-01',
  kind: 'writes',
  protocol: 'tcp',
  port: 9092,
  learnt: 'observed',
  latencySensitive: false,
  weight: 25,
})

const inventory = {
  apiVersion: 'migrate/v1',
  kind: 'Inventory',
  metadata: {
    name: 'example',
    description:
      'A marketplace estate in a Jakarta colocation site, modelled on the public Tokopedia migration story: 35 applications, self-managed PostgreSQL, MySQL, MariaDB and Redis.',
    generatedAt: '2026-11-02T08:00:00Z',
    sources: [{kind: 'example', scope: ['colo-jkt1'], at: '2026-11-02T08:00:00Z', count: servers.length}],
  },
  applications,
  servers,
  databases,
  dependencies,
  unassigned: [],
}

const text =
  '# yaml-language-server: $schema=../schemas/inventory.schema.json\n' +
  '# Generated by scripts/example-estate.mjs (deterministic). Edit the script, not this file.\n' +
  stringify(inventory, {lineWidth: 0, indentSeq: true, aliasDuplicateObjects: false})
writeFileSync(out + '.tmp', text)
renameSync(out + '.tmp', out)
console.error(
  `${out}: ${applications.length} applications, ${servers.length} servers, ${databases.length} databases, ${dependencies.length} dependencies`,
)
