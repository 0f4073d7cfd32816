import {execa} from 'execa'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {validateFile} from '../../src/file-kinds.js'

const BIN = path.resolve('bin/run.js')
const fx = (name: string) => path.join('test/foundation/fixtures', name)

async function cli(...args: string[]) {
  return execa('node', [BIN, ...args], {reject: false, env: {NO_COLOR: '1'}})
}

describe('migrate validate', () => {
  it('accepts the built-in example inventory', async () => {
    const r = await cli('validate', 'plans/example/inventory.yaml')
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('ok   plans/example/inventory.yaml (inventory)')
  })

  it('reports bad YAML indentation with its line and exits 64', async () => {
    const r = await cli('validate', fx('bad-indent.yaml'))
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toMatch(/bad-indent\.yaml:8:\d+: error YAML_SYNTAX: .*indentation/i)
    expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
  })

  it('reports every schema and reference problem at once, each with file:line:column', async () => {
    const r = await cli('validate', fx('bad-values.yaml'))
    expect(r.exitCode).toBe(64)
    const lines = r.stderr.split('\n')
    // an unknown strategy, on the line of the value, with the allowed values
    expect(lines.find((l) => l.includes('bad-values.yaml:7:19: error SCHEMA_INVALID_VALUE'))).toMatch(
      /"lift-and-pray" is not allowed.*Use one of: rehost, replatform, refactor/,
    )
    // a string where a number belongs
    expect(lines.find((l) => l.includes('bad-values.yaml:13:12: error SCHEMA_INVALID_TYPE'))).toMatch(
      /expected number, received string.*servers\[0\]\.vcpus/,
    )
    expect(r.stderr).toContain('Error [VALIDATION_FAILED]: 3 error(s) in 1 of 1 file(s)')
  })

  it('reports a dependency on an application that does not exist, with a suggestion', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mig-val-'))
    const file = path.join(dir, 'inventory.yaml')
    writeFileSync(
      file,
      [
        'apiVersion: migrate/v1',
        'kind: Inventory',
        'metadata: {name: t}',
        'applications:',
        '  - name: payments',
        '  - name: orders',
        'dependencies:',
        '  - from: orders',
        '    to: paymnets',
        '',
      ].join('\n'),
    )
    const r = await cli('validate', file)
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toContain(
      `${file}:9:9: error UNKNOWN_REFERENCE: dependency to "paymnets" is not an application, server or database of this inventory (at dependencies[0].to). Did you mean "payments"?`,
    )
  })

  it('reports unknown fields at the key, and missing required fields', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mig-val-'))
    const file = path.join(dir, 'inventory.yaml')
    writeFileSync(
      file,
      [
        'apiVersion: migrate/v1',
        'kind: Inventory',
        'metadata: {name: t}',
        'applications:',
        '  - name: a',
        '    critcality: high',
        'servers:',
        '  - id: s1',
        '    provider: onprem',
        '',
      ].join('\n'),
    )
    const r = validateFile(file)
    const codes = r.diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.path?.join('.')}`)
    expect(codes).toContain('6:5 SCHEMA_UNKNOWN_FIELD applications.0.critcality')
    expect(codes).toContain('8:5 SCHEMA_MISSING_FIELD servers.0.name')
    expect(codes).toContain('8:5 SCHEMA_MISSING_FIELD servers.0.vcpus')
  })

  it('gives JSON with --json: the error envelope carries every diagnostic', async () => {
    const r = await cli('validate', fx('bad-values.yaml'), '--json')
    expect(r.exitCode).toBe(64)
    const body = JSON.parse(r.stdout)
    expect(body.status).toBe(64)
    expect(body.error.code).toBe('VALIDATION_FAILED')
    expect(body.error.diagnostics.map((d: {code: string}) => d.code).sort()).toEqual([
      'SCHEMA_INVALID_TYPE',
      'SCHEMA_INVALID_VALUE',
      'UNKNOWN_REFERENCE',
    ])
  })

  it('names a missing file and the fix, without a stack trace', async () => {
    const r = await cli('validate', 'nope/inventory.yaml')
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toMatch(/^Error \[FILE_NOT_FOUND\]: nope\/inventory\.yaml: no such file\n {2}Check the path/)
  })

  it("treats an unknown flag as a usage error (64), not oclif's default 2", async () => {
    const r = await cli('validate', '--frobnicate', 'x')
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toContain('Error [USAGE]')
  })
})

describe('JSON files', () => {
  it('loads a valid JSON inventory, and still reports a bad one with line and column', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mig-json-'))
    const good = path.join(dir, 'good.json')
    writeFileSync(
      good,
      JSON.stringify(
        {apiVersion: 'migrate/v1', kind: 'Inventory', metadata: {name: 'j'}, applications: [{name: 'a'}]},
        null,
        2,
      ),
    )
    const r = validateFile<{applications: {criticality: string}[]}>(good)
    expect(r.diagnostics).toEqual([])
    expect(r.value?.applications[0].criticality).toBe('medium')

    const bad = path.join(dir, 'bad.json')
    writeFileSync(
      bad,
      JSON.stringify(
        {
          apiVersion: 'migrate/v1',
          kind: 'Inventory',
          metadata: {name: 'j'},
          applications: [{name: 'a', criticality: 'urgent'}],
        },
        null,
        2,
      ),
    )
    const b = validateFile(bad)
    expect(b.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`)).toEqual(['10:22 SCHEMA_INVALID_VALUE'])
  })
})
