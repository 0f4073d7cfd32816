// Parsers for the read-only commands the SSH probe runs on a host, and the step from the facts of several hosts to
// servers, self-managed databases and observed dependency edges. Pure functions, tested on outputs recorded on
// CentOS 7, Ubuntu, Debian and Alpine (test/fixtures/ssh/).
import type {Database, Dependency, Server} from '../schema/inventory.js'
import {slug} from './app-tags.js'
import {generatedDbId} from './scope.js'

/**
 * The probe, one remote `sh -c` so that a login shell other than sh still runs it. Fixed text (no input from the
 * user is ever interpolated) and read-only: it only reads /proc, /etc and socket tables.
 */
export const PROBE_SCRIPT = [
  'LC_ALL=C; export LC_ALL',
  'echo @@hostname; hostname 2>/dev/null || cat /etc/hostname',
  'echo @@nproc; nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo',
  'echo @@meminfo; cat /proc/meminfo',
  'echo @@os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null',
  'echo @@df; df -P -k 2>/dev/null',
  'echo @@lsblk; lsblk -b -d -n -o NAME,SIZE,TYPE 2>/dev/null',
  'echo @@ip; hostname -I 2>/dev/null || ip -o -4 addr show 2>/dev/null',
  'echo @@listen; ss -tlnp 2>/dev/null || netstat -tlnp 2>/dev/null',
  'echo @@established; ss -tnp 2>/dev/null || netstat -tnp 2>/dev/null',
  // sshd sets it for our own session: "client-ip client-port server-ip server-port", so the probe can leave itself out.
  'echo @@ssh-connection; echo "$SSH_CONNECTION"',
  'echo @@end',
].join('; ')

export const REMOTE_COMMAND = `sh -c '${PROBE_SCRIPT}'`

export function splitSections(stdout: string): Map<string, string> {
  const out = new Map<string, string>()
  let name: string | undefined
  let buf: string[] = []
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^@@([a-z-]+)$/.exec(line.trim())
    if (m) {
      if (name) out.set(name, buf.join('\n'))
      name = m[1]
      buf = []
    } else if (name) buf.push(line)
  }
  if (name && name !== 'end') out.set(name, buf.join('\n'))
  return out
}

export function parseNproc(text: string | undefined): number | undefined {
  const n = Number.parseInt((text ?? '').trim(), 10)
  return Number.isFinite(n) && n > 0 ? n : undefined
}

/** MemTotal in MiB. */
export function parseMeminfo(text: string | undefined): number | undefined {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(text ?? '')
  return m ? Math.round(Number(m[1]) / 1024) : undefined
}

export function parseOsRelease(text: string | undefined): {
  id?: string
  name?: string
  version?: string
  pretty?: string
} {
  const kv: Record<string, string> = {}
  for (const line of (text ?? '').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim())
    if (m) kv[m[1]] = m[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1')
  }
  return {id: kv.ID, name: kv.NAME, version: kv.VERSION_ID, pretty: kv.PRETTY_NAME}
}

export interface DfEntry {
  device: string
  sizeKiB: number
  usedKiB: number
  mount: string
}

const PSEUDO_FS = /^(tmpfs|devtmpfs|udev|none|overlay|shm|cgroup|proc|sysfs|rootfs|run|efivarfs|squashfs)$/

export function parseDf(text: string | undefined): DfEntry[] {
  const out: DfEntry[] = []
  for (const line of (text ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 6) continue
    const [device, size, used] = f
    const mount = f.slice(5).join(' ')
    if (PSEUDO_FS.test(device) || device.startsWith('/dev/loop') || !/^\d+$/.test(size)) continue
    if (!device.startsWith('/') && !device.includes(':')) continue
    out.push({device, sizeKiB: Number(size), usedKiB: Number(used), mount})
  }
  return out
}

export function parseLsblk(text: string | undefined): {name: string; bytes: number}[] {
  const out: {name: string; bytes: number}[] = []
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 3 || f[2] !== 'disk') continue
    const bytes = Number(f[1])
    if (!(bytes > 0) || /^(zram|ram|loop)/.test(f[0])) continue
    out.push({name: f[0], bytes})
  }
  return out
}

const GiB = 1024 ** 3
const round2 = (n: number) => Math.round(n * 100) / 100

/** Disks from lsblk, with the space df reports used on their partitions; from df alone when lsblk is missing. */
export function deriveDisks(lsblk: string | undefined, df: string | undefined): Server['disks'] {
  const fs = parseDf(df)
  const disks = parseLsblk(lsblk)
  if (disks.length === 0) {
    const seen = new Set<string>()
    return fs
      .filter((e) => e.device.startsWith('/dev/') && !seen.has(e.device) && seen.add(e.device))
      .map((e) => ({
        name: e.device.replace(/^\/dev\//, ''),
        sizeGiB: round2((e.sizeKiB * 1024) / GiB),
        usedGiB: round2((e.usedKiB * 1024) / GiB),
      }))
  }
  const counted = new Set<string>()
  const used = new Map<string, number>()
  for (const e of fs) {
    if (counted.has(e.device)) continue
    counted.add(e.device)
    const d = disks.find((x) => e.device === `/dev/${x.name}` || new RegExp(`^/dev/${x.name}p?\\d+$`).test(e.device))
    const key = d?.name ?? (disks.length === 1 ? disks[0].name : undefined)
    if (key) used.set(key, (used.get(key) ?? 0) + e.usedKiB * 1024)
  }
  return disks.map((d) => ({
    name: d.name,
    sizeGiB: round2(d.bytes / GiB),
    ...(used.has(d.name) ? {usedGiB: round2(used.get(d.name)! / GiB)} : {}),
  }))
}

/** IPv4/IPv6 addresses from `hostname -I` or `ip -o -4 addr show`; loopback and link-local dropped. */
export function parseIps(text: string | undefined): string[] {
  const t = text ?? ''
  const found = /\binet6?\s/.test(t)
    ? [...t.matchAll(/\binet6?\s+([0-9a-fA-F:.]+)\//g)].map((m) => m[1])
    : t.trim().split(/\s+/)
  return [
    ...new Set(
      found.filter(
        (ip) => ip && !/^127\./.test(ip) && ip !== '::1' && !/^fe80:/i.test(ip) && /^[0-9a-fA-F:.]+$/.test(ip),
      ),
    ),
  ]
}

export interface Endpoint {
  address: string
  port: number
}

/** "10.0.0.5:5432", "*:22", "[::]:80", "::ffff:10.0.0.5:443", "127.0.0.53%lo:53" → address and port. */
export function parseEndpoint(s: string): Endpoint | undefined {
  const i = s.lastIndexOf(':')
  if (i < 0) return undefined
  const port = Number(s.slice(i + 1))
  if (!Number.isInteger(port)) return undefined
  let address = s
    .slice(0, i)
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '')
  address = address.replace(/^::ffff:/i, '')
  if (address === '' || address === '*' || address === '::' || address === '0.0.0.0') address = '*'
  return {address, port}
}

export interface Socket {
  local: Endpoint
  peer: Endpoint
  process?: string
}

function processOf(rest: string): string | undefined {
  const ss = /users:\(\("([^"]+)"/.exec(rest)
  if (ss) return ss[1]
  const ns = /\b\d+\/([^\s]+)/.exec(rest)
  return ns ? ns[1].replace(/:$/, '') : undefined
}

interface SocketLine {
  line: string
  local: string | undefined
  peer: string | undefined
}

/** The lines of `ss` (state `ssState` first) or `netstat` output (state `netstatState` sixth) with a socket in that
 * state, and their local and peer address fields. */
function socketLines(text: string | undefined, ssState: string, netstatState: string): SocketLine[] {
  const out: SocketLine[] = []
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f[0] === ssState || (/^tcp6?$/.test(f[0]) && f[5] === netstatState)) out.push({line, local: f[3], peer: f[4]})
  }
  return out
}

/** Listening TCP sockets from `ss -tlnp` (any iproute2 version) or `netstat -tlnp` (net-tools or busybox). */
export function parseListening(text: string | undefined): Socket[] {
  const out: Socket[] = []
  for (const {line, local, peer} of socketLines(text, 'LISTEN', 'LISTEN')) {
    const l = local ? parseEndpoint(local) : undefined
    const p = peer ? (parseEndpoint(peer) ?? {address: '*', port: 0}) : {address: '*', port: 0}
    if (l) out.push({local: l, peer: p, process: processOf(line)})
  }
  return out
}

/** Established TCP connections from `ss -tnp` or `netstat -tnp`. */
export function parseEstablished(text: string | undefined): Socket[] {
  const out: Socket[] = []
  for (const {line, local, peer} of socketLines(text, 'ESTAB', 'ESTABLISHED')) {
    const l = local ? parseEndpoint(local) : undefined
    const p = peer ? parseEndpoint(peer) : undefined
    if (l && p) out.push({local: l, peer: p, process: processOf(line)})
  }
  return out
}

export type ServiceKind =
  | 'postgres'
  | 'mysql'
  | 'mariadb'
  | 'redis'
  | 'mongodb'
  | 'web'
  | 'ssh'
  | 'queue'
  | 'search'
  | 'cache'
  | 'app'

const BY_PROCESS: [RegExp, ServiceKind][] = [
  [/^(postgres|postmaster)/, 'postgres'],
  [/^mariadbd/, 'mariadb'],
  [/^mysqld/, 'mysql'],
  [/^(redis-server|valkey-server|keydb-server)/, 'redis'],
  [/^mongod/, 'mongodb'],
  [/^(nginx|httpd|apache2|caddy|haproxy|envoy|traefik|lighttpd|h2o)/, 'web'],
  [/^sshd/, 'ssh'],
  [/^(beam\.smp|rabbitmq|kafka|mosquitto|nats-server)/, 'queue'],
  [/^(elasticsearch|opensearch)/, 'search'],
  [/^memcached/, 'cache'],
]
const BY_PORT: Record<number, ServiceKind> = {
  22: 'ssh',
  80: 'web',
  443: 'web',
  8080: 'web',
  8443: 'web',
  3306: 'mysql',
  5432: 'postgres',
  6379: 'redis',
  27017: 'mongodb',
  5672: 'queue',
  9092: 'queue',
  1883: 'queue',
  9200: 'search',
  11211: 'cache',
}

export function classifyService(port: number, process: string | undefined): ServiceKind | undefined {
  if (process) {
    for (const [re, kind] of BY_PROCESS) if (re.test(process)) return kind
    if (/^(java|node|python[\d.]*|ruby|php-fpm.*|dotnet|gunicorn|uwsgi|puma|unicorn)$/.test(process))
      return port === 80 || port === 443 ? 'web' : 'app'
  }
  return BY_PORT[port]
}

const DB_ENGINES = new Set<ServiceKind>(['postgres', 'mysql', 'mariadb', 'redis', 'mongodb'])

export interface HostProbe {
  /** What the user asked to probe: user@host:port. */
  target: string
  /** The address ssh connected to. */
  address: string
  stdout: string
}

export interface HostFacts {
  server: Server
  databases: Database[]
  listening: Socket[]
  established: Socket[]
  /** The probe's own SSH connection to this host (from $SSH_CONNECTION), when the host said. */
  session?: {client: Endpoint; server: Endpoint}
}

/** `$SSH_CONNECTION`: "client-ip client-port server-ip server-port". */
export function parseSshConnection(text: string | undefined): HostFacts['session'] {
  const f = (text ?? '').trim().split(/\s+/)
  if (f.length !== 4 || !/^\d+$/.test(f[1]) || !/^\d+$/.test(f[3])) return undefined
  const at = (address: string, port: string) => ({address: address.replace(/^::ffff:/i, ''), port: Number(port)})
  return {client: at(f[0], f[1]), server: at(f[2], f[3])}
}

/** One host's probe output → its server record, its databases and its sockets. */
export function factsFromProbe(p: HostProbe): HostFacts {
  const sec = splitSections(p.stdout)
  const hostname = (sec.get('hostname') ?? '').trim().split('\n')[0] || p.address
  const os = parseOsRelease(sec.get('os-release'))
  const ips = parseIps(sec.get('ip'))
  const isIp = /^[0-9.]+$|:/.test(p.address)
  const privateIps = [
    ...new Set([...(isIp && !/^127\./.test(p.address) && p.address !== '::1' ? [p.address] : []), ...ips]),
  ]
  const listening = parseListening(sec.get('listen'))
  const established = parseEstablished(sec.get('established'))
  const services = new Map<number, {port: number; process?: string; service?: string}>()
  for (const s of listening) {
    if (services.has(s.local.port)) continue
    const kind = classifyService(s.local.port, s.process)
    services.set(s.local.port, {
      port: s.local.port,
      ...(s.process ? {process: s.process} : {}),
      ...(kind ? {service: kind} : {}),
    })
  }
  const id = slug(hostname) || slug(p.address) || 'host'
  const kinds = new Set([...services.values()].map((s) => s.service).filter((k) => k && k !== 'ssh'))
  const role: Server['role'] | undefined = [...kinds].some((k) => DB_ENGINES.has(k as ServiceKind) && k !== 'redis')
    ? 'database'
    : kinds.has('redis') || kinds.has('cache')
      ? 'cache'
      : kinds.has('web')
        ? 'web'
        : kinds.has('queue')
          ? 'queue'
          : kinds.has('search')
            ? 'search'
            : kinds.has('app')
              ? 'app'
              : undefined
  const server: Server = {
    id,
    name: hostname,
    provider: 'onprem',
    hostname,
    privateIps,
    publicIps: [],
    vcpus: parseNproc(sec.get('nproc')) ?? 1,
    memoryMiB: parseMeminfo(sec.get('meminfo')) ?? 1,
    disks: deriveDisks(sec.get('lsblk'), sec.get('df')),
    os: {
      family: 'linux',
      ...(os.pretty || os.name ? {name: os.pretty ?? os.name} : {}),
      ...(os.version ? {version: os.version} : {}),
    },
    state: 'running',
    tags: {...(os.id ? {os: os.id} : {})},
    ...(role ? {role} : {}),
    services: [...services.values()].sort((a, b) => a.port - b.port),
    source: {kind: 'ssh', ref: p.target},
  }
  const databases: Database[] = []
  for (const s of server.services ?? []) {
    const kind = s.service as ServiceKind | undefined
    if (!kind || !DB_ENGINES.has(kind)) continue
    const engine = kind as Database['engine']
    // What the probe cannot know without logging in (size, replication role) stays unknown: `discover --db` reads it.
    databases.push({
      id: generatedDbId(engine, p.address, s.port),
      name: `${engine} on ${hostname}:${s.port}`,
      engine,
      serverId: id,
      host: p.address,
      port: s.port,
      managed: false,
      tags: {},
      source: {kind: 'ssh', ref: p.target},
    })
  }
  const session = parseSshConnection(sec.get('ssh-connection'))
  return {server, databases, listening, established, ...(session ? {session} : {})}
}

export interface ObserveOptions {
  /** Connections to these ports are management, not dependencies (ssh 22, monitoring agents, …). */
  excludePorts?: readonly number[]
}

/**
 * Observed dependencies between probed hosts: a connection from A to a port B listens on is an edge A → B (or
 * A → the database B runs on that port), weighted by the number of connections seen. The probe's own SSH sessions
 * (seen from both ends, also when the machine running discover is itself probed) and connections to the
 * excluded ports are left out.
 */
export function observedDependencies(hosts: HostFacts[], o: ObserveOptions = {}): Dependency[] {
  const excluded = new Set(o.excludePorts ?? [])
  const own = new Set<string>()
  for (const h of hosts) {
    if (!h.session) continue
    const {client, server} = h.session
    own.add(`${client.address}:${client.port}|${server.address}:${server.port}`)
    own.add(`${server.address}:${server.port}|${client.address}:${client.port}`)
  }
  const isOwn = (c: Socket) => own.has(`${c.local.address}:${c.local.port}|${c.peer.address}:${c.peer.port}`)
  const byIp = new Map<string, HostFacts>()
  for (const h of hosts) for (const ip of h.server.privateIps) if (!byIp.has(ip)) byIp.set(ip, h)
  const edges = new Map<string, Dependency>()
  const add = (client: HostFacts, server: HostFacts, port: number) => {
    if (client === server || excluded.has(port)) return
    const db = server.databases.find((d) => d.port === port)
    const to = db?.id ?? server.server.id
    const svc = server.server.services?.find((s) => s.port === port)?.service
    const key = `${client.server.id}|${to}|${port}`
    const e = edges.get(key)
    if (e) e.weight += 1
    else
      edges.set(key, {
        from: client.server.id,
        to,
        kind: db ? (db.engine === 'redis' ? 'reads' : 'writes') : 'calls',
        ...(svc ? {protocol: svc} : {}),
        port,
        learnt: 'observed',
        latencySensitive: !!db,
        weight: 1,
      })
  }
  for (const h of hosts) {
    const ports = new Set(h.listening.map((s) => s.local.port))
    for (const c of h.established) {
      const peer = byIp.get(c.peer.address)
      if (!peer || isOwn(c)) continue
      const peerPorts = new Set(peer.listening.map((s) => s.local.port))
      if (peerPorts.has(c.peer.port) && !ports.has(c.local.port)) add(h, peer, c.peer.port)
      else if (ports.has(c.local.port) && !peerPorts.has(c.peer.port)) add(peer, h, c.local.port)
    }
  }
  // Both ends usually see the same connection: count it once.
  for (const e of edges.values()) e.weight = Math.max(1, Math.ceil(e.weight / 2))
  return [...edges.values()]
}
