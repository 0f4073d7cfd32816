// Generated estates for the planner's tests and benchmark: n servers, 10% as many applications, 3 dependency edges
// per server, deterministic for a seed. Dependencies mostly point "upstream" (to applications with a lower number,
// within a window), so the application graph is a layered DAG with a few tight spots: some neighbouring pairs call
// each other (dependency cycles) or are latency-sensitive (move groups), as real estates have.
// Shapes (option `shape`): 'layered' (the default above), 'chains' (each application calls the one three before it:
// three deep chains per environment), 'fanin' (every application calls one or two of a few shared services of its
// environment), 'cycles' (a third of the neighbours call each other back), 'mixed' (a quarter of the applications
// in each of dev, test, staging and prod instead of mostly production).
//
//   import {generateEstate} from './estate-gen.mjs'; const inv = generateEstate({servers: 1000, seed: 1})
//   node bench/estate-gen.mjs 1000 [seed] > inventory.yaml      (YAML on stdout)

const CRIT = ['low', 'low', 'low', 'medium', 'medium', 'medium', 'medium', 'high', 'high', 'critical']
const ENVS = [
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'prod',
  'staging',
  'test',
  'dev',
]
const MIXED_ENVS = ['dev', 'test', 'staging', 'prod']
const COMPLEXITY = ['low', 'medium', 'medium', 'high']
const ENGINES = ['postgres', 'postgres', 'mysql', 'mariadb', 'redis']

function rng(seed) {
  let a = seed >>> 0 || 1
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function pad(n, w) {
  return String(n).padStart(w, '0')
}

/**
 * @param {{servers: number, seed?: number, appsRatio?: number, edgesPerServer?: number, cycles?: number, latency?: number, outOfScope?: number, shape?: 'layered' | 'chains' | 'fanin' | 'cycles' | 'mixed'}} o
 * @returns the inventory as `migrate plan` reads it (all defaults filled in)
 */
export function generateEstate(o) {
  const n = o.servers
  const r = rng(o.seed ?? 1)
  const pick = (arr) => arr[Math.floor(r() * arr.length)]
  const A = Math.max(1, Math.round(n * (o.appsRatio ?? 0.1)))
  const edgesPer = o.edgesPerServer ?? 3
  const shape = o.shape ?? 'layered'
  const cycleShare = o.cycles ?? (shape === 'cycles' ? 0.3 : 0.03)
  const latencyShare = o.latency ?? 0.03
  const outShare = o.outOfScope ?? 0.03
  const w = String(A).length
  const sw = String(n).length
  const applications = []
  const appServers = []
  // Sizes 6, 8, 10, 12, 14 cycled: 10 on average, so n servers fill A applications exactly (the last takes the rest).
  let assigned = 0
  for (let k = 0; k < A; k++) {
    const size = k === A - 1 ? n - assigned : Math.min(6 + 2 * (k % 5), n - assigned - (A - 1 - k))
    assigned += size
    const out = r() < outShare
    applications.push({
      name: `app-${pad(k, w)}`,
      owner: `team-${k % 17}`,
      criticality: pick(CRIT),
      environment: shape === 'mixed' ? pick(MIXED_ENVS) : pick(ENVS),
      complexity: pick(COMPLEXITY),
      tags: out ? {lifecycle: r() < 0.7 ? 'retire' : 'retain'} : {},
    })
    appServers.push(size)
  }
  const servers = []
  const databases = []
  const firstServer = []
  let si = 0
  for (let k = 0; k < A; k++) {
    firstServer.push(si)
    const app = applications[k].name
    const hasDb = r() < 0.6 && appServers[k] >= 2
    for (let j = 0; j < appServers[k]; j++) {
      const vcpus = pick([2, 2, 4, 4, 4, 8, 8, 16])
      const ratio = pick([2, 4, 4, 8])
      const size = pick([50, 100, 200, 500])
      const isDb = hasDb && j === appServers[k] - 1
      const id = `srv-${pad(si, sw)}`
      servers.push({
        id,
        name: id,
        provider: 'onprem',
        region: 'dc1',
        privateIps: [`10.${(si >> 16) & 255}.${(si >> 8) & 255}.${si & 255}`],
        publicIps: [],
        vcpus,
        memoryMiB: vcpus * ratio * 1024,
        disks: [{name: 'sda', sizeGiB: size, usedGiB: Math.round(size * (0.2 + r() * 0.6))}],
        os: {family: 'linux', name: 'Ubuntu', version: '20.04'},
        state: 'running',
        tags: {},
        application: app,
        role: isDb ? 'database' : j === 0 ? 'lb' : 'app',
        environment: applications[k].environment,
        ...(r() < 0.7
          ? {utilization: {cpuP95: Math.round(r() * 90), memoryP95: Math.round(20 + r() * 70), days: 30}}
          : {}),
      })
      if (isDb) {
        const engine = pick(ENGINES)
        databases.push({
          id: `${app}-${engine}`,
          name: app.replace(/-/g, '_'),
          engine,
          serverId: id,
          sizeGiB: engine === 'redis' ? Math.round(1 + r() * 60) : Math.round(10 + r() * 1500),
          changeGiBPerDay: Math.round(1 + r() * 40),
          application: app,
          managed: false,
          role: 'primary',
          tags: {},
        })
      }
      si++
    }
  }
  // Each application depends on up to 3 upstream applications within a window of 40; a few call back.
  // Environments are separate networks: production calls production, each dev/test/staging its own kind.
  const upstream = []
  const back = new Set()
  const latent = new Set()
  const byEnv = new Map()
  for (let k = 0; k < A; k++) {
    const env = applications[k].environment
    const peers = byEnv.get(env) ?? []
    byEnv.set(env, peers)
    const ups = new Set()
    const m = peers.length
    if (m > 0) {
      if (shape === 'chains') ups.add(peers[Math.max(0, m - 3)])
      else if (shape === 'fanin') {
        const hubs = Math.max(2, Math.round(A / 50))
        if (m >= hubs) for (let t = 1 + Math.floor(r() * 2); t > 0; t--) ups.add(peers[Math.floor(r() * hubs)])
      } else {
        const count = 1 + Math.floor(r() * 3)
        for (let t = 0; t < count; t++) ups.add(peers[m - 1 - Math.floor(r() * Math.min(m, 40))])
      }
      const prev = peers[m - 1]
      if (r() < cycleShare) {
        ups.add(prev)
        back.add(k)
      } else if (r() < latencyShare) {
        ups.add(prev)
        latent.add(k)
      }
    }
    peers.push(k)
    upstream.push([...ups].sort((x, y) => x - y))
  }
  const prevPeer = new Map()
  for (const peers of byEnv.values()) for (let i = 1; i < peers.length; i++) prevPeer.set(peers[i], peers[i - 1])
  const dependencies = []
  const serverOf = (k, j) => servers[firstServer[k] + (j % appServers[k])].id
  for (let k = 0; k < A; k++) {
    const base = firstServer[k]
    const ups = upstream[k]
    for (let j = 0; j < appServers[k]; j++) {
      const from = servers[base + j].id
      for (let e = 0; e < edgesPer; e++) {
        const cross = ups.length > 0 && (e === 0 ? r() < 0.5 : r() < 0.15)
        if (cross) {
          const u = ups[Math.floor(r() * ups.length)]
          const latencySensitive = latent.has(k) && u === prevPeer.get(k)
          dependencies.push({
            from,
            to: serverOf(u, j + e),
            kind: 'calls',
            protocol: 'tcp',
            port: 443,
            learnt: e === 0 ? 'observed' : 'declared',
            latencySensitive,
            weight: 1,
          })
        } else {
          dependencies.push({
            from,
            to: serverOf(k, j + e + 1),
            kind: 'calls',
            protocol: 'tcp',
            port: 8080,
            learnt: 'observed',
            latencySensitive: false,
            weight: 1,
          })
        }
      }
    }
    if (back.has(k))
      dependencies.push({
        from: applications[prevPeer.get(k)].name,
        to: applications[k].name,
        kind: 'calls',
        learnt: 'declared',
        latencySensitive: false,
        weight: 1,
      })
  }
  return {
    apiVersion: 'migrate/v1',
    kind: 'Inventory',
    metadata: {
      name: `generated-${n}`,
      description: `Generated estate: ${n} servers, ${A} applications`,
      sources: [{kind: 'generated', scope: [], at: '2026-11-01T00:00:00Z', count: n}],
    },
    applications,
    servers,
    databases,
    dependencies,
    unassigned: [],
  }
}

/** Planning settings for generated estates: a wave a week, capacity scaled so the plan stays a few hundred waves. */
export function generatedSettings(n, extra = {}) {
  const scale = Math.max(1, Math.round(n / 2000))
  return {
    startDate: '2027-01-04',
    timezone: 'Asia/Jakarta',
    waveCadenceDays: 7,
    cutoverWindows: [{days: ['sat'], start: '01:00', end: '05:00'}],
    capacity: {apps: 8 * scale, servers: 80 * scale, dataTiB: 40 * scale, critical: 3 * scale},
    ramp: {earlyWaves: 3, earlyServers: 10},
    blackouts: [{name: 'monthly sales event', monthly: {fromDay: 25, toDay: 'end'}}],
    pilot: {apps: 2},
    pins: [],
    constraints: [],
    target: {cloud: 'aws', region: 'ap-southeast-3'},
    targets: {},
    strategyRules: [],
    bandwidthMbps: 10000 * scale,
    testDays: 7,
    rules: [
      'move-groups-together',
      'dependencies-first',
      'environments-not-mixed',
      'dev-before-prod',
      'critical-not-early',
      'small-early-waves',
      'capacity',
      'minimise-split-dependencies',
    ],
    ...extra,
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const {stringify} = await import('yaml')
  const n = Number(process.argv[2] ?? 1000)
  process.stdout.write(stringify(generateEstate({servers: n, seed: Number(process.argv[3] ?? 1)}), {lineWidth: 0}))
}
