// migrate discover ssh end to end against a real OpenSSH sshd (Debian's openssh-server) started on a loopback port
// with a throwaway host key and authorized_keys, reading this machine's real facts. Needs root (sshd privilege
// separation) and /usr/sbin/sshd; .ci/run installs openssh-server.
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {execa, type ResultPromise} from 'execa'
import {parse} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Inventory} from '../../src/schema/inventory.js'
import {freePort, freePortBlock, onFreePort, portInUse} from '../helpers/ports.js'
import {migrate, tempDir} from './helpers.js'

const SSHD = '/usr/sbin/sshd'
// Reserved ports, chosen in beforeAll (test/helpers/ports.ts); nothing listens on DEAD_PORT.
let PORT = 0
let DEAD_PORT = 0
const canRun = existsSync(SSHD) && process.getuid?.() === 0

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`sshd did not listen on ${port}`)
}

describe.skipIf(!canRun)('migrate discover ssh against a real sshd', () => {
  const t = tempDir('migrate-sshd-')
  let sshd: ResultPromise | undefined
  const key = path.join(t.dir, 'id_ed25519')
  const knownHosts = path.join(t.dir, 'known_hosts')

  beforeAll(async () => {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(t.dir, 'host_key')])
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key])
    writeFileSync(path.join(t.dir, 'authorized_keys'), readFileSync(`${key}.pub`), {mode: 0o600})
    const hostPub = readFileSync(path.join(t.dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
    mkdirSync('/run/sshd', {recursive: true})
    await onFreePort(async (port) => {
      PORT = port
      writeFileSync(knownHosts, `[127.0.0.1]:${PORT} ${hostPub}\n`)
      sshd = startSshd()
      await waitForPort(PORT).catch(() => undefined)
      // An sshd that found the port taken exits at once: give it that moment before asking.
      await new Promise((r) => setTimeout(r, 100))
      if (sshd.exitCode !== null) throw portInUse(port, 'sshd')
    })
    DEAD_PORT = await freePort()
  })

  const startSshd = () =>
    execa(
      SSHD,
      [
        '-D',
        '-e',
        '-p',
        String(PORT),
        '-h',
        path.join(t.dir, 'host_key'),
        '-o',
        'ListenAddress=127.0.0.1',
        '-o',
        `AuthorizedKeysFile=${path.join(t.dir, 'authorized_keys')}`,
        '-o',
        `PidFile=${path.join(t.dir, 'sshd.pid')}`,
        '-o',
        'StrictModes=no',
        '-o',
        'PasswordAuthentication=no',
        '-o',
        'KbdInteractiveAuthentication=no',
        '-o',
        'PermitRootLogin=prohibit-password',
        '-o',
        'UsePAM=no',
      ],
      {reject: false},
    )

  afterAll(async () => {
    sshd?.kill('SIGTERM')
    await sshd
    t.cleanup()
  })

  it('probes this machine: CPUs, memory, disks, OS and the real PostgreSQL/MariaDB/Redis, with --db enrichment', async () => {
    const out = path.join(t.dir, 'plans/onprem/inventory.yaml')
    const r = await migrate([
      'discover',
      'ssh',
      '--host',
      `root@127.0.0.1:${PORT}`,
      '--identity',
      key,
      '--known-hosts',
      knownHosts,
      '--db',
      'postgres://postgres:not-a-real-password@127.0.0.1:5432/postgres',
      '--out',
      out,
      '--json',
    ])
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const inv = Inventory.parse(parse(readFileSync(out, 'utf8')))
    expect(inv.servers).toHaveLength(1)
    const s = inv.servers[0]
    const meminfo = readFileSync('/proc/meminfo', 'utf8')
    expect(s.memoryMiB).toBe(Math.round(Number(/MemTotal:\s+(\d+)/.exec(meminfo)![1]) / 1024))
    const nproc = await execa('nproc')
    expect(s.vcpus).toBe(Number(nproc.stdout.trim()))
    expect(s.os.family).toBe('linux')
    expect(s.os.name).toContain('Debian')
    expect(s.disks.length).toBeGreaterThan(0)
    expect(s.services?.some((x) => x.port === PORT && x.service === 'ssh')).toBe(true)
    expect(s.source).toEqual({kind: 'ssh', ref: `root@127.0.0.1:${PORT}`})
    const pg = inv.databases.find((d) => d.id === 'postgres:127.0.0.1:5432')
    expect(pg).toMatchObject({engine: 'postgres', serverId: s.id})
    expect(pg?.version).toMatch(/^\d+\.\d+/)
    expect(pg?.settings?.wal_level).toBeDefined()
    expect(inv.databases.map((d) => d.engine).sort()).toEqual(expect.arrayContaining(['mariadb', 'postgres', 'redis']))
    const text = readFileSync(out, 'utf8') + r.stdout
    expect(text).not.toContain('not-a-real-password')
  })

  it('reports a refusing host and a rejected user (from a hosts file), and goes on with the rest', async () => {
    const hosts = path.join(t.dir, 'hosts.txt')
    writeFileSync(hosts, `# dc1\nroot@127.0.0.1:${DEAD_PORT}\n\nnobody@127.0.0.1:${PORT}  # no key for this user\n`)
    const r = await migrate([
      'discover',
      'ssh',
      '--host',
      `root@127.0.0.1:${PORT}`,
      '--hosts',
      hosts,
      '--identity',
      key,
      '--known-hosts',
      knownHosts,
      '--out',
      path.join(t.dir, 'p2/inventory.yaml'),
      '--json',
    ])
    // Partly done: the inventory holds the host that answered, and exit 7 says two did not (0 with --allow-partial).
    expect(r.exitCode).toBe(7)
    const res = JSON.parse(r.stdout).result
    expect(res.counts.servers).toBe(1)
    expect(res.failures).toEqual([
      {
        target: `root@127.0.0.1:${DEAD_PORT}`,
        code: 'SSH_REFUSED',
        message: 'connection refused (is sshd running on that port?)',
      },
      {target: `nobody@127.0.0.1:${PORT}`, code: 'SSH_AUTH', message: 'authentication failed (permission denied)'},
    ])
  })

  it('host key checking stays on: an unknown host key fails with exit 64 and the remedy', async () => {
    const empty = path.join(t.dir, 'empty_known_hosts')
    writeFileSync(empty, '')
    const r = await migrate([
      'discover',
      'ssh',
      '--host',
      `root@127.0.0.1:${PORT}`,
      '--identity',
      key,
      '--known-hosts',
      empty,
      '--out',
      path.join(t.dir, 'p3/inventory.yaml'),
    ])
    expect(r.exitCode).toBe(64)
    expect(r.firstLine).toBe(
      `Error [SSH_HOST_KEY]: ssh root@127.0.0.1:${PORT}: host key unknown or changed (host key checking is on)`,
    )
    expect(r.stderr).toContain('--accept-new-host-keys')
  })

  it('only unreachable hosts: exit 1', async () => {
    const r = await migrate([
      'discover',
      'ssh',
      '--host',
      `root@127.0.0.1:${DEAD_PORT}`,
      '--identity',
      key,
      '--known-hosts',
      knownHosts,
      '--out',
      path.join(t.dir, 'p4/inventory.yaml'),
    ])
    expect(r.exitCode).toBe(1)
    expect(r.firstLine).toBe(
      `Error [SSH_REFUSED]: ssh root@127.0.0.1:${DEAD_PORT}: connection refused (is sshd running on that port?)`,
    )
  })
})

// A second host: an sshd in its own network namespace (APP_IP, its own hostname app1) joined to this machine
// (vm, VM_IP) by a veth pair, with a Redis that vm's test process keeps a connection to. The machine running
// discover is probed too, as in the issue. Ports are reserved at run time (test/helpers/ports.ts), checked free.
// Each run its own /30 of 10.218.0.0/16 (from its pid), so that two runs at once do not share the addresses.
const SUBNET = process.pid % 16384
const VM_IP = `10.218.${SUBNET >> 6}.${(SUBNET & 63) * 4 + 1}`
const APP_IP = `10.218.${SUBNET >> 6}.${(SUBNET & 63) * 4 + 2}`
const canNetns =
  canRun && existsSync('/usr/sbin/ip') && existsSync('/usr/bin/unshare') && existsSync('/usr/bin/redis-server')

describe.skipIf(!canNetns)('migrate discover ssh with a second host in a network namespace', () => {
  const t = tempDir('migrate-netns-')
  const ns = `mig18-${process.pid}`
  const veth = `m18${process.pid % 100000}`
  const key = path.join(t.dir, 'id_ed25519')
  const knownHosts = path.join(t.dir, 'known_hosts')
  const procs: ResultPromise[] = []
  let vmPort = 0
  let appPort = 0
  let redisPort = 0
  let client: net.Socket | undefined
  let admin: ResultPromise | undefined
  const sshdArgs = (port: number, address: string) => [
    '-D',
    '-e',
    '-p',
    String(port),
    '-h',
    path.join(t.dir, 'host_key'),
    '-o',
    `ListenAddress=${address}`,
    '-o',
    `AuthorizedKeysFile=${path.join(t.dir, 'authorized_keys')}`,
    '-o',
    `PidFile=${path.join(t.dir, `sshd-${port}.pid`)}`,
    '-o',
    'StrictModes=no',
    '-o',
    'PasswordAuthentication=no',
    '-o',
    'KbdInteractiveAuthentication=no',
    '-o',
    'PermitRootLogin=prohibit-password',
    '-o',
    'UsePAM=no',
  ]
  const target = (ip: string, port: number) => `root@${ip}:${port}`
  const discover = (args: string[], out: string) =>
    migrate([
      'discover',
      'ssh',
      '--host',
      target(VM_IP, vmPort),
      '--host',
      target(APP_IP, appPort),
      '--identity',
      key,
      '--known-hosts',
      knownHosts,
      '--out',
      out,
      ...args,
    ])

  beforeAll(async () => {
    const {waitForPort} = await import('./helpers.js')
    // Reserved ports: each server listens on an address of its own (VM_IP, or APP_IP in the namespace),
    // where nothing else listens; the ports only need to differ.
    vmPort = await freePortBlock(3)
    appPort = vmPort + 1
    redisPort = vmPort + 2
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(t.dir, 'host_key')])
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key])
    writeFileSync(path.join(t.dir, 'authorized_keys'), readFileSync(`${key}.pub`), {mode: 0o600})
    const hostPub = readFileSync(path.join(t.dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
    writeFileSync(knownHosts, `[${VM_IP}]:${vmPort} ${hostPub}\n[${APP_IP}]:${appPort} ${hostPub}\n`)
    mkdirSync('/run/sshd', {recursive: true})
    await execa('ip', ['netns', 'add', ns])
    await execa('ip', ['link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`])
    await execa('ip', ['link', 'set', `${veth}b`, 'netns', ns])
    await execa('ip', ['addr', 'add', `${VM_IP}/30`, 'dev', `${veth}a`])
    await execa('ip', ['link', 'set', `${veth}a`, 'up'])
    await execa('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${APP_IP}/30`, 'dev', `${veth}b`])
    await execa('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', `${veth}b`, 'up'])
    await execa('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'])
    procs.push(execa(SSHD, sshdArgs(vmPort, VM_IP), {reject: false}))
    procs.push(
      execa(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'unshare',
          '--uts',
          'sh',
          '-c',
          `hostname app1 && exec ${SSHD} "$@"`,
          'sh',
          ...sshdArgs(appPort, APP_IP),
        ],
        {reject: false},
      ),
    )
    procs.push(
      execa(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'redis-server',
          '--port',
          String(redisPort),
          '--bind',
          APP_IP,
          '--protected-mode',
          'no',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          t.dir,
        ],
        {reject: false},
      ),
    )
    await waitForPort(vmPort, VM_IP)
    await waitForPort(appPort, APP_IP)
    await waitForPort(redisPort, APP_IP)
    // vm's application talks to app1's Redis, and keeps the connection open.
    client = net.connect(redisPort, APP_IP)
    await new Promise((resolve) => client!.once('connect', resolve))
  }, 30_000)

  afterAll(async () => {
    client?.destroy()
    admin?.kill('SIGTERM')
    for (const p of procs) p.kill('SIGTERM')
    await Promise.allSettled([admin, ...procs])
    await execa('ip', ['link', 'del', `${veth}a`], {reject: false})
    await execa('ip', ['netns', 'del', ns], {reject: false})
    t.cleanup()
  })

  it("observes vm → app1's Redis, not the probe's own SSH sessions; an admin session only until its port is excluded; a host that fails later keeps all of it", {
    timeout: 120_000,
  }, async () => {
    const out = path.join(t.dir, 'plans/dc/inventory.yaml')
    const first = await discover(['--db', `redis://${APP_IP}:${redisPort}`, '--json'], out)
    expect(first.stderr).toBe('')
    expect(first.exitCode).toBe(0)
    let inv = Inventory.parse(parse(readFileSync(out, 'utf8')))
    const app1 = inv.servers.find((s) => s.privateIps.includes(APP_IP))!
    const vm = inv.servers.find((s) => s.privateIps.includes(VM_IP))!
    expect(app1.id).toBe('app1')
    const redisId = `redis:${APP_IP}:${redisPort}`
    // The probe's guess and the introspection are one record, on app1, with what only introspection knows.
    expect(inv.databases.filter((d) => d.host === APP_IP)).toEqual([
      expect.objectContaining({id: redisId, serverId: 'app1', role: 'standalone', sizeGiB: expect.any(Number)}),
    ])
    expect(inv.dependencies.map((d) => [d.from, d.to, d.port, d.learnt])).toEqual([
      [vm.id, redisId, redisPort, 'observed'],
    ])

    // A person's SSH session from vm to app1 is a connection like any other, until its port is management.
    admin = execa(
      'ssh',
      [
        '-T',
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-i',
        key,
        '-p',
        String(appPort),
        `root@${APP_IP}`,
        'sleep 120',
      ],
      {reject: false},
    )
    // Under load an ssh handshake can take seconds: wait until the session shows in the socket table.
    const until = Date.now() + 60_000
    let up = false
    while (
      Date.now() < until &&
      !(up = (await execa('ss', ['-tn', 'state', 'established', 'dst', `${APP_IP}:${appPort}`])).stdout.includes(
        APP_IP,
      ))
    )
      await new Promise((r) => setTimeout(r, 100))
    expect(up).toBe(true)
    const excluded = await discover(['--exclude-port', String(appPort), '--dry-run', '--json'], out)
    expect(JSON.parse(excluded.stdout).result.diff.dependencies).toMatchObject({added: [], removed: [], changed: []})
    const seen = await discover(['--json'], out)
    expect(JSON.parse(seen.stdout).result.diff.dependencies.added).toEqual([`${vm.id} → app1 (calls, ${appPort})`])
    admin.kill('SIGTERM')
    await admin
    admin = undefined
    inv = Inventory.parse(parse(readFileSync(out, 'utf8')))
    const before = inv.dependencies

    // app1's sshd goes away: the run is partial (exit 7) and app1 keeps its record, its database and every
    // dependency, also those vm still sees; the diff says nothing was removed.
    procs[1].kill('SIGTERM')
    await procs[1]
    const partial = await discover([], out)
    expect(partial.exitCode).toBe(7)
    expect(partial.stdout).toContain(`FAILED   ${target(APP_IP, appPort)}: connection refused`)
    // No server is removed, and nothing of app1's. vm is this machine, whose own services come and go meanwhile
    // (other suites start and stop servers on reserved ports): vm answered, so a service of its that ended is
    // rightly removed; only the host that failed keeps what it had.
    expect(partial.stdout).toMatch(/servers \d+ added, 0 removed, \d+ changed, \d+ unchanged; databases /)
    const removedDbs = [...partial.stdout.matchAll(/^ {2}-db (.+)$/gm)].flatMap((m) => m[1].split(', '))
    expect(removedDbs.filter((id) => !id.includes(`:${VM_IP}:`))).toEqual([])
    expect(partial.stdout).toMatch(/dependencies 0 added, 0 removed, 0 changed, 2 unchanged/)
    inv = Inventory.parse(parse(readFileSync(out, 'utf8')))
    expect(inv.servers.map((s) => s.id)).toContain('app1')
    expect(inv.databases.map((d) => d.id)).toContain(redisId)
    expect(inv.dependencies).toEqual(before)
  })

  it('a missing -i key is its own error; when every host fails, text mode shows every reason, and the exit code does not depend on the order', async () => {
    const out = path.join(t.dir, 'plans/none/inventory.yaml')
    const missing = await migrate([
      'discover',
      'ssh',
      '--host',
      target(VM_IP, vmPort),
      '--identity',
      path.join(t.dir, 'no_such_key'),
      '--known-hosts',
      knownHosts,
      '--out',
      out,
    ])
    expect(missing.exitCode).toBe(64)
    expect(missing.firstLine).toBe(
      `Error [SSH_IDENTITY]: --identity ${path.join(t.dir, 'no_such_key')}: no readable private key file there`,
    )
    // app1's sshd is stopped (by the test before, or here if that one stopped early).
    procs[1].kill('SIGTERM')
    await procs[1]
    const dead = target(APP_IP, appPort)
    const refusedThenAuth = await migrate([
      'discover',
      'ssh',
      '--host',
      dead,
      '--host',
      `nobody@${VM_IP}:${vmPort}`,
      '--identity',
      key,
      '--known-hosts',
      knownHosts,
      '--out',
      out,
    ])
    const authThenRefused = await migrate([
      'discover',
      'ssh',
      '--host',
      `nobody@${VM_IP}:${vmPort}`,
      '--host',
      dead,
      '--identity',
      key,
      '--known-hosts',
      knownHosts,
      '--out',
      out,
    ])
    expect([refusedThenAuth.exitCode, authThenRefused.exitCode]).toEqual([64, 64])
    expect(refusedThenAuth.stderr).toContain(
      `Error [SSH_ALL_FAILED]: every host failed (2):\n  ssh ${dead}: connection refused (is sshd running on that port?)\n  ssh nobody@${VM_IP}:${vmPort}: authentication failed (permission denied)\n`,
    )
    expect(refusedThenAuth.stderr + authThenRefused.stderr).not.toContain('not affected')
    expect(existsSync(out)).toBe(false)
  })
})
