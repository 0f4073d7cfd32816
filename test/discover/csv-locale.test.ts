// CMDB exports in the exporter's locale and encoding: European Excel (";" and decimal commas), RVTools and Excel
// "Unicode text" (UTF-16 with a byte-order mark, tab-delimited), and numbers nothing in the file can decide.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import {parse} from 'yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {decodeCsv, parseCsv} from '../../src/discover/csv.js'
import {decimalShownBy, numberLocaleOf, readNumber, type NumberLocale} from '../../src/discover/csv-numbers.js'
import {readFile} from '../../src/providers/file.js'
import type {Inventory} from '../../src/schema/inventory.js'
import {migrate, tempDir} from './helpers.js'

const cmdb = (name: string) => path.join(__dirname, '../fixtures/cmdb', name)
const value = (raw: string, locale: NumberLocale) => {
  const r = readNumber(raw, locale)
  return r === undefined ? undefined : 'value' in r ? r.value : `refused: ${r.problem}`
}

describe('numbers as a locale writes them', () => {
  const comma: NumberLocale = {decimal: ',', because: 'test'}
  const dot: NumberLocale = {decimal: '.', because: 'test'}
  const unknown: NumberLocale = {}

  it('reads a number whose separators say what they are, whatever the file shows', () => {
    for (const locale of [comma, dot, unknown]) {
      expect(value('1.234,5', locale)).toBe(1234.5)
      expect(value('1,234.5', locale)).toBe(1234.5)
      expect(value('2,5', locale)).toBe(2.5)
      expect(value('2.25', locale)).toBe(2.25)
      expect(value('0.384', locale)).toBe(0.384)
      expect(value('1234.567', locale)).toBe(1234.567)
      expect(value('1.234.567', locale)).toBe(1234567)
      expect(value('1,234,567', locale)).toBe(1234567)
      expect(value('16 384', locale)).toBe(16384)
      expect(value('16\u00a0384,5', locale)).toBe(16384.5)
      expect(value("16'384", locale)).toBe(16384)
      expect(value('37,5%', locale)).toBe(37.5)
      expect(value('8192', locale)).toBe(8192)
      expect(value('-3', locale)).toBe(-3)
      expect(value('', locale)).toBeUndefined()
    }
  })

  it('reads 16.384 and 1,024 the way the file shows, and refuses them when it shows nothing', () => {
    expect(value('16.384', comma)).toBe(16384)
    expect(value('16.384', dot)).toBe(16.384)
    expect(value('1,024', dot)).toBe(1024)
    expect(value('1,024', comma)).toBe(1.024)
    expect(value('-16.384', comma)).toBe(-16384)
    expect(value('16.384', unknown)).toMatch(/^refused: could be 16384 or 16\.384/)
    expect(value('1,024', unknown)).toMatch(/^refused: could be 1024 or 1\.024/)
  })

  it('refuses what is not a number in any locale', () => {
    for (const raw of ['1.2.3,4.5', '1,23,456', '1.23.456', '12..5', 'four', '16 GB', '1.2345.678'])
      expect(value(raw, comma)).toMatch(/^refused/)
  })

  it('tells the decimal mark from the cells that show it, the delimiter otherwise, and nothing when the cells disagree', () => {
    const cells = (...raws: string[]) => raws.map((raw, i) => ({raw, line: i + 2}))
    expect(numberLocaleOf(cells('16.384', '2,5'), '\t')).toEqual({decimal: ',', because: 'line 3 writes 2,5'})
    expect(numberLocaleOf(cells('1,024', '0.75'), '\t')).toEqual({decimal: '.', because: 'line 3 writes 0.75'})
    expect(numberLocaleOf(cells('16.384'), ';').decimal).toBe(',')
    expect(numberLocaleOf(cells('16.384'), ',').decimal).toBe('.')
    expect(numberLocaleOf(cells('16.384'), '\t').decimal).toBeUndefined()
    expect(numberLocaleOf(cells('2,5', '0.75', '16.384'), ';')).toEqual({
      because: 'the file writes decimals both ways (line 3 writes 0.75, line 2 writes 2,5)',
    })
    expect(numberLocaleOf(cells('2,5'), '\t', '.').decimal).toBe('.')
    expect(decimalShownBy('16.384')).toBeUndefined()
  })

  it('reads back any number as de-DE, en-US, fr-FR, de-CH or id-ID write it, in a file that shows its locale (property)', () => {
    const locales = ['de-DE', 'en-US', 'fr-FR', 'de-CH', 'id-ID', 'it-IT', 'nl-NL']
    fc.assert(
      fc.property(
        fc.constantFrom(...locales),
        fc.oneof(
          fc.integer({min: -1e9, max: 1e9}),
          fc.double({min: -1e6, max: 1e6, noNaN: true}).map((x) => Math.round(x * 1000) / 1000),
        ),
        (tag, n) => {
          const format = new Intl.NumberFormat(tag, {maximumFractionDigits: 3})
          const written = format.format(n).replace('\u2212', '-')
          // The file shows its locale through another number: 0.5 as this locale writes it.
          const locale = numberLocaleOf([{raw: format.format(0.5), line: 2}], '\t')
          expect(value(written, locale)).toBe(n === 0 ? value(written, locale) : n)
        },
      ),
      {numRuns: 500},
    )
  })
})

describe('decoding exports', () => {
  const text = 'name,vcpus\nbüro-01,2\n'
  it('reads UTF-8 with and without a byte-order mark, UTF-16 LE and BE with one', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
    for (const bytes of [
      Buffer.from(text),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
      le,
      Buffer.from(le).swap16(),
    ]) {
      expect(decodeCsv(bytes)).toEqual({text})
    }
  })

  it('refuses, with the line, what it cannot decode for sure', () => {
    expect(decodeCsv(Buffer.from(text, 'utf16le'))).toMatchObject({
      problem: expect.stringMatching(/UTF-16 text without a byte-order mark/),
      line: 1,
    })
    expect(
      decodeCsv(Buffer.concat([Buffer.from('a,b\n1,2\nx,'), Buffer.from([0xe9]), Buffer.from('\n')])),
    ).toMatchObject({problem: expect.stringMatching(/is not UTF-8/), line: 3})
    expect(decodeCsv(Buffer.from([0xff, 0xfe, 0x41]))).toMatchObject({
      problem: expect.stringMatching(/odd number of bytes/),
    })
  })
})

describe('real-looking exports', () => {
  const tmp = tempDir('migrate-csv-locale-')
  afterAll(() => tmp.cleanup())
  const servers = (file: string, decimal?: ',' | '.') => {
    const r = readFile(cmdb(file), 'auto', decimal)
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    return Object.fromEntries(r.servers.map((s) => [s.id, s]))
  }

  it('German Excel: 16.384 MiB is 16384, sda:1.024 is 1024 GiB, 2,5 and 37,5 are decimals', () => {
    const s = servers('generic-excel-de.csv')
    expect(s['erp-app-01']).toMatchObject({
      memoryMiB: 16384,
      disks: [
        {name: 'sda', sizeGiB: 1024},
        {name: 'sdb', sizeGiB: 2.5},
      ],
      utilization: {cpuP95: 37.5},
    })
    expect(s['erp-db-01']).toMatchObject({
      memoryMiB: 65536,
      disks: [
        {name: 'sda', sizeGiB: 100},
        {name: 'sdb', sizeGiB: 4096},
      ],
      utilization: {cpuP95: 61.25},
    })
    expect(s['erp-web-01'].memoryMiB).toBe(8192)
  })

  it('RVTools vInfo as UTF-16 LE Unicode text: German numbers, tab-delimited', () => {
    const s = servers('rvtools-vinfo-utf16le.txt')
    expect(s['sap-app-01']).toMatchObject({
      memoryMiB: 32768,
      disks: [{sizeGiB: 150, usedGiB: 80}],
      os: {family: 'linux'},
    })
    expect(s['sap-db-01']).toMatchObject({memoryMiB: 131072, disks: [{sizeGiB: 1024, usedGiB: 512}]})
    expect(s['ad-01']).toMatchObject({memoryMiB: 4096, state: 'stopped'})
  })

  it('UTF-16 BE Unicode text and French Excel (no-break spaces between thousands)', () => {
    expect(Object.values(servers('generic-unicode-be.txt')).map((s) => s.name)).toEqual(['büro-01', 'büro-02'])
    const fr = servers('azure-migrate-fr.csv')
    expect(fr['paie-app-01']).toMatchObject({
      memoryMiB: 16384,
      disks: [{sizeGiB: 127}, {sizeGiB: 1024}],
      utilization: {cpuP95: 12.5, memoryP95: 61},
    })
    expect(fr['paie-db-01']).toMatchObject({
      memoryMiB: 65536,
      disks: [{sizeGiB: 2048.5}],
      utilization: {memoryP95: 80.75},
    })
  })

  it('a number the file cannot decide is refused at its line, exit 64; --decimal-separator decides it', async () => {
    const r = await migrate([
      'discover',
      'file',
      cmdb('ambiguous-numbers.tsv'),
      '--out',
      path.join(tmp.dir, 'a', 'inventory.yaml'),
    ])
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toMatch(
      /ambiguous-numbers\.tsv:2:10: error CSV_BAD_NUMBER: memory_mib "16\.384" could be 16384 or 16\.384: nothing else in this file shows whether "\." groups thousands or marks decimals\. Write it without thousands separators \(e\.g\. 16384\), or pass --decimal-separator/,
    )
    const out = path.join(tmp.dir, 'b', 'inventory.yaml')
    const ok = await migrate([
      'discover',
      'file',
      cmdb('ambiguous-numbers.tsv'),
      '--decimal-separator',
      ',',
      '--out',
      out,
    ])
    expect(ok.exitCode).toBe(0)
    expect((parse(readFileSync(out, 'utf8')) as Inventory).servers.find((s) => s.id === 'app-01')!.memoryMiB).toBe(
      16384,
    )
    expect(servers('ambiguous-numbers.tsv', '.')['app-01'].memoryMiB).toBe(16)
  })

  it('a file in the Windows code page is refused with its line and how to re-save it, exit 64', async () => {
    const r = await migrate([
      'discover',
      'file',
      cmdb('generic-cp1252.csv'),
      '--out',
      path.join(tmp.dir, 'c', 'inventory.yaml'),
    ])
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toMatch(/generic-cp1252\.csv:2:1: error FILE_ENCODING: is not UTF-8.*Save it as "CSV UTF-8/)
    expect(r.stderr).not.toMatch(/INTERNAL|\n\s+at /)
  })

  it('the delimiter of a UTF-16 export is sniffed after decoding', () => {
    const decoded = decodeCsv(readFileSync(cmdb('rvtools-vinfo-utf16le.txt')))
    expect('text' in decoded && parseCsv(decoded.text).delimiter).toBe('\t')
  })
})
