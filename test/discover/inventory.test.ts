// Merging sources into one inventory: stable ids, other sources kept, on-premises records matched by IP, apps
// from tags, unassigned servers, and the diff against the previous file.
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parse} from 'yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {parseAssignRule, parseTagKeys} from '../../src/discover/app-tags.js'
import {buildInventory, writeInventory} from '../../src/discover/inventory.js'
import {emptyResult, type SourceResult} from '../../src/discover/types.js'
import type {Server} from '../../src/schema/inventory.js'
import {Inventory} from '../../src/schema/inventory.js'

const dir = mkdtempSync(path.join(tmpdir(), 'migrate-inv-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function server(id: string, over: Partial<Server> = {}): Server {
  return {
    id,
    name: id,
    provider: 'aws',
    privateIps: [],
    publicIps: [],
    vcpus: 2,
    memoryMiB: 4096,
    disks: [{name: 'd', sizeGiB: 10}],
    os: {family: 'linux'},
    state: 'running',
    tags: {},
    source: {kind: 'aws', ref: `r1/${id}`},
    ...over,
  }
}
function result(kind: SourceResult['kind'], scope: string[], servers: Server[]): SourceResult {
  return {...emptyResult(kind, scope), servers}
}

describe('building the inventory', () => {
  it('derives applications, roles and environments from tags with configurable keys; the rest is unassigned', () => {
    const {inventory} = buildInventory(
      [
        result(
          'aws',
          ['r1'],
          [
            server('i-1', {tags: {Application: 'Payments API', Tier: 'frontend', Stage: 'Production'}}),
            server('i-2', {tags: {Application: 'payments-api', Stage: 'uat'}}),
            server('i-3'),
          ],
        ),
      ],
      undefined,
      {out: path.join(dir, 'a.yaml'), tagKeys: parseTagKeys(['app=Application', 'role=Tier', 'env=Stage'])},
    )
    expect(inventory.servers.find((s) => s.id === 'i-1')).toMatchObject({
      application: 'payments-api',
      role: 'web',
      environment: 'prod',
    })
    expect(inventory.servers.find((s) => s.id === 'i-2')).toMatchObject({
      application: 'payments-api',
      environment: 'staging',
    })
    expect(inventory.applications).toEqual([expect.objectContaining({name: 'payments-api'})])
    expect(inventory.unassigned).toEqual(['i-3'])
    const ruled = buildInventory([result('aws', ['r1'], [server('i-3', {name: 'search-worker-07'})])], undefined, {
      out: path.join(dir, 'b.yaml'),
      assignRule: parseAssignRule('regex:^([a-z]+)-'),
    }).inventory
    expect(ruled.servers[0].application).toBe('search')
    expect(() => parseAssignRule('by-magic')).toThrow(/unknown rule/)
  })

  it('an SSH probe enriches the CMDB row of the same host (matched by IP) and keeps its id', () => {
    const cmdb = server('pg-01', {
      provider: 'onprem',
      privateIps: ['10.1.0.21'],
      tags: {app: 'shop'},
      vcpus: 8,
      source: {kind: 'file', ref: 'cmdb.csv:4'},
    })
    const probed = server('db-host-a', {
      provider: 'onprem',
      privateIps: ['10.1.0.21', '172.17.0.1'],
      vcpus: 16,
      memoryMiB: 65536,
      services: [{port: 5432, service: 'postgres'}],
      source: {kind: 'ssh', ref: 'root@10.1.0.21'},
    })
    const r = result('ssh', ['root@10.1.0.21'], [probed])
    r.databases.push({
      id: 'postgres:10.1.0.21:5432',
      name: 'pg',
      engine: 'postgres',
      serverId: 'db-host-a',
      host: '10.1.0.21',
      port: 5432,
      sizeGiB: 0,
      managed: false,
      role: 'primary',
      tags: {},
    })
    const {inventory} = buildInventory([result('file', ['cmdb.csv'], [cmdb]), r], undefined, {
      out: path.join(dir, 'c.yaml'),
    })
    expect(inventory.servers).toHaveLength(1)
    expect(inventory.servers[0]).toMatchObject({
      id: 'pg-01',
      vcpus: 16,
      memoryMiB: 65536,
      application: 'shop',
      privateIps: ['10.1.0.21', '172.17.0.1'],
    })
    expect(inventory.databases[0]).toMatchObject({serverId: 'pg-01', application: 'shop'})
  })
})

describe('writing over a previous inventory', () => {
  const out = path.join(dir, 'plans/x/inventory.yaml')

  it('keeps what other sources found, replaces what this source covers, and reports added/removed/resized', () => {
    const first = writeInventory(
      [
        result('aws', ['r1'], [server('i-1'), server('i-2')]),
        result(
          'file',
          ['cmdb.csv'],
          [server('web-1', {provider: 'onprem', source: {kind: 'file', ref: 'cmdb.csv:2'}})],
        ),
      ],
      {out},
    )
    expect(first.diff).toBeUndefined()
    expect(existsSync(out)).toBe(true)
    const second = writeInventory([result('aws', ['r1'], [server('i-2', {vcpus: 4}), server('i-3')])], {out})
    expect(second.diff).toMatchObject({
      added: ['i-3'],
      removed: ['i-1'],
      resized: [
        {id: 'i-2', from: {vcpus: 2, memoryMiB: 4096, diskGiB: 10}, to: {vcpus: 4, memoryMiB: 4096, diskGiB: 10}},
      ],
      reassigned: [],
      databasesAdded: [],
      databasesRemoved: [],
      unchanged: 1,
    })
    expect(second.diff?.servers.changed).toEqual([{id: 'i-2', changes: [{field: 'vcpus', from: 2, to: 4}]}])
    const inv = Inventory.parse(parse(readFileSync(out, 'utf8')))
    expect(inv.servers.map((s) => s.id)).toEqual(['i-2', 'i-3', 'web-1'])
    expect(inv.metadata.sources.map((s) => s.kind).sort()).toEqual(['aws', 'file'])
    // Another region is another scope: r1's servers stay.
    writeInventory([result('aws', ['r2'], [server('i-9', {source: {kind: 'aws', ref: 'r2/i-9'}})])], {out})
    expect(Inventory.parse(parse(readFileSync(out, 'utf8'))).servers.map((s) => s.id)).toEqual([
      'i-2',
      'i-3',
      'i-9',
      'web-1',
    ])
    // --replace starts from the sources alone, and still says what went away.
    const replaced = writeInventory([result('aws', ['r2'], [server('i-9', {source: {kind: 'aws', ref: 'r2/i-9'}})])], {
      out,
      replace: true,
    })
    expect(replaced.diff?.removed).toEqual(['i-2', 'i-3', 'web-1'])
  })

  it('a database gone from a re-probed server is dropped; one found again keeps what --db recorded', () => {
    const o = path.join(dir, 'dbs/inventory.yaml')
    const host = server('h1', {
      provider: 'onprem',
      privateIps: ['10.0.0.1'],
      source: {kind: 'ssh', ref: 'root@10.0.0.1'},
    })
    const db = (id: string, extra = {}) => ({
      id,
      name: id,
      engine: 'postgres' as const,
      serverId: 'h1',
      host: '10.0.0.1',
      port: 5432,
      sizeGiB: 0,
      managed: false,
      role: 'primary' as const,
      tags: {},
      ...extra,
    })
    const first = result('ssh', ['root@10.0.0.1'], [host])
    first.databases.push(
      db('postgres:10.0.0.1:5432', {settings: {wal_level: 'logical'}}),
      db('redis:10.0.0.1:6379', {engine: 'redis', port: 6379}),
    )
    writeInventory([first], {out: o})
    const again = result('ssh', ['root@10.0.0.1'], [host])
    again.databases.push(db('postgres:10.0.0.1:5432'))
    const r = writeInventory([again], {out: o})
    expect(r.diff?.databasesRemoved).toEqual(['redis:10.0.0.1:6379'])
    const inv = Inventory.parse(parse(readFileSync(o, 'utf8')))
    expect(inv.databases).toEqual([
      expect.objectContaining({id: 'postgres:10.0.0.1:5432', settings: {wal_level: 'logical'}}),
    ])
  })

  it('an application assigned by hand survives the next discover; a tag still wins, and the diff says so', () => {
    const o = path.join(dir, 'hand/inventory.yaml')
    const fresh = () => result('aws', ['r1'], [server('i-1'), server('i-2'), server('i-3', {tags: {app: 'orders'}})])
    const first = writeInventory([fresh()], {out: o})
    expect(first.counts.unassigned).toBe(2)
    // What a reviewer does in git: give the unassigned servers an application, a role and an environment.
    const edited = readFileSync(o, 'utf8')
      .replace(/^(  - id: i-1\n)/m, '$1    application: payments\n    role: api\n    environment: staging\n')
      .replace(/^(  - id: i-2\n)/m, '$1    application: search\n')
      .replace(/^unassigned:\n(  - .*\n)+/m, 'unassigned: []\n')
      .replace(/^applications:\n/m, 'applications:\n  - name: payments\n    criticality: high\n  - name: search\n')
    writeFileSync(o, edited)
    // Next run: i-2 got an app tag in the meantime (the tag wins); an --assign-by rule does not undo a hand edit.
    const again = result(
      'aws',
      ['r1'],
      [
        server('i-1', {name: 'billing-01'}),
        server('i-2', {tags: {app: 'catalog'}}),
        server('i-3', {tags: {app: 'orders'}}),
      ],
    )
    const r = writeInventory([again], {out: o, assignRule: parseAssignRule('regex:^([a-z]+)-')})
    const inv = Inventory.parse(parse(readFileSync(o, 'utf8')))
    expect(inv.servers.find((s) => s.id === 'i-1')).toMatchObject({
      application: 'payments',
      role: 'api',
      environment: 'staging',
    })
    expect(inv.servers.find((s) => s.id === 'i-2')?.application).toBe('catalog')
    expect(inv.unassigned).toEqual([])
    expect(inv.applications.find((a) => a.name === 'payments')?.criticality).toBe('high')
    expect(r.diff?.reassigned).toEqual([{id: 'i-2', from: 'search', to: 'catalog'}])
    // i-1 was renamed at the source: a change, not "unchanged".
    expect(r.diff?.unchanged).toBe(1)
    expect(r.diff?.servers.changed.find((c) => c.id === 'i-1')?.changes).toEqual([
      {field: 'name', from: 'i-1', to: 'billing-01'},
    ])
    // What came from a tag follows the tag: i-3's app tag was removed, so it is unassigned again.
    const untagged = writeInventory(
      [result('aws', ['r1'], [server('i-1'), server('i-2', {tags: {app: 'catalog'}}), server('i-3')])],
      {out: o},
    )
    expect(untagged.diff?.reassigned).toEqual([{id: 'i-3', from: 'orders'}])
    expect(untagged.counts.unassigned).toBe(1)
    // --replace starts over: the hand edits go, and the diff shows each server that lost its application.
    const replaced = writeInventory([fresh()], {out: o, replace: true})
    expect(replaced.diff?.reassigned).toEqual([
      {id: 'i-1', from: 'payments'},
      {id: 'i-2', from: 'catalog'},
      {id: 'i-3', to: 'orders'},
    ])
  })

  it('a host that could not be read this time keeps what the previous run found (and its hand assignment)', () => {
    const o = path.join(dir, 'partial/inventory.yaml')
    const host = (id: string, ip: string) =>
      server(id, {provider: 'onprem', privateIps: [ip], source: {kind: 'ssh', ref: `root@${ip}`}})
    writeInventory(
      [result('ssh', ['root@10.0.0.1', 'root@10.0.0.2'], [host('h1', '10.0.0.1'), host('h2', '10.0.0.2')])],
      {out: o},
    )
    writeFileSync(
      o,
      readFileSync(o, 'utf8')
        .replace(/^(  - id: h2\n)/m, '$1    application: shop\n')
        .replace(/^unassigned:\n(  - .*\n)+/m, 'unassigned:\n  - h1\n')
        .replace(/^applications: \[\]\n/m, 'applications:\n  - name: shop\n'),
    )
    const again = result('ssh', ['root@10.0.0.1', 'root@10.0.0.2'], [host('h1', '10.0.0.1')])
    again.failures.push({target: 'root@10.0.0.2', code: 'SSH_TIMEOUT', message: 'timed out'})
    const r = writeInventory([again], {out: o})
    expect(r.diff?.removed).toEqual([])
    const inv = Inventory.parse(parse(readFileSync(o, 'utf8')))
    expect(inv.servers.map((s) => [s.id, s.application])).toEqual([
      ['h1', undefined],
      ['h2', 'shop'],
    ])
    // Read again, and gone: then it is removed.
    const gone = writeInventory([result('ssh', ['root@10.0.0.1', 'root@10.0.0.2'], [host('h1', '10.0.0.1')])], {out: o})
    expect(gone.diff?.removed).toEqual(['h2'])
  })

  it('--dry-run computes the result and the diff but writes nothing', () => {
    const o = path.join(dir, 'dry/inventory.yaml')
    const r = writeInventory([result('aws', ['r1'], [server('i-1')])], {out: o, dryRun: true})
    expect(r).toMatchObject({written: false, counts: {servers: 1}})
    expect(existsSync(o)).toBe(false)
  })

  it('refuses to overwrite a previous file that is not a valid inventory', () => {
    const broken = path.join(dir, 'broken/inventory.yaml')
    writeInventory([result('aws', ['r1'], [server('i-1')])], {out: broken})
    const text = readFileSync(broken, 'utf8').replace('vcpus: 2', 'vcpus: two')
    writeFileSync(broken, text)
    expect(() => writeInventory([result('aws', ['r1'], [server('i-1')])], {out: broken})).toThrow(
      /exists but is not a valid inventory/,
    )
    expect(readFileSync(broken, 'utf8')).toBe(text)
  })
})
