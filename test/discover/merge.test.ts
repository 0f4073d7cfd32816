// What a run does to what it did not look at (issue 18), case by case on the pure merge: a --db database survives
// runs without --db, a host that could not be read keeps its dependencies and databases, --db attaches to servers
// of earlier runs, the probe's own sessions are not dependencies, and the diff names every field that changed.
import {describe, expect, it} from 'vitest'
import {buildInventory} from '../../src/discover/build.js'
import {diffInventories} from '../../src/discover/diff.js'
import {everyTargetFailed} from '../../src/discover/failures.js'
import {renderDiff} from '../../src/discover/render.js'
import {factsFromProbe, observedDependencies, parseSshConnection} from '../../src/discover/ssh-parse.js'
import {emptyResult, type SourceResult} from '../../src/discover/types.js'
import type {Database, Dependency, Inventory, Server} from '../../src/schema/inventory.js'

const OUT = '/plans/t/inventory.yaml'
const build = (results: SourceResult[], prev?: Inventory) =>
  buildInventory(results, prev, {out: OUT, now: new Date('2026-11-30T00:00:00Z')})

function host(id: string, ip: string, ports: number[] = [22], kind = 'ssh'): Server {
  return {
    id,
    name: id,
    provider: 'onprem',
    hostname: id,
    privateIps: [ip],
    publicIps: [],
    vcpus: 2,
    memoryMiB: 4096,
    disks: [],
    os: {family: 'linux'},
    state: 'running',
    tags: {},
    services: ports.map((port) => ({port})),
    source: {kind, ref: kind === 'ssh' ? `root@${ip}` : `servers.csv:${ip.split('.').at(-1)}`},
  }
}
function db(id: string, over: Partial<Database> = {}): Database {
  const [engine, h, port] = id.split(':')
  return {
    id,
    name: id,
    engine: engine as Database['engine'],
    host: h,
    port: Number(port),
    managed: false,
    tags: {},
    ...over,
  }
}
function ssh(hosts: Server[], failed: string[] = [], dbs: Database[] = [], deps: Dependency[] = []): SourceResult {
  const r = emptyResult('ssh', [...hosts.map((h) => h.source!.ref!), ...failed])
  r.servers.push(...hosts)
  r.databases.push(...dbs)
  r.dependencies.push(...deps)
  r.failures.push(...failed.map((target) => ({target, code: 'SSH_TIMEOUT', message: 'connection timed out'})))
  return r
}
function introspected(...dbs: Database[]): SourceResult {
  const r = emptyResult(
    'db',
    dbs.map((d) => d.source!.ref!),
  )
  r.databases.push(...dbs)
  return r
}
const redisUrl = 'redis://127.0.0.1:6379'
const redis = (persistence = 'none') =>
  db('redis:127.0.0.1:6379', {
    version: '7.0.15',
    sizeGiB: 0.001,
    role: 'standalone',
    settings: {persistence, aof_enabled: persistence === 'aof' ? '1' : '0'},
    source: {kind: 'db', ref: redisUrl},
  })
const file = (...servers: Server[]) => ({...emptyResult('file', ['servers.csv']), servers})
const observed = (from: string, to: string, port: number): Dependency => ({
  from,
  to,
  kind: 'calls',
  port,
  learnt: 'observed',
  latencySensitive: false,
  weight: 1,
})

describe('a run removes only what its own scope covers and no longer finds', () => {
  it("a database from --db survives a later run of the same file without --db (the issue's case), and attaches to that file's server", () => {
    const vm = host('vm', '127.0.0.1', [], 'file')
    const first = build([file(vm), introspected(redis())]).inventory
    expect(first.databases).toEqual([expect.objectContaining({id: 'redis:127.0.0.1:6379', serverId: 'vm'})])
    const again = build([file(vm)], first)
    expect(again.inventory.databases.map((d) => d.id)).toEqual(['redis:127.0.0.1:6379'])
    expect(diffInventories(first, again.inventory).databasesRemoved).toEqual([])
  })

  it('a probe of the host keeps a --db database while its port listens, and removes it when nothing listens there', () => {
    const first = build([
      ssh([host('app1', '10.99.0.2', [22, 6379])]),
      introspected(db('redis:10.99.0.2:6379', {source: {kind: 'db', ref: 'redis://10.99.0.2:6379'}})),
    ]).inventory
    expect(first.databases[0].serverId).toBe('app1')
    const listening = build([ssh([host('app1', '10.99.0.2', [22, 6379])])], first).inventory
    expect(listening.databases.map((d) => d.id)).toEqual(['redis:10.99.0.2:6379'])
    const stopped = build([ssh([host('app1', '10.99.0.2', [22])])], listening).inventory
    expect(stopped.databases).toEqual([])
  })

  it('a CMDB inventory file that no longer lists a database removes it; another file does not', () => {
    const fromFile = (f: string, ...dbs: Database[]) => ({
      ...emptyResult('file', [f]),
      databases: dbs.map((d) => ({...d, source: {kind: 'file', ref: `${f}:${d.id}`}})),
    })
    const first = build([
      fromFile('a.yaml', db('orders-db:x:1', {host: '10.0.0.5', port: 5432, engine: 'postgres'})),
      fromFile('b.yaml', db('billing-db:x:1', {host: '10.0.0.6', port: 5432, engine: 'postgres'})),
    ]).inventory
    expect(build([fromFile('b.yaml')], first).inventory.databases.map((d) => d.id)).toEqual(['orders-db:x:1'])
  })

  it('a host that could not be read keeps its record, its databases and its observed dependencies; the diff says nothing changed', () => {
    const a = host('app1', '10.99.0.1', [22, 8080])
    const b = host('db1', '10.99.0.2', [22, 5432, 6379])
    const pg = db('postgres:10.99.0.2:5432', {serverId: 'db1', source: {kind: 'ssh', ref: 'root@10.99.0.2'}})
    const rd = db('redis:10.99.0.2:6379', {serverId: 'db1', source: {kind: 'ssh', ref: 'root@10.99.0.2'}})
    const deps = [
      observed('app1', 'postgres:10.99.0.2:5432', 5432),
      observed('app1', 'redis:10.99.0.2:6379', 6379),
      observed('db1', 'app1', 8080),
    ]
    const first = build([ssh([a, b], [], [pg, rd], deps)]).inventory
    expect(first.dependencies).toHaveLength(3)
    // db1 times out: nothing can be said about its connections, not even those app1 still sees.
    const partial = build([ssh([a], ['root@10.99.0.2'])], first).inventory
    expect(partial.servers.map((s) => s.id)).toEqual(['app1', 'db1'])
    expect(partial.databases.map((d) => d.id)).toEqual(['postgres:10.99.0.2:5432', 'redis:10.99.0.2:6379'])
    expect(partial.dependencies).toEqual(first.dependencies)
    const d = diffInventories(first, partial)
    expect(
      [d.servers, d.databases, d.dependencies].map((k) => [k.added.length, k.removed.length, k.changed.length]),
    ).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ])
    expect(d.dependencies.unchanged).toBe(3)
    // Both read again, one connection closed: that one goes, and the diff says so.
    const closed = build([ssh([a, b], [], [pg, rd], deps.slice(0, 2))], partial).inventory
    expect(diffInventories(partial, closed).dependencies.removed).toEqual(['db1 → app1 (calls, 8080)'])
  })

  it("a database declared under a person's id keeps it when the probe or --db finds it at its endpoint", () => {
    const cmdb = {
      ...emptyResult('file', ['cmdb.yaml']),
      databases: [
        db('orders-db:0:0', {
          engine: 'postgres',
          host: '10.0.0.5',
          port: 5432,
          source: {kind: 'file', ref: 'cmdb.yaml:orders-db'},
        }),
      ],
    }
    const first = build([cmdb]).inventory
    const probed = build(
      [
        ssh(
          [host('pg1', '10.0.0.5', [22, 5432])],
          [],
          [db('postgres:10.0.0.5:5432', {serverId: 'pg1', source: {kind: 'ssh', ref: 'root@10.0.0.5'}})],
        ),
      ],
      first,
    ).inventory
    expect(probed.databases.map((d) => [d.id, d.serverId])).toEqual([['orders-db:0:0', 'pg1']])
  })
})

describe('cloud accounts', () => {
  it("a run in one AWS account leaves another account's instances in the same region alone, and removes its own that are gone", () => {
    const inst = (id: string, account: string): Server => ({
      ...host(id, '10.0.0.1', [], 'aws'),
      provider: 'aws',
      source: {kind: 'aws', ref: `r1/${id}`, account},
    })
    const read = (account: string, ...servers: Server[]): SourceResult => ({
      ...emptyResult('aws', ['r1']),
      account,
      servers,
    })
    const a = build([read('111111111111', inst('i-a1', '111111111111'), inst('i-a2', '111111111111'))]).inventory
    const both = build([read('222222222222', inst('i-b1', '222222222222'))], a).inventory
    expect(both.servers.map((s) => s.id)).toEqual(['i-a1', 'i-a2', 'i-b1'])
    expect(
      build([read('111111111111', inst('i-a1', '111111111111'))], both).inventory.servers.map((s) => s.id),
    ).toEqual(['i-a1', 'i-b1'])
    // A region with no instance left cannot say whose it is: nothing of any account is removed.
    expect(build([{...emptyResult('aws', ['r1'])}], both).inventory.servers.map((s) => s.id)).toEqual([
      'i-a1',
      'i-a2',
      'i-b1',
    ])
  })
})

describe('discover db attaches to servers of earlier runs', () => {
  it('by IP, by hostname; never to one of two servers with the same address', () => {
    const prev = build([file(host('vm', '127.0.0.1', [], 'file'))]).inventory
    expect(build([introspected(redis())], prev).inventory.databases[0].serverId).toBe('vm')
    const byName = build(
      [introspected(db('postgres:db1.dc1:5432', {source: {kind: 'db', ref: 'postgres://db1.dc1:5432'}}))],
      build([ssh([{...host('db1', '10.0.0.9'), hostname: 'db1.dc1'}])]).inventory,
    ).inventory
    expect(byName.databases[0].serverId).toBe('db1')
    const twice = build([
      {
        ...emptyResult('aws', ['r1', 'r2']),
        servers: ['r1', 'r2'].map((r) => ({
          ...host(`i-${r}`, '10.0.0.7', [], 'aws'),
          provider: 'aws' as const,
          source: {kind: 'aws', ref: `${r}/i-${r}`},
        })),
      },
    ]).inventory
    expect(
      build([introspected(db('redis:10.0.0.7:6379', {source: {kind: 'db', ref: 'redis://10.0.0.7:6379'}}))], twice)
        .inventory.databases[0].serverId,
    ).toBeUndefined()
  })
})

describe('MariaDB ids and what the probe cannot know', () => {
  it('the probe guesses mysql by the port, introspection says MariaDB: one record, mariadb:host:port, dependencies follow', () => {
    const guess = db('mysql:10.0.0.3:3306', {serverId: 'm1', source: {kind: 'ssh', ref: 'root@10.0.0.3'}})
    const first = build([
      ssh(
        [host('app', '10.0.0.2'), host('m1', '10.0.0.3', [22, 3306])],
        [],
        [guess],
        [observed('app', 'mysql:10.0.0.3:3306', 3306)],
      ),
    ]).inventory
    const found = db('mariadb:10.0.0.3:3306', {
      engine: 'mariadb',
      sizeGiB: 0.2,
      role: 'standalone',
      source: {kind: 'db', ref: 'mysql://root@10.0.0.3:3306'},
    })
    const r = build([introspected(found)], first)
    expect(r.inventory.databases.map((d) => [d.id, d.engine, d.serverId])).toEqual([
      ['mariadb:10.0.0.3:3306', 'mariadb', 'm1'],
    ])
    expect(r.inventory.dependencies.map((d) => d.to)).toEqual(['mariadb:10.0.0.3:3306'])
    const d = diffInventories(first, r.inventory, r.renamed)
    expect(d.databases.removed).toEqual([])
    expect(d.databases.changed[0].changes).toEqual(
      expect.arrayContaining([
        {field: 'id', from: 'mysql:10.0.0.3:3306', to: 'mariadb:10.0.0.3:3306'},
        {field: 'engine', from: 'mysql', to: 'mariadb'},
      ]),
    )
    expect(d.dependencies.removed).toEqual([])
  })

  it('an inventory written by an older version (MariaDB as mysql:…) is moved to mariadb:… with its dependencies, and says so', () => {
    const old = build([
      ssh(
        [host('app', '10.0.0.2'), host('m1', '10.0.0.3', [22, 3306])],
        [],
        [db('mysql:10.0.0.3:3306', {engine: 'mariadb', serverId: 'm1'})],
        [observed('app', 'mysql:10.0.0.3:3306', 3306)],
      ),
    ]).inventory
    expect(old.databases[0].id).toBe('mysql:10.0.0.3:3306')
    const r = build([file(host('x', '10.5.0.1', [], 'file'))], old)
    expect(r.inventory.databases.map((d) => d.id)).toEqual(['mariadb:10.0.0.3:3306'])
    expect(r.inventory.dependencies.map((d) => d.to)).toEqual(['mariadb:10.0.0.3:3306'])
    expect(r.warnings.map((w) => w.code)).toContain('DATABASE_ID_RENAMED')
    expect(diffInventories(old, r.inventory, r.renamed).databases.changed).toEqual([
      {id: 'mariadb:10.0.0.3:3306', changes: [{field: 'id', from: 'mysql:10.0.0.3:3306', to: 'mariadb:10.0.0.3:3306'}]},
    ])
  })

  it('a database only the probe saw has no size and no role (unknown), and a later --db fills them in', () => {
    const h = factsFromProbe({
      target: 'root@10.0.0.3',
      address: '10.0.0.3',
      stdout: '@@hostname\nm1\n@@listen\nLISTEN 0 80 0.0.0.0:3306 0.0.0.0:* users:(("mariadbd",pid=7,fd=20))\n@@end\n',
    })
    expect(h.databases).toEqual([
      {
        id: 'mariadb:10.0.0.3:3306',
        name: 'mariadb on m1:3306',
        engine: 'mariadb',
        serverId: 'm1',
        host: '10.0.0.3',
        port: 3306,
        managed: false,
        tags: {},
        source: {kind: 'ssh', ref: 'root@10.0.0.3'},
      },
    ])
    const inv = build([ssh([h.server], [], h.databases)]).inventory
    expect(inv.databases[0]).not.toHaveProperty('sizeGiB')
    expect(inv.databases[0]).not.toHaveProperty('role')
  })
})

describe('the probe is not a dependency', () => {
  const text = (name: string, ip: string, lines: string[], session: string) =>
    `@@hostname\n${name}\n@@ip\n${ip}\n@@listen\nLISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))\nLISTEN 0 128 0.0.0.0:8080 0.0.0.0:* users:(("java",pid=2,fd=3))\n@@established\n${lines.join('\n')}\n@@ssh-connection\n${session}\n@@end\n`

  it('its own SSH sessions, seen from the machine running discover when that machine is probed too, are left out; an admin session stays unless its port is excluded', () => {
    // vm runs discover and is probed through loopback; app1's session comes from vm:51000.
    const vm = factsFromProbe({
      target: 'root@127.0.0.1',
      address: '127.0.0.1',
      stdout: text(
        'vm',
        '10.99.0.1',
        [
          'ESTAB 0 0 10.99.0.1:51000 10.99.0.2:22 users:(("ssh",pid=9,fd=3))',
          'ESTAB 0 0 10.99.0.1:51500 10.99.0.2:22 users:(("ssh",pid=10,fd=3))',
        ],
        '127.0.0.1 40000 127.0.0.1 22',
      ),
    })
    const app1 = factsFromProbe({
      target: 'root@10.99.0.2',
      address: '10.99.0.2',
      stdout: text(
        'app1',
        '10.99.0.2',
        [
          'ESTAB 0 0 10.99.0.2:22 10.99.0.1:51000 users:(("sshd",pid=5,fd=4))',
          'ESTAB 0 0 10.99.0.2:22 10.99.0.1:51500 users:(("sshd",pid=6,fd=4))',
        ],
        '10.99.0.1 51000 10.99.0.2 22',
      ),
    })
    expect(app1.session).toEqual({
      client: {address: '10.99.0.1', port: 51000},
      server: {address: '10.99.0.2', port: 22},
    })
    // 51500 is a person's ssh session from vm to app1: a dependency, unless port 22 is management.
    expect(observedDependencies([vm, app1]).map((d) => [d.from, d.to, d.port, d.weight])).toEqual([
      ['vm', 'app1', 22, 1],
    ])
    expect(observedDependencies([vm, app1], {excludePorts: [22]})).toEqual([])
    expect(parseSshConnection('')).toBeUndefined()
    expect(parseSshConnection('::ffff:10.0.0.1 5 10.0.0.2 22')).toEqual({
      client: {address: '10.0.0.1', port: 5},
      server: {address: '10.0.0.2', port: 22},
    })
  })
})

describe('the diff reports every field that changed', () => {
  it('persistence none → aof, an IP, a listening service, an application field, a dependency weight; unchanged counts are honest', () => {
    const a = host('app1', '10.99.0.1', [22, 8080])
    const b = host('db1', '10.99.0.2', [22, 6379])
    const rd = (p: string) =>
      db('redis:10.99.0.2:6379', {
        serverId: 'db1',
        sizeGiB: 0.001,
        role: 'standalone',
        settings: {persistence: p},
        source: {kind: 'db', ref: 'redis://10.99.0.2:6379'},
      })
    const dep = (w: number) => ({...observed('app1', 'redis:10.99.0.2:6379', 6379), kind: 'reads' as const, weight: w})
    const first = build([ssh([a, b], [], [], [dep(1)]), introspected(rd('none'))]).inventory
    const moved = {...a, privateIps: ['10.99.0.5'], source: {kind: 'ssh', ref: 'root@10.99.0.1'}}
    const second = build(
      [ssh([moved, {...b, services: [{port: 22}, {port: 6380}]}], [], [], [dep(3)]), introspected(rd('aof'))],
      {
        ...first,
        applications: [{name: 'shop', criticality: 'medium', environment: 'prod', complexity: 'medium', tags: {}}],
      },
    )
    const d = diffInventories(
      {
        ...first,
        applications: [{name: 'shop', criticality: 'medium', environment: 'prod', complexity: 'medium', tags: {}}],
      },
      second.inventory,
      second.renamed,
    )
    expect(d.databases.changed).toEqual([
      {id: 'redis:10.99.0.2:6379', changes: [{field: 'settings.persistence', from: 'none', to: 'aof'}]},
    ])
    expect(d.servers.changed).toEqual([
      {id: 'app1', changes: [{field: 'privateIps', from: ['10.99.0.1'], to: ['10.99.0.5']}]},
      {id: 'db1', changes: [{field: 'services', from: [{port: 22}, {port: 6379}], to: [{port: 22}, {port: 6380}]}]},
    ])
    expect(d.unchanged).toBe(0)
    expect(d.dependencies.changed).toEqual([
      {id: 'app1 → redis:10.99.0.2:6379 (reads, 6379)', changes: [{field: 'weight', from: 1, to: 3}]},
    ])
    const text = renderDiff(d)
    expect(text[0]).toBe(
      'Changes since the previous inventory: servers 0 added, 0 removed, 2 changed, 0 unchanged; databases 0 added, 0 removed, 1 changed, 0 unchanged; applications 0 added, 0 removed, 0 changed, 1 unchanged; dependencies 0 added, 0 removed, 1 changed, 0 unchanged',
    )
    expect(text).toContain('  ~db redis:10.99.0.2:6379: settings.persistence none → aof')
    expect(text).toContain('  ~ db1: services 22/?, 6379/? → 22/?, 6380/?')
    expect(text).toContain('  ~dep app1 → redis:10.99.0.2:6379 (reads, 6379): weight 1 → 3')
    // Used space is part of what a disk line says, so a disk that filled does not read "sda 100 GiB → sda 100 GiB".
    const filled = diffInventories(
      {servers: [{...a, disks: [{name: 'sda', sizeGiB: 100, usedGiB: 40}]}], databases: []},
      {servers: [{...a, disks: [{name: 'sda', sizeGiB: 100, usedGiB: 41.5}]}], databases: []},
    )
    expect(renderDiff(filled)).toContain('  ~ app1: disks sda 100 GiB (40 used) → sda 100 GiB (41.5 used)')
  })

  it('an application edited, added, and a record whose only change is which source saw it last, which is bookkeeping', () => {
    const before = {
      servers: [host('s', '10.0.0.1')],
      databases: [],
      applications: [
        {
          name: 'shop',
          criticality: 'medium' as const,
          environment: 'prod' as const,
          complexity: 'medium' as const,
          tags: {},
        },
      ],
    }
    const after = {
      servers: [{...host('s', '10.0.0.1'), source: {kind: 'file', ref: 'x.csv:2'}}],
      databases: [],
      applications: [
        {...before.applications[0], criticality: 'high' as const},
        {...before.applications[0], name: 'cart'},
      ],
    }
    const d = diffInventories(before, after)
    expect(d.applications).toEqual({
      added: ['cart'],
      removed: [],
      changed: [{id: 'shop', changes: [{field: 'criticality', from: 'medium', to: 'high'}]}],
      unchanged: 0,
    })
    expect(d.servers.unchanged).toBe(1)
  })
})

describe('when every target fails', () => {
  it('every reason is in the message, and the exit code does not depend on which failed first', () => {
    const refused = {target: 'root@10.0.0.1:22', code: 'SSH_REFUSED', message: 'connection refused', badInput: false}
    const auth = {
      target: 'nobody@10.0.0.2:22',
      code: 'SSH_AUTH',
      message: 'authentication failed (permission denied)',
      badInput: true,
    }
    const hints = {SSH_AUTH: 'Pass --identity', SSH_REFUSED: 'Check sshd'}
    const one = everyTargetFailed('ssh', [refused, auth], hints)
    const other = everyTargetFailed('ssh', [auth, refused], hints)
    expect([one.exitCode, other.exitCode]).toEqual([64, 64])
    expect([one.code, other.code]).toEqual(['SSH_ALL_FAILED', 'SSH_ALL_FAILED'])
    expect(one.message).toBe(
      'every host failed (2):\n  ssh root@10.0.0.1:22: connection refused\n  ssh nobody@10.0.0.2:22: authentication failed (permission denied)',
    )
    expect(one.hint).toBe('Check sshd\n  Pass --identity')
    expect(one.hint).not.toMatch(/not affected/)
    expect(everyTargetFailed('ssh', [refused, {...refused, target: 'root@10.0.0.3:22'}], hints)).toMatchObject({
      exitCode: 1,
      code: 'SSH_REFUSED',
    })
  })
})
