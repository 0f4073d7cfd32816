// Parsers for the socket tables the SSH probe reads (`ss` of any iproute2 version, `netstat` of net-tools or busybox):
// listening and established TCP sockets, and what service a listening port is (src/discover/ssh-parse.ts).

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
