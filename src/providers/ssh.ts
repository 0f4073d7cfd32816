// Agentless probe of on-premises hosts over SSH with the system OpenSSH client (run through execa as argv, never
// a local shell): BatchMode (no prompts), host key checking on (StrictHostKeyChecking=yes unless
// --accept-new-host-keys), bounded parallelism. A host that is unreachable or refuses is reported; the rest go on.
import {accessSync, constants, readFileSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {badInput} from '../errors.js'
import {everyTargetFailed, type TargetFailure} from '../discover/failures.js'
import {mapWithLimit} from '../map-limit.js'
import {factsFromProbe, observedDependencies, REMOTE_COMMAND, type HostFacts} from '../discover/ssh-parse.js'
import {emptyResult, type DiscoverySource} from '../discover/types.js'

export interface SshTarget {
  user?: string
  host: string
  port?: number
  /** As written by the user, without secrets (ssh targets have none). */
  label: string
}

export interface SshOptions {
  targets: SshTarget[]
  identity?: string
  knownHosts?: string
  acceptNewHostKeys?: boolean
  concurrency?: number
  connectTimeoutS?: number
  /** Extra `-o Key=Value` options for ssh. */
  sshOptions?: string[]
  /** Connections to these ports are not dependencies (management: ssh, monitoring agents). */
  excludePorts?: number[]
}

/**
 * The -i key, checked before any host is tried: ssh itself only warns about a missing key file and then fails as
 * "permission denied", which reads like a key the hosts refuse. `~/` is expanded as ssh would.
 */
export function checkIdentity(file: string): string {
  const full = file === '~' || file.startsWith('~/') ? homedir() + file.slice(1) : file
  try {
    accessSync(full, constants.R_OK)
    if (!statSync(full).isFile()) throw new Error('not a file')
  } catch {
    throw badInput(
      `--identity ${file}: no readable private key file there`,
      'SSH_IDENTITY',
      'Pass the path of the private key the hosts accept (e.g. --identity ~/.ssh/id_ed25519), readable by this user',
    )
  }
  return full
}

/** Parses user@host:port, host, [v6]:port. */
export function parseTarget(text: string, where = '--host'): SshTarget {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d+))?$/.exec(text.trim())
  if (!m)
    throw badInput(
      `${where} ${text}: expected [user@]host[:port]`,
      'BAD_SSH_TARGET',
      'For example --host deploy@10.0.0.5:22 or a hosts file with one such entry per line',
    )
  const port = m[3] ? Number(m[3]) : undefined
  if (port !== undefined && (port < 1 || port > 65535))
    throw badInput(`${where} ${text}: port ${port} is out of range`, 'BAD_SSH_TARGET', 'Use a port between 1 and 65535')
  return {user: m[1], host: m[2].replace(/^\[|\]$/g, ''), port, label: text.trim()}
}

/** A hosts file: one [user@]host[:port] per line; # starts a comment. */
export function readHostsFile(file: string): SshTarget[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw badInput(`--hosts ${file}: cannot read it`, 'FILE_NOT_FOUND', 'Check the path of the hosts file')
  }
  const out: SshTarget[] = []
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.replace(/#.*$/, '').trim()
    if (t) out.push(parseTarget(t.split(/\s+/)[0], `${file}:${i + 1}:`))
  })
  return out
}

export function sshArgs(t: SshTarget, o: SshOptions): string[] {
  const args = [
    '-T',
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${o.connectTimeoutS ?? 10}`,
    '-o',
    `StrictHostKeyChecking=${o.acceptNewHostKeys ? 'accept-new' : 'yes'}`,
    '-o',
    'LogLevel=ERROR',
  ]
  if (o.knownHosts) args.push('-o', `UserKnownHostsFile=${o.knownHosts}`)
  if (o.identity) args.push('-i', o.identity, '-o', 'IdentitiesOnly=yes')
  for (const x of o.sshOptions ?? []) args.push('-o', x)
  if (t.port) args.push('-p', String(t.port))
  if (t.user) args.push('-l', t.user)
  args.push('--', t.host, REMOTE_COMMAND)
  return args
}

/** What went wrong, from ssh's exit status and stderr: one line, and whether it is the user's to fix. */
export function classifySshFailure(
  stderr: string,
  exitCode: number | undefined,
  timedOut: boolean,
): {code: string; message: string; badInput: boolean} {
  const s = stderr.toLowerCase()
  const first =
    stderr
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !/^warning: permanently added/i.test(l)) ?? ''
  if (timedOut || /timed out/.test(s)) return {code: 'SSH_TIMEOUT', message: 'connection timed out', badInput: false}
  if (/connection refused/.test(s))
    return {code: 'SSH_REFUSED', message: 'connection refused (is sshd running on that port?)', badInput: false}
  if (
    /no route to host|network is unreachable|could not resolve hostname|name or service not known|temporary failure in name resolution/.test(
      s,
    )
  )
    return {code: 'SSH_UNREACHABLE', message: first || 'unreachable', badInput: false}
  if (/host key verification failed|no .* host key is known|remote host identification has changed/.test(s))
    return {code: 'SSH_HOST_KEY', message: 'host key unknown or changed (host key checking is on)', badInput: true}
  // Before "permission denied": with a key file it cannot read, ssh says both, and the key is the cause.
  if (/identity file .* not accessible|no such identity/.test(s))
    return {code: 'SSH_IDENTITY', message: first, badInput: true}
  if (/permission denied|too many authentication failures|no supported authentication/.test(s))
    return {code: 'SSH_AUTH', message: 'authentication failed (permission denied)', badInput: true}
  if (/connection (closed|reset)|kex_exchange_identification/.test(s))
    return {code: 'SSH_CLOSED', message: first || 'connection closed by the remote host', badInput: false}
  return {code: 'SSH_FAILED', message: first || `ssh exited with ${exitCode ?? 'no status'}`, badInput: false}
}

/** Two different machines may share a hostname (cloned VMs, "localhost"): tell them apart by address. */
export function disambiguateHosts(hosts: HostFacts[]): void {
  const byId = new Map<string, HostFacts[]>()
  for (const h of hosts) byId.set(h.server.id, [...(byId.get(h.server.id) ?? []), h])
  for (const same of byId.values()) {
    if (same.length < 2 || same.every((h) => h.server.privateIps.join() === same[0].server.privateIps.join())) continue
    for (const h of same) {
      const id = `${h.server.id}-${h.server.privateIps[0] ?? h.server.source?.ref ?? 'host'}`.replace(
        /[^A-Za-z0-9._:/-]/g,
        '-',
      )
      for (const d of h.databases) d.serverId = id
      h.server.id = id
    }
  }
}

const SSH_HINTS: Record<string, string> = {
  SSH_HOST_KEY:
    'Add the host key to known_hosts (ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts, after checking its fingerprint), pass --known-hosts FILE, or --accept-new-host-keys',
  SSH_AUTH: 'Pass --identity KEY for a key the host accepts (authorized_keys of that user), and the right user@',
  SSH_IDENTITY: 'Pass --identity with the path of a private key file readable by this user',
  SSH_REFUSED: 'Check that the host is up and sshd listens on that port',
  SSH_TIMEOUT: 'Check that the host is up and reachable from here (routes, firewalls), or raise --connect-timeout',
  SSH_UNREACHABLE: 'Check the host name or address, and the route to it',
}

export const sshSource: DiscoverySource<SshOptions> = {
  kind: 'ssh',
  tasks: (o) => o.targets.map((t) => `ssh ${t.label}`),
  async discover(o, emit) {
    if (o.targets.length === 0)
      throw badInput('ssh: no hosts given', 'SSH_NO_HOSTS', 'Pass --host user@host[:port] (repeatable) or --hosts FILE')
    const identity = o.identity !== undefined ? checkIdentity(o.identity) : undefined
    const {execa} = await import('execa')
    const result = emptyResult(
      'ssh',
      o.targets.map((t) => t.label),
    )
    const probed = await mapWithLimit(o.targets, o.concurrency ?? 10, async (t): Promise<HostFacts | TargetFailure> => {
      const task = `ssh ${t.label}`
      emit({task, status: 'start'})
      const r = await execa('ssh', sshArgs(t, {...o, identity}), {
        reject: false,
        stdin: 'ignore',
        timeout: ((o.connectTimeoutS ?? 10) + 60) * 1000,
        env: {LC_ALL: 'C'},
        maxBuffer: 64 * 1024 * 1024,
      })
      if (r.exitCode !== 0 || !String(r.stdout).includes('@@end')) {
        const f = classifySshFailure(String(r.stderr ?? ''), r.exitCode, r.timedOut)
        emit({task, status: 'failed', message: f.message})
        return {target: t.label, ...f}
      }
      const h = factsFromProbe({target: t.label, address: t.host, stdout: String(r.stdout)})
      emit({
        task,
        status: 'done',
        message: `${h.server.name}: ${h.server.vcpus} vCPU, ${h.server.memoryMiB} MiB, ${h.server.services?.length ?? 0} services`,
      })
      return h
    })
    // In the order the hosts were given, whichever answered first.
    const failures = probed.filter((x): x is TargetFailure => 'target' in x)
    const ok = probed.filter((x): x is HostFacts => !('target' in x))
    disambiguateHosts(ok)
    result.failures.push(...failures.map(({target, code, message}) => ({target, code, message})))
    if (ok.length === 0) throw everyTargetFailed('ssh', failures, SSH_HINTS)
    for (const h of ok) {
      result.servers.push(h.server)
      result.databases.push(...h.databases)
    }
    result.dependencies.push(...observedDependencies(ok, {excludePorts: o.excludePorts}))
    return result
  },
}
