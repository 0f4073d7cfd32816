// The SSH probe's script, and the step from the facts of several hosts to servers, self-managed databases and observed
// dependency edges. The parsers of the probe's sections are in ssh-host-facts.ts (the host) and ssh-sockets.ts (its
// sockets and services). Pure functions, tested on outputs recorded on CentOS 7, Ubuntu, Debian and Alpine
// (test/fixtures/ssh/).
import type {Database, Dependency, Server} from '../schema/inventory.js'
import {slug} from './app-tags.js'
import {generatedDbId} from './scope.js'
import {deriveDisks, parseIps, parseMeminfo, parseNproc, parseOsRelease, splitSections} from './ssh-host-facts.js'
import {
  classifyService,
  type Endpoint,
  parseEstablished,
  parseListening,
  type ServiceKind,
  type Socket,
} from './ssh-sockets.js'

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
  const services = servicesOf(listening)
  const role = roleOf(services)
  const server: Server = {
    id: slug(hostname) || slug(p.address) || 'host',
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
  const session = parseSshConnection(sec.get('ssh-connection'))
  return {server, databases: databasesOf(server, p), listening, established, ...(session ? {session} : {})}
}

type Service = NonNullable<Server['services']>[number]

/** The services listening on a host, one per port (the first socket on a port names it). */
function servicesOf(listening: Socket[]): Map<number, Service> {
  const services = new Map<number, Service>()
  for (const s of listening) {
    if (services.has(s.local.port)) continue
    const kind = classifyService(s.local.port, s.process)
    services.set(s.local.port, {
      port: s.local.port,
      ...(s.process ? {process: s.process} : {}),
      ...(kind ? {service: kind} : {}),
    })
  }
  return services
}

/** A host's role from what listens on it: a database engine first, then a cache, web, queue, search or app server. */
function roleOf(services: Map<number, Service>): Server['role'] | undefined {
  const kinds = new Set([...services.values()].map((s) => s.service).filter((k) => k && k !== 'ssh'))
  if ([...kinds].some((k) => DB_ENGINES.has(k as ServiceKind) && k !== 'redis')) return 'database'
  if (kinds.has('redis') || kinds.has('cache')) return 'cache'
  if (kinds.has('web')) return 'web'
  if (kinds.has('queue')) return 'queue'
  if (kinds.has('search')) return 'search'
  if (kinds.has('app')) return 'app'
  return undefined
}

/** A self-managed database for each database engine listening on the host. */
function databasesOf(server: Server, p: HostProbe): Database[] {
  const databases: Database[] = []
  for (const s of server.services ?? []) {
    const kind = s.service as ServiceKind | undefined
    if (!kind || !DB_ENGINES.has(kind)) continue
    const engine = kind as Database['engine']
    // What the probe cannot know without logging in (size, replication role) stays unknown: `discover --db` reads it.
    databases.push({
      id: generatedDbId(engine, p.address, s.port),
      name: `${engine} on ${server.hostname}:${s.port}`,
      engine,
      serverId: server.id,
      host: p.address,
      port: s.port,
      managed: false,
      tags: {},
      source: {kind: 'ssh', ref: p.target},
    })
  }
  return databases
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
