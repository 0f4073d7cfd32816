// The rule of discover's merge, as a property: over random sequences of runs with random scopes (AWS regions, CMDB
// files, SSH hosts, --db endpoints) and random failures, while the estate itself changes between runs, a record
// disappears from the inventory only when a run whose scope covers it succeeded and did not find it; and whatever
// a run found is in the inventory it writes. The oracle below is written from the records' history as this test
// saw it, not from what the merge keeps in the records.
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {buildInventory} from '../../src/discover/build.js'
import {disambiguateHosts} from '../../src/providers/ssh.js'
import {factsFromProbe, observedDependencies, type HostFacts} from '../../src/discover/ssh-parse.js'
import {emptyResult, type SourceResult} from '../../src/discover/types.js'
import type {Database, Inventory, Server} from '../../src/schema/inventory.js'

const HOSTS = [
  {label: 'root@10.0.0.1', ip: '10.0.0.1', name: 'h1', ports: [5432, 8080, 9000]},
  {label: 'root@10.0.0.2', ip: '10.0.0.2', name: 'h2', ports: [6379, 8080, 9000]},
  {label: 'root@10.0.0.3', ip: '10.0.0.3', name: 'h3', ports: [3306, 8080, 9000]},
]
const REGIONS = ['r1', 'r2']
const FILES = ['a.csv', 'b.csv']
/** mysql://…:3306 reaches MariaDB, which the probe (no process names) can only guess as mysql from the port. */
const ENDPOINTS = [
  {url: 'postgres://postgres@10.0.0.1:5432/postgres', engine: 'postgres', host: '10.0.0.1', port: 5432},
  {url: 'redis://10.0.0.2:6379', engine: 'redis', host: '10.0.0.2', port: 6379},
  {url: 'mysql://root@10.0.0.3:3306', engine: 'mariadb', host: '10.0.0.3', port: 3306},
  {url: 'redis://10.9.9.9:6379', engine: 'redis', host: '10.9.9.9', port: 6379},
] as const
/** sshd listens on 22 everywhere; the estate's own connections go to the other ports (so a dependency on 22 can only
 * be the probe's own session). */
const PROCESS: Record<number, string> = {22: 'sshd', 5432: 'postgres', 6379: 'redis-server', 8080: 'java', 9000: 'java'}

// The estate at the time of one run: what exists, what listens, who talks to whom.
const world = fc.record({
  instances: fc.array(fc.subarray([0, 1, 2]), {minLength: REGIONS.length, maxLength: REGIONS.length}),
  /** A CMDB row k of file f; rows 0 of a.csv and b.csv describe h1 and h2 (same IP), the others VMs of their own. */
  rows: fc.array(fc.subarray([0, 1, 2]), {minLength: FILES.length, maxLength: FILES.length}),
  listening: fc.array(fc.subarray([0, 1, 2]), {minLength: HOSTS.length, maxLength: HOSTS.length}),
  connections: fc.array(fc.record({from: fc.nat(2), to: fc.nat(2), port: fc.nat(2)}), {maxLength: 5}),
  /** The machine running discover is one of the hosts (its probe sessions show in its socket table) or not. */
  runner: fc.option(fc.nat(2), {nil: undefined}),
})

const run = fc.record({
  kind: fc.constantFrom('aws', 'file', 'ssh', 'db-only'),
  /** Two AWS accounts share the regions; a run reads one of them. */
  account: fc.constantFrom('111111111111', '222222222222'),
  regions: fc.subarray(REGIONS, {minLength: 1}),
  files: fc.subarray(FILES, {minLength: 1}),
  hosts: fc.subarray([0, 1, 2], {minLength: 1}),
  db: fc.subarray([0, 1, 2, 3]),
  /** Targets (hosts, endpoints) that cannot be read in this run. */
  failing: fc.subarray(['root@10.0.0.1', 'root@10.0.0.2', 'root@10.0.0.3', ...ENDPOINTS.map((e) => e.url)]),
  world,
})
type Run = typeof run extends fc.Arbitrary<infer T> ? T : never
type World = Run['world']

function vm(id: string, kind: string, ref: string, ip: string, provider: Server['provider']): Server {
  return {
    id,
    name: id,
    provider,
    privateIps: [ip],
    publicIps: [],
    vcpus: 2,
    memoryMiB: 4096,
    disks: [],
    os: {family: 'linux'},
    state: 'running',
    tags: {},
    source: {kind, ref},
  }
}

function probeText(h: number, w: World, sessions: {client: string; clientPort: number; host: number}[]): string {
  const host = HOSTS[h]
  const ports = [22, ...w.listening[h].map((i) => host.ports[i])]
  const listen = [...new Set(ports)].map(
    (p) => `LISTEN 0 128 0.0.0.0:${p} 0.0.0.0:*${PROCESS[p] ? ` users:(("${PROCESS[p]}",pid=1,fd=3))` : ''}`,
  )
  const estab = w.connections
    .filter((c) => c.from === h && c.from !== c.to)
    .map(
      (c, i) =>
        `ESTAB 0 0 ${host.ip}:${41000 + i} ${HOSTS[c.to].ip}:${HOSTS[c.to].ports[c.port]} users:(("java",pid=2,fd=4))`,
    )
  // The runner's own ssh clients to the hosts it probes, seen in its socket table.
  const own = sessions
    .filter((s) => s.client === host.ip)
    .map((s) => `ESTAB 0 0 ${host.ip}:${s.clientPort} ${HOSTS[s.host].ip}:22 users:(("ssh",pid=3,fd=3))`)
  const me = sessions.find((s) => s.host === h)
  return [
    `@@hostname`,
    host.name,
    `@@nproc`,
    '2',
    `@@meminfo`,
    'MemTotal: 4194304 kB',
    `@@ip`,
    host.ip,
    `@@listen`,
    ...listen,
    `@@established`,
    ...estab,
    ...own,
    `@@ssh-connection`,
    me ? `${me.client} ${me.clientPort} ${host.ip} 22` : '',
    `@@end`,
    '',
  ].join('\n')
}

/** What the sources of one run return for this estate, as the real ones would; undefined when the run stops. */
function results(r: Run): SourceResult[] | undefined {
  const w = r.world
  const out: SourceResult[] = []
  const failing = new Set(r.failing)
  if (r.kind === 'aws') {
    const res = emptyResult('aws', r.regions)
    const a = r.account.slice(0, 1)
    for (const region of r.regions)
      for (const k of w.instances[REGIONS.indexOf(region)])
        res.servers.push({
          ...vm(`i-${a}-${region}-${k}`, 'aws', `${region}/i-${a}-${region}-${k}`, `10.0.0.${k + 1}`, 'aws'),
          source: {kind: 'aws', ref: `${region}/i-${a}-${region}-${k}`, account: r.account},
        })
    // As the AWS source: the account is known from the instances' owner, unknown when none was found.
    if (res.servers.length > 0) res.account = r.account
    out.push(res)
  } else if (r.kind === 'file') {
    const res = emptyResult('file', r.files)
    for (const f of r.files)
      for (const k of w.rows[FILES.indexOf(f)])
        res.servers.push(
          vm(
            `${f.slice(0, 1)}-${k}`,
            'file',
            `${f}:${k + 2}`,
            k === 0 ? HOSTS[FILES.indexOf(f)].ip : `10.1.${FILES.indexOf(f)}.${k}`,
            'onprem',
          ),
        )
    out.push(res)
  } else if (r.kind === 'ssh') {
    const res = emptyResult(
      'ssh',
      r.hosts.map((h) => HOSTS[h].label),
    )
    const up = r.hosts.filter((h) => !failing.has(HOSTS[h].label))
    for (const h of r.hosts)
      if (failing.has(HOSTS[h].label))
        res.failures.push({target: HOSTS[h].label, code: 'SSH_TIMEOUT', message: 'connection timed out'})
    if (up.length === 0) return undefined
    const runnerIp = w.runner !== undefined ? HOSTS[w.runner].ip : '10.0.0.99'
    const sessions = up.map((h, i) => ({
      client: w.runner === h ? '127.0.0.1' : runnerIp,
      clientPort: 50000 + i,
      host: h,
    }))
    const facts: HostFacts[] = up.map((h) =>
      factsFromProbe({target: HOSTS[h].label, address: HOSTS[h].ip, stdout: probeText(h, w, sessions)}),
    )
    disambiguateHosts(facts)
    for (const f of facts) {
      res.servers.push(f.server)
      res.databases.push(...f.databases)
    }
    res.dependencies.push(...observedDependencies(facts))
    out.push(res)
  }
  if (r.db.length > 0) {
    const eps = r.db.map((i) => ENDPOINTS[i])
    const res = emptyResult(
      'db',
      eps.map((e) => e.url),
    )
    for (const e of eps) {
      if (failing.has(e.url)) res.failures.push({target: e.url, code: 'DB_UNREACHABLE', message: 'connection refused'})
      else
        res.databases.push({
          id: `${e.engine}:${e.host}:${e.port}`,
          name: `${e.engine} ${e.host}:${e.port}`,
          engine: e.engine,
          version: '1.0',
          host: e.host,
          port: e.port,
          sizeGiB: 1,
          role: 'standalone',
          managed: false,
          tags: {},
          settings: {x: '1'},
          source: {kind: 'db', ref: e.url},
        } satisfies Database)
    }
    if (res.databases.length === 0) return undefined
    out.push(res)
  }
  return out.length > 0 ? out : undefined
}

/** The producers that read successfully in this run: "aws:ACCOUNT:r1", "file:a.csv", "ssh:root@10.0.0.1", "db:URL". */
function readers(res: SourceResult[]): Set<string> {
  const out = new Set<string>()
  for (const r of res) {
    const failed = new Set(r.failures.map((f) => f.target))
    for (const t of r.scope) if (!failed.has(t)) out.add(r.kind === 'aws' ? `aws:${r.account}:${t}` : `${r.kind}:${t}`)
  }
  return out
}

const producerOf = (s: Server) =>
  s.source?.kind === 'aws'
    ? `aws:${s.source.account}:${s.source.ref!.split('/')[0]}`
    : s.source?.kind === 'file'
      ? `file:${s.source.ref!.replace(/:\d+$/, '')}`
      : `${s.source?.kind}:${s.source?.ref}`
const endpoint = (d: Database) => `${d.host}:${d.port}`
const sshAt = (ip: string | undefined) => HOSTS.find((h) => h.ip === ip)?.label

/** Where each final record came from, accumulated over the runs (by server id, database endpoint, dependency). */
interface History {
  servers: Map<string, Set<string>>
  databases: Map<string, Set<string>>
}

function finalServer(inv: Inventory, raw: Server): Server | undefined {
  return (
    inv.servers.find((s) => s.id === raw.id) ??
    (raw.provider === 'onprem'
      ? inv.servers.find((s) => s.provider === 'onprem' && s.privateIps.some((ip) => raw.privateIps.includes(ip)))
      : undefined)
  )
}

/** A dependency by the addresses of its ends, which ids (renamed, merged) do not change. */
function depKeys(inv: Pick<Inventory, 'servers' | 'databases' | 'dependencies'>): Map<string, string[]> {
  const ipOf = new Map<string, string | undefined>([
    ...inv.servers.map((s) => [s.id, s.privateIps[0]] as const),
    ...inv.databases.map((d) => [d.id, d.host] as const),
  ])
  return new Map(inv.dependencies.map((d) => [`${ipOf.get(d.from)}->${ipOf.get(d.to)}:${d.port}`, [d.from, d.to]]))
}

function check(prev: Inventory | undefined, next: Inventory, res: SourceResult[], hist: History): void {
  const ok = readers(res)
  const covers = (producers: Iterable<string>) => [...producers].some((p) => ok.has(p))
  const probedIps = new Set(HOSTS.filter((h) => ok.has(`ssh:${h.label}`)).map((h) => h.ip))
  if (prev) {
    const nextServers = new Set(next.servers.map((s) => s.id))
    const goneServers = new Set<string>()
    for (const s of prev.servers) {
      if (nextServers.has(s.id)) continue
      goneServers.add(s.id)
      expect(
        covers(hist.servers.get(s.id) ?? []),
        `server ${s.id} (from ${[...(hist.servers.get(s.id) ?? [])]}) went, but no run that read where it came from succeeded`,
      ).toBe(true)
    }
    const nextEndpoints = new Set(next.databases.map(endpoint))
    const goneEndpoints = new Set<string>()
    for (const d of prev.databases) {
      if (nextEndpoints.has(endpoint(d))) continue
      goneEndpoints.add(endpoint(d))
      const producers = [...(hist.databases.get(endpoint(d)) ?? []), ...(sshAt(d.host) ? [`ssh:${sshAt(d.host)}`] : [])]
      expect(
        covers(producers),
        `database ${d.id} went, but neither its source nor a probe of its host read it in this run`,
      ).toBe(true)
    }
    const nextDeps = depKeys(next)
    const ipOfPrev = new Map<string, string | undefined>([
      ...prev.servers.map((s) => [s.id, s.privateIps[0]] as const),
      ...prev.databases.map((d) => [d.id, d.host] as const),
    ])
    for (const [key, [from, to]] of depKeys(prev)) {
      if (nextDeps.has(key)) continue
      const bothProbed = probedIps.has(ipOfPrev.get(from)!) && probedIps.has(ipOfPrev.get(to)!)
      const endWent = [from, to].some(
        (x) =>
          goneServers.has(x) ||
          goneEndpoints.has(
            prev.databases.find((d) => d.id === x) ? endpoint(prev.databases.find((d) => d.id === x)!) : '',
          ),
      )
      expect(
        bothProbed || endWent,
        `observed dependency ${key} went, but its two hosts were not both read in this run`,
      ).toBe(true)
    }
    for (const a of prev.applications) expect(next.applications.map((x) => x.name)).toContain(a.name)
  }
  // Whatever this run found is there, and its history notes who found it.
  for (const r of res) {
    for (const s of r.servers) {
      const f = finalServer(next, s)
      expect(f, `server ${s.id} found by ${r.kind} is missing`).toBeDefined()
      let set = hist.servers.get(f!.id)
      if (!set) hist.servers.set(f!.id, (set = new Set()))
      set.add(producerOf(s))
    }
    for (const d of r.databases) {
      expect(
        next.databases.some((x) => endpoint(x) === endpoint(d)),
        `database ${d.id} found by ${r.kind} is missing`,
      ).toBe(true)
      let set = hist.databases.get(endpoint(d))
      if (!set) hist.databases.set(endpoint(d), (set = new Set()))
      set.add(r.kind === 'db' ? `db:${d.source!.ref}` : `ssh:${d.source!.ref}`)
    }
  }
  const found = depKeys({
    servers: next.servers,
    databases: next.databases,
    dependencies: res.flatMap((r) => r.dependencies).map((d) => ({...d})),
  })
  const nextDeps = depKeys(next)
  for (const key of found.keys())
    if (!key.includes('undefined'))
      expect(nextDeps.has(key), `dependency ${key} found in this run is missing`).toBe(true)
  // No connection of the probe itself, from the machine running discover, is a dependency.
  for (const d of next.dependencies) expect(d.port).not.toBe(22)
}

describe('discover merge, as a property', () => {
  it('a record disappears only when a run whose scope covers it succeeded and did not find it', () => {
    fc.assert(
      fc.property(fc.array(run, {minLength: 1, maxLength: 8}), (runs) => {
        let inv: Inventory | undefined
        const hist: History = {servers: new Map(), databases: new Map()}
        for (const r of runs) {
          const res = results(r)
          if (!res) continue // the run stopped (every host or endpoint failed): nothing was written
          const next = buildInventory(res, inv, {
            out: '/plans/prop/inventory.yaml',
            now: new Date('2026-11-30T00:00:00Z'),
          }).inventory
          check(inv, next, res, hist)
          inv = next
        }
      }),
      {numRuns: 400, seed: 18},
    )
  })
})
