// migrate discover file: the CSV reader, format detection on samples of each export, and the positioned problems.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import {parse} from 'yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {parseCsv} from '../../src/discover/csv.js'
import {detectCsvFormat, sizeFromInstanceType} from '../../src/discover/formats.js'
import {readFile} from '../../src/providers/file.js'
import {Inventory} from '../../src/schema/inventory.js'
import {migrate, tempDir} from './helpers.js'

const cmdb = (name: string) => path.join(__dirname, '../fixtures/cmdb', name)

describe('CSV reader', () => {
  it('quoted fields with delimiters, doubled quotes, line breaks, CRLF and a BOM; lines are kept', () => {
    const t = parseCsv('\uFEFFa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\r\nlines",z\r\n\r\n3,,\r\n')
    expect(t.header).toEqual(['a', 'b', 'c'])
    expect(t.records).toEqual([
      {line: 2, fields: ['1', 'x, y', 'say "hi"']},
      {line: 3, fields: ['2', 'two\nlines', 'z']},
      {line: 6, fields: ['3', '', '']},
    ])
    expect(t.problems).toEqual([])
  })

  it('reads back any table written with RFC 4180 quoting (property)', () => {
    const cell = fc.string({unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r\n', ';', 'é', 'x')})
    fc.assert(
      fc.property(
        fc
          .integer({min: 1, max: 4})
          .chain((n) => fc.array(fc.array(cell, {minLength: n, maxLength: n}), {minLength: 2, maxLength: 6})),
        fc.constantFrom('\n', '\r\n'),
        (rows, eol) => {
          // A record of one empty field is an empty line, which readers skip: keep such rows out.
          fc.pre(rows.every((r) => !(r.length === 1 && r[0] === '')))
          const text =
            rows
              .map((r) =>
                r.map((c) => (/[",\r\n]/.test(c) || c.trim() !== c ? `"${c.replaceAll('"', '""')}"` : c)).join(','),
              )
              .join(eol) + eol
          const t = parseCsv(text, ',')
          expect(t.problems).toEqual([])
          expect([t.header, ...t.records.map((r) => r.fields)]).toEqual([
            rows[0].map((h) => h.replaceAll('\r\n', '\n').trim()),
            ...rows.slice(1).map((r) => r.map((c) => c.replaceAll('\r\n', '\n'))),
          ])
        },
      ),
      {numRuns: 200},
    )
  })

  it('sniffs semicolons and tabs; reports an unclosed quote where it opened', () => {
    expect(parseCsv('name;vcpus\nweb;2\n').records[0].fields).toEqual(['web', '2'])
    expect(parseCsv('name\tvcpus\nweb\t2\n').delimiter).toBe('\t')
    expect(parseCsv('a,b\n1,"open\n2,3\n').problems).toEqual([
      {line: 2, column: 3, message: 'a quoted field is never closed'},
    ])
  })
})

describe('CMDB formats', () => {
  it('detects each format from its header', () => {
    const head = (f: string) => parseCsv(readFileSync(cmdb(f), 'utf8')).header
    expect(detectCsvFormat(head('generic.csv'))).toBe('csv')
    expect(detectCsvFormat(head('ads-import.csv'))).toBe('ads')
    expect(detectCsvFormat(head('azure-migrate.csv'))).toBe('azure')
    expect(detectCsvFormat(head('rvtools-vinfo.csv'))).toBe('rvtools')
    expect(detectCsvFormat(head('cmf-intake.csv'))).toBe('cmf')
    expect(detectCsvFormat(['foo', 'bar'])).toBeUndefined()
  })

  it('generic CSV: sizes, disks, tags and tag: columns, applications with owner and criticality', () => {
    const r = readFile(cmdb('generic.csv'), 'auto')
    expect(r.diagnostics).toEqual([])
    const pg = r.servers.find((s) => s.id === 'pg-01')!
    expect(pg).toMatchObject({
      vcpus: 16,
      memoryMiB: 65536,
      privateIps: ['10.1.0.21'],
      role: 'database',
      environment: 'prod',
      application: 'storefront',
      os: {family: 'linux', name: 'Red Hat Enterprise Linux', version: '8.9'},
    })
    expect(pg.disks).toEqual([
      {name: 'sda', sizeGiB: 100},
      {name: 'sdb', sizeGiB: 2000},
    ])
    expect(pg.tags).toEqual({note: 'primary, "main" db', rack: 'R14'})
    expect(r.servers.find((s) => s.id === 'web-01')!.tags).toEqual({cost: 'cc-1', tier: 'front', rack: 'R12'})
    expect(r.applications).toEqual([
      expect.objectContaining({name: 'storefront', owner: 'team-web', criticality: 'high'}),
    ])
    expect(pg.source).toEqual({kind: 'file', ref: `${cmdb('generic.csv')}:4`})
  })

  it('ADS import template, Azure Migrate CSV, RVTools vInfo and CMF intake form', () => {
    const ads = readFile(cmdb('ads-import.csv'), 'auto').servers
    expect(ads.find((s) => s.id === 'srv-1002')).toMatchObject({
      name: 'orders-db-01',
      vcpus: 16,
      memoryMiB: 65536,
      application: 'orders',
      provider: 'vmware',
      utilization: {cpuP95: 88, memoryP95: 79},
      tags: {wave: 'wave-1', zone: 'dc2'},
    })
    expect(ads.find((s) => s.id === 'srv-1003')).toMatchObject({vcpus: 2, os: {family: 'windows'}})
    const az = readFile(cmdb('azure-migrate.csv'), 'auto').servers
    expect(az.find((s) => s.id === 'cart-web-01')).toMatchObject({
      vcpus: 4,
      memoryMiB: 8192,
      privateIps: ['10.3.0.11', '10.3.1.11'],
      disks: [
        {name: 'disk1', sizeGiB: 64},
        {name: 'disk2', sizeGiB: 256},
      ],
    })
    const rv = readFile(cmdb('rvtools-vinfo.csv'), 'auto')
    expect(rv.servers.map((s) => s.id)).toEqual(['promo-api-01', 'promo-api-02', 'win-ad-01']) // the template row is skipped
    expect(rv.servers[0]).toMatchObject({
      provider: 'vmware',
      region: 'DC-Jakarta',
      zone: 'CL-01',
      disks: [{name: 'disks', sizeGiB: 150, usedGiB: 80}],
      tags: {app: 'promo', Owner: 'promo-team'},
    })
    expect(rv.servers[1].state).toBe('stopped')
    const cmf = readFile(cmdb('cmf-intake.csv'), 'auto')
    expect(cmf.servers.find((s) => s.id === 'seller-db-01')).toMatchObject({
      vcpus: 8,
      memoryMiB: 65536,
      role: 'database',
      application: 'seller-centre',
      tags: {wave: 'Wave 1', targetRegion: 'ap-southeast-3'},
    })
    expect(cmf.applications.find((a) => a.name === 'seller-centre')?.strategyHint).toBe('rehost')
    expect(cmf.diagnostics).toEqual([expect.objectContaining({severity: 'warning', code: 'CSV_NO_SIZE', line: 4})])
    expect(sizeFromInstanceType('r5.2xlarge')).toEqual([8, 65536])
    expect(sizeFromInstanceType('ecs.g7.large')).toEqual([2, 8192])
  })
})

describe('migrate discover file (CLI)', () => {
  const t = tempDir()
  afterAll(() => t.cleanup())

  it('every problem with file:line:column, unknown and missing columns by name; exit 64', async () => {
    const r = await migrate(['discover', 'file', cmdb('bad.csv'), '--out', path.join(t.dir, 'x/inventory.yaml')])
    expect(r.exitCode).toBe(64)
    const lines = r.stderr.trim().split('\n')
    const f = cmdb('bad.csv')
    expect(lines).toEqual([
      `${f}:1:22: warning CSV_UNKNOWN_COLUMN: unknown column "colour" is ignored. Rename it to a known column, or to tag:colour to keep it as a tag.`,
      `${f}:3:7: error CSV_BAD_NUMBER: vcpus "two" is not a positive number. Write vcpus as a number, e.g. 4.`,
      `${f}:4:7: error CSV_MISSING_VALUE: vcpus is empty. Fill in vcpus on this row.`,
      `${f}:5:1: error CSV_SYNTAX: a quoted field is never closed. Quote fields that contain the delimiter, quotes (doubled) or line breaks.`,
      `Error [FILE_INVALID]: 3 problems in ${f}`,
      '  Fix the rows and columns listed above, then run discover again',
    ])
    const missing = path.join(t.dir, 'missing.csv')
    writeFileSync(missing, 'hostname,cores\nweb-1,2\n')
    const m = await migrate([
      'discover',
      'file',
      missing,
      '--format',
      'csv',
      '--out',
      path.join(t.dir, 'x/inventory.yaml'),
    ])
    expect(m.exitCode).toBe(64)
    expect(m.stderr).toContain(
      `${missing}:1:1: error CSV_MISSING_COLUMN: missing column "memory_mib (or memory_mb, memory_gb)" for the generic CSV.`,
    )
  })

  it('several exports merge into one valid inventory; --assign-by names the apps of untagged servers', async () => {
    const out = path.join(t.dir, 'plans/dc/inventory.yaml')
    const r = await migrate([
      'discover',
      'file',
      cmdb('generic.csv'),
      cmdb('rvtools-vinfo.csv'),
      cmdb('azure-migrate.csv'),
      '--assign-by',
      'name-prefix',
      '--out',
      out,
      '--json',
    ])
    expect(r.exitCode).toBe(0)
    const inv = Inventory.parse(parse(readFileSync(out, 'utf8')))
    expect(inv.servers).toHaveLength(9)
    expect(inv.unassigned).toEqual([])
    expect(inv.servers.find((s) => s.id === 'cart-web-01')?.application).toBe('cart')
    expect(inv.servers.find((s) => s.id === 'batch-01')?.application).toBe('batch')
    const json = JSON.parse(r.stdout)
    expect(json.result.sources).toEqual([
      {kind: 'file', scope: [cmdb('generic.csv'), cmdb('rvtools-vinfo.csv'), cmdb('azure-migrate.csv')], count: 9},
    ])
  })
})
