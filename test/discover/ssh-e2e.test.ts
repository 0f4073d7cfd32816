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
import {migrate, tempDir} from './helpers.js'

const SSHD = '/usr/sbin/sshd'
const PORT = 22231
const DEAD_PORT = 22232
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
    writeFileSync(knownHosts, `[127.0.0.1]:${PORT} ${hostPub}\n`)
    mkdirSync('/run/sshd', {recursive: true})
    sshd = execa(SSHD, ['-D', '-e', '-p', String(PORT), '-h', path.join(t.dir, 'host_key'), '-o', 'ListenAddress=127.0.0.1', '-o', `AuthorizedKeysFile=${path.join(t.dir, 'authorized_keys')}`, '-o', `PidFile=${path.join(t.dir, 'sshd.pid')}`, '-o', 'StrictModes=no', '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no', '-o', 'PermitRootLogin=prohibit-password', '-o', 'UsePAM=no'], {reject: false})
    await waitForPort(PORT)
  })

  afterAll(async () => {
    sshd?.kill('SIGTERM')
    await sshd
    t.cleanup()
  })

  it('probes this machine: CPUs, memory, disks, OS and the real PostgreSQL/MariaDB/Redis, with --db enrichment', async () => {
    const out = path.join(t.dir, 'plans/onprem/inventory.yaml')
    const r = await migrate(['discover', 'ssh', '--host', `root@127.0.0.1:${PORT}`, '--identity', key, '--known-hosts', knownHosts, '--db', 'postgres://postgres:not-a-real-password@127.0.0.1:5432/postgres', '--out', out, '--json'])
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
    const r = await migrate(['discover', 'ssh', '--host', `root@127.0.0.1:${PORT}`, '--hosts', hosts, '--identity', key, '--known-hosts', knownHosts, '--out', path.join(t.dir, 'p2/inventory.yaml'), '--json'])
    // Partly done: the inventory holds the host that answered, and exit 7 says two did not (0 with --allow-partial).
    expect(r.exitCode).toBe(7)
    const res = JSON.parse(r.stdout).result
    expect(res.counts.servers).toBe(1)
    expect(res.failures).toEqual([
      {target: `root@127.0.0.1:${DEAD_PORT}`, code: 'SSH_REFUSED', message: 'connection refused (is sshd running on that port?)'},
      {target: `nobody@127.0.0.1:${PORT}`, code: 'SSH_AUTH', message: 'authentication failed (permission denied)'},
    ])
  })

  it('host key checking stays on: an unknown host key fails with exit 64 and the remedy', async () => {
    const empty = path.join(t.dir, 'empty_known_hosts')
    writeFileSync(empty, '')
    const r = await migrate(['discover', 'ssh', '--host', `root@127.0.0.1:${PORT}`, '--identity', key, '--known-hosts', empty, '--out', path.join(t.dir, 'p3/inventory.yaml')])
    expect(r.exitCode).toBe(64)
    expect(r.firstLine).toBe(`Error [SSH_HOST_KEY]: ssh root@127.0.0.1:${PORT}: host key unknown or changed (host key checking is on)`)
    expect(r.stderr).toContain('--accept-new-host-keys')
  })

  it('only unreachable hosts: exit 1', async () => {
    const r = await migrate(['discover', 'ssh', '--host', `root@127.0.0.1:${DEAD_PORT}`, '--identity', key, '--known-hosts', knownHosts, '--out', path.join(t.dir, 'p4/inventory.yaml')])
    expect(r.exitCode).toBe(1)
    expect(r.firstLine).toBe(`Error [SSH_REFUSED]: ssh root@127.0.0.1:${DEAD_PORT}: connection refused (is sshd running on that port?)`)
  })
})
