// A plan whose state lives in PostgreSQL (settings.state): its started waves keep their dates for `validate`,
// `execute` and `status` exactly as with the journal file, even after the settings changed under a started wave, and
// a plan that fails its checks still has its state where settings.state says (not the journal file beside it).
import {execa} from 'execa'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse, stringify} from 'yaml'
import {makePlanDir, template} from '../executor/helpers.js'
import {useTestDb} from './pg-db.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')
const cli = (args: string[], env: Record<string, string> = {}) =>
  execa('node', [BIN, ...args], {reject: false, env: {NO_COLOR: '1', MIGRATE_STATE: '', ...env}})

const db = useTestDb('started')

const touch = (what: string) => ['sh', '-c', 'echo "$1" >> "$2"', 'step', what, '{{ plan.dir }}/effects.log']

function editPlan(dir: string, fn: (p: Record<string, any>) => void): void {
  const file = path.join(dir, 'plan.yaml')
  const p = parse(readFileSync(file, 'utf8'))
  fn(p)
  writeFileSync(file, stringify(p))
}

describe('started waves with a shared state backend', {timeout: 240_000}, () => {
  it('validate, execute and status see the waves the backend shows as started, after the settings changed', async () => {
    const dir = makePlanDir({
      apps: [{name: 'web', template: 'plain'}],
      templates: {
        plain: template('plain', [
          {id: 'one', run: touch('one')},
          {id: 'approve', gate: {message: 'go?'}},
          {id: 'two', run: touch('two')},
        ]),
      },
    })
    editPlan(dir, (p) => {
      p.settings.state = db.url
    })
    // Wave 1 starts and waits at its gate; its events are in PostgreSQL, none beside the plan.
    const first = await cli(['execute', 'wave', '1', '--plan', dir])
    expect(first.exitCode).toBe(6)
    expect(first.stdout).toContain('waiting at approve')
    expect(existsSync(path.join(dir, 'state.journal'))).toBe(false)
    // Then the start date moves past wave 1's dates: for a wave not started, an error.
    editPlan(dir, (p) => {
      p.settings.startDate = '2026-02-01'
    })
    const v = await cli(['validate', path.join(dir, 'plan.yaml'), '--json'])
    const diags = JSON.parse(v.stdout).result?.diagnostics ?? JSON.parse(v.stdout).error?.data?.diagnostics
    expect(diags.filter((d: {code: string}) => d.code === 'BEFORE_START_DATE')).toEqual([
      expect.objectContaining({severity: 'warning', message: expect.stringContaining('wave 1 has started')}),
    ])
    expect(v.exitCode).toBe(0)
    // CI fans the started wave out as before.
    const matrix = await cli(['ci', 'matrix', '--plan', dir, '--wave', '1'])
    expect(matrix.stderr).toBe('')
    expect(JSON.parse(matrix.stdout)).toEqual({unit: ['web']})
    // The started wave goes on where it waited.
    const resumed = await cli(['execute', 'wave', '1', '--plan', dir, '--approve', 'approve'])
    expect(resumed.stderr).not.toMatch(/error|INVALID_FILE/i)
    expect(resumed.exitCode).toBe(0)
    expect(readFileSync(path.join(dir, 'effects.log'), 'utf8')).toBe('one\ntwo\n')
    // A plan that fails its checks now (a second wave before the start date) still reads its state from PostgreSQL.
    editPlan(dir, (p) => {
      p.waves.push({...p.waves[0], number: 2, name: 'wave 2', applications: []})
    })
    const bad = await cli(['validate', path.join(dir, 'plan.yaml')])
    expect(bad.exitCode).toBe(64)
    expect(bad.stdout + bad.stderr).toMatch(/wave 2 .*before the start date/)
    const status = await cli(['status', '--plan', dir, '--json'])
    expect(JSON.stringify(JSON.parse(status.stdout))).toMatch(/"web"/)
    expect(JSON.parse(status.stdout).result.state ?? JSON.stringify(JSON.parse(status.stdout))).toContain('postgres')
  })

  it('a backend that cannot be read: validate says so, and checks the waves as if none had started', async () => {
    const dir = makePlanDir({
      apps: [{name: 'web', template: 'plain'}],
      templates: {plain: template('plain', [{id: 'one', run: touch('one')}])},
    })
    editPlan(dir, (p) => {
      p.settings.state = 'postgres://postgres@127.0.0.1:1/nowhere'
      p.settings.startDate = '2026-02-01'
    })
    const v = await cli(['validate', path.join(dir, 'plan.yaml'), '--json'])
    expect(v.exitCode).toBe(64)
    const codes = JSON.parse(v.stdout).error.data.diagnostics.map((d: {code: string; severity: string}) => [
      d.code,
      d.severity,
    ])
    expect(codes).toContainEqual(['STATE_UNREADABLE', 'warning'])
    expect(codes).toContainEqual(['BEFORE_START_DATE', 'error'])
  })
})
