// Repointing TCP clients (MariaDB, Redis, anything) with HAProxy's runtime API: `set server be/srv addr A port P`
// for new connections, then `shutdown sessions server be/srv` so no client keeps talking to the old server.
import net from 'node:net'
import {MigrateError, badInput} from '../errors.js'

/** One runtime API command over a TCP address (host:port) or a unix socket path; returns the reply text. */
export function haproxyCommand(api: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const m = /^(.*):(\d+)$/.exec(api)
    const sock =
      api.startsWith('/') || !m
        ? net.connect({path: api})
        : net.connect({host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2])})
    let out = ''
    const timer = setTimeout(
      () => (
        sock.destroy(),
        reject(
          new MigrateError(`HAProxy runtime API ${api} did not answer ${command.split(' ')[0]} in ${timeoutMs} ms`, {
            code: 'HAPROXY_TIMEOUT',
          }),
        )
      ),
      timeoutMs,
    )
    sock.on('connect', () => sock.write(command + '\n'))
    sock.on('data', (d) => (out += d.toString()))
    sock.on('error', (e) => {
      clearTimeout(timer)
      reject(
        new MigrateError(`HAProxy runtime API ${api}: ${e.message}`, {
          code: 'HAPROXY_UNREACHABLE',
          hint: 'Enable it with `stats socket ipv4@127.0.0.1:9999 level admin` (or a unix socket) in the global section',
        }),
      )
    })
    sock.on('close', () => {
      clearTimeout(timer)
      resolve(out.trim())
    })
  })
}

const ERROR_REPLY = /^(No such|Require|Unknown command|Permission denied|Invalid|Can't|.*not found|.*failed)/im

function splitServer(server: string): [string, string] {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(server)
  if (!m)
    throw badInput(
      `bad HAProxy server ${server}`,
      'HAPROXY_BAD_SERVER',
      'Write it as backend/server, as in the haproxy.cfg',
    )
  return [m[1], m[2]]
}

/** The address a backend server points at now. */
export async function haproxyServerAddr(api: string, server: string): Promise<{host: string; port: number}> {
  const [be, srv] = splitServer(server)
  const out = await haproxyCommand(api, `show servers state ${be}`)
  if (ERROR_REPLY.test(out)) throw new MigrateError(`HAProxy: ${out.split('\n')[0]}`, {code: 'HAPROXY_ERROR'})
  const header =
    out
      .split('\n')
      .find((l) => l.startsWith('#'))
      ?.replace(/^#\s*/, '')
      .split(' ') ?? []
  for (const line of out.split('\n')) {
    const cols = line.split(' ')
    if (cols[header.indexOf('srv_name')] === srv)
      return {host: cols[header.indexOf('srv_addr')], port: Number(cols[header.indexOf('srv_port')])}
  }
  throw new MigrateError(`HAProxy has no server ${server}`, {
    code: 'HAPROXY_NO_SERVER',
    hint: 'Check backend/server names in haproxy.cfg',
  })
}

/** Points a backend server at a new address and ends the sessions still open to the old one. */
export async function haproxyRepoint(
  api: string,
  server: string,
  to: {host: string; port: number},
  opts: {keepSessions?: boolean} = {},
): Promise<{before: {host: string; port: number}; reply: string}> {
  const [be, srv] = splitServer(server)
  if (!/^[A-Za-z0-9.:_-]+$/.test(to.host))
    throw badInput(`bad address ${to.host}`, 'HAPROXY_BAD_ADDR', 'Pass an IP address or host name')
  const before = await haproxyServerAddr(api, server)
  const reply = await haproxyCommand(api, `set server ${be}/${srv} addr ${to.host} port ${to.port}`)
  if (ERROR_REPLY.test(reply))
    throw new MigrateError(`HAProxy refused set server ${server}: ${reply}`, {
      code: 'HAPROXY_ERROR',
      hint: 'The server needs a port in haproxy.cfg, and the API level admin',
    })
  await haproxyCommand(api, `set server ${be}/${srv} state ready`)
  if (!opts.keepSessions) {
    const r = await haproxyCommand(api, `shutdown sessions server ${be}/${srv}`)
    if (ERROR_REPLY.test(r))
      throw new MigrateError(`HAProxy refused shutdown sessions ${server}: ${r}`, {code: 'HAPROXY_ERROR'})
  }
  return {before, reply}
}
