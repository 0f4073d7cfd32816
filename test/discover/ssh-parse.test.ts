// The SSH probe's parsers on outputs recorded on CentOS 7, Ubuntu 22.04, Debian 12 and Alpine 3.19, and the
// observed dependencies between three hosts of one application that talk to each other.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {classifySshFailure, disambiguateHosts, parseTarget, sshArgs} from '../../src/providers/ssh.js'
import {splitSections} from '../../src/discover/ssh-host-facts.js'
import {factsFromProbe, observedDependencies} from '../../src/discover/ssh-parse.js'
import {parseEndpoint, parseListening} from '../../src/discover/ssh-sockets.js'

const fixture = (name: string) => readFileSync(path.join(__dirname, '../fixtures/ssh', name), 'utf8')
const probe = (name: string, address: string) =>
  factsFromProbe({target: `root@${address}`, address, stdout: fixture(name)})

describe('ssh probe parsers on recorded outputs', () => {
  it('CentOS 7: old iproute2 ss, LVM root, IPv4-mapped IPv6 peers', () => {
    const h = probe('centos7.txt', '10.20.0.11')
    expect(h.server).toMatchObject({
      id: 'orders-app-01',
      vcpus: 8,
      memoryMiB: 15886,
      os: {family: 'linux', name: 'CentOS Linux 7 (Core)', version: '7'},
      role: 'app',
    })
    expect(h.server.privateIps).toEqual(['10.20.0.11', '172.17.0.1'])
    // One disk (sda); the LVM volumes' use is attributed to it; the CD-ROM is not a disk.
    expect(h.server.disks).toEqual([{name: 'sda', sizeGiB: 100, usedGiB: 20.03}])
    expect(h.server.services?.map((s) => [s.port, s.process, s.service])).toEqual([
      [22, 'sshd', 'ssh'],
      [25, 'master', undefined],
      [8080, 'java', 'app'],
    ])
    expect(h.established.find((c) => c.local.port === 8080)?.peer).toEqual({address: '10.20.0.40', port: 41822})
    expect(h.databases).toEqual([])
  })

  it('Ubuntu 22.04: NVMe partitions, loop devices ignored, PostgreSQL becomes a database', () => {
    const h = probe('ubuntu2204.txt', '10.20.0.21')
    expect(h.server).toMatchObject({
      id: 'orders-db-01',
      vcpus: 16,
      memoryMiB: 64299,
      role: 'database',
      os: {name: 'Ubuntu 22.04.4 LTS', version: '22.04'},
    })
    expect(h.server.disks).toEqual([
      {name: 'nvme0n1', sizeGiB: 100, usedGiB: 11.87},
      {name: 'nvme1n1', sizeGiB: 1024, usedGiB: 584.03},
    ])
    expect(h.databases).toEqual([
      expect.objectContaining({
        id: 'postgres:10.20.0.21:5432',
        engine: 'postgres',
        serverId: 'orders-db-01',
        port: 5432,
      }),
    ])
    expect(h.server.services?.find((s) => s.port === 53)?.process).toBe('systemd-resolve')
  })

  it('Debian 12 (recorded on this machine): lsblk, hostname -I, ss with processes', () => {
    const h = probe('debian12.txt', '192.0.2.2')
    expect(h.server.os).toMatchObject({family: 'linux', version: '12'})
    expect(h.server.vcpus).toBeGreaterThan(0)
    expect(h.server.memoryMiB).toBeGreaterThan(100)
    expect(h.server.disks.length).toBeGreaterThan(0)
    expect(h.server.disks.every((d) => !d.name.startsWith('zram'))).toBe(true)
    expect(h.databases.map((d) => d.engine).sort()).toEqual(['mariadb', 'postgres', 'redis'])
  })

  it('Alpine 3.19: busybox netstat, no lsblk, ip -o addr instead of hostname -I', () => {
    const h = probe('alpine319.txt', '10.20.0.31')
    expect(h.server).toMatchObject({
      id: 'orders-cache-01',
      vcpus: 2,
      memoryMiB: 3934,
      role: 'cache',
      os: {name: 'Alpine Linux v3.19', version: '3.19.1'},
    })
    expect(h.server.privateIps).toEqual(['10.20.0.31'])
    expect(h.server.disks.map((d) => d.name)).toEqual(['vda3', 'vda1'])
    expect(h.databases.map((d) => d.id)).toEqual(['redis:10.20.0.31:6379'])
    expect(h.server.services?.map((s) => s.port)).toEqual([22, 6379])
  })

  it('connections between probed hosts become observed dependencies, counted once per connection', () => {
    const deps = observedDependencies([
      probe('centos7.txt', '10.20.0.11'),
      probe('ubuntu2204.txt', '10.20.0.21'),
      probe('alpine319.txt', '10.20.0.31'),
    ])
    expect(deps.sort((a, b) => a.to.localeCompare(b.to))).toEqual([
      {
        from: 'orders-app-01',
        to: 'postgres:10.20.0.21:5432',
        kind: 'writes',
        protocol: 'postgres',
        port: 5432,
        learnt: 'observed',
        latencySensitive: true,
        weight: 2,
      },
      {
        from: 'orders-app-01',
        to: 'redis:10.20.0.31:6379',
        kind: 'reads',
        protocol: 'redis',
        port: 6379,
        learnt: 'observed',
        latencySensitive: true,
        weight: 1,
      },
    ])
  })

  it('two machines with one hostname keep distinct ids', () => {
    const hosts = [probe('ubuntu2204.txt', '10.20.0.21'), probe('ubuntu2204.txt', '10.20.0.99')]
    disambiguateHosts(hosts)
    expect(hosts.map((h) => h.server.id)).toEqual(['orders-db-01-10.20.0.21', 'orders-db-01-10.20.0.99'])
    expect(hosts[1].databases[0].serverId).toBe('orders-db-01-10.20.0.99')
  })

  it('sections, endpoints and listeners in all their spellings', () => {
    expect([...splitSections('junk\n@@a\n1\n@@b\n2\n3\n@@end\n').entries()]).toEqual([
      ['a', '1'],
      ['b', '2\n3'],
    ])
    expect(parseEndpoint('[::]:22')).toEqual({address: '*', port: 22})
    expect(parseEndpoint('127.0.0.53%lo:53')).toEqual({address: '127.0.0.53', port: 53})
    expect(parseEndpoint('[::ffff:10.0.0.1]:80')).toEqual({address: '10.0.0.1', port: 80})
    expect(parseListening('LISTEN 0 128 *:22 *:* users:(("sshd",1043,3))')[0].process).toBe('sshd')
  })
})

describe('ssh invocation', () => {
  it('is argv with BatchMode and host key checking on; the probe is fixed text', () => {
    const args = sshArgs(parseTarget('deploy@10.0.0.5:2222'), {targets: [], identity: '/k', knownHosts: '/kh'})
    expect(args).toContain('BatchMode=yes')
    expect(args).toContain('StrictHostKeyChecking=yes')
    expect(args.slice(-3, -1)).toEqual(['--', '10.0.0.5'])
    expect(args).toEqual(expect.arrayContaining(['-p', '2222', '-l', 'deploy', '-i', '/k', 'UserKnownHostsFile=/kh']))
    expect(args.at(-1)).not.toMatch(/'.*'.*'/s)
    expect(sshArgs(parseTarget('h'), {targets: [], acceptNewHostKeys: true})).toContain(
      'StrictHostKeyChecking=accept-new',
    )
  })

  it('classifies what ssh says', () => {
    expect(classifySshFailure('ssh: connect to host 10.0.0.9 port 22: Connection refused\n', 255, false).code).toBe(
      'SSH_REFUSED',
    )
    expect(classifySshFailure('Host key verification failed.\n', 255, false)).toMatchObject({
      code: 'SSH_HOST_KEY',
      badInput: true,
    })
    expect(classifySshFailure('deploy@10.0.0.9: Permission denied (publickey).\n', 255, false)).toMatchObject({
      code: 'SSH_AUTH',
      badInput: true,
    })
    expect(classifySshFailure('', undefined, true).code).toBe('SSH_TIMEOUT')
    expect(() => parseTarget('a@b@c')).toThrow(/expected \[user@\]host\[:port\]/)
  })
})
