// The team commands as CI runs them (node bin/run.js, built dist/): `ci matrix` for a wave's units, and
// `state push|pull` between the journal file and the machine's real PostgreSQL, verified on both ends.
import {execa} from 'execa'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {makePlanDir, template} from '../executor/helpers.js'
import {useTestDb} from './pg-db.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')
const cli = (args: string[], env: Record<string, string> = {}) =>
  execa('node', [BIN, ...args], {reject: false, env: {NO_COLOR: '1', MIGRATE_STATE: '', ...env}})

const db = useTestDb('cli')

const touch = (what: string) => ['sh', '-c', 'echo "$1" >> "$2"', 'step', what, '{{ plan.dir }}/effects.log']
const perServer = template('per-server', [{id: 'copy', run: touch('copy {{ server.id }}')}])
;(perServer.metadata as Record<string, unknown>).perServer = true

function plan(): string {
  return makePlanDir({
    apps: [
      {name: 'web', template: 'plain'},
      {name: 'orders', template: 'per-server', servers: [{id: 'o1'}, {id: 'o2'}], databases: []},
      {
        name: 'billing',
        template: 'plain',
        databases: [{id: 'bdb', engine: 'postgres', template: 'plain'}],
      },
    ],
    templates: {
      plain: template('plain', [
        {id: 'one', run: touch('{{ app.name }} one')},
        {id: 'two', run: touch('{{ app.name }} two')},
      ]),
      'per-server': perServer,
    },
  })
}

describe('migrate ci matrix', {timeout: 240_000}, () => {
  it('prints the units of a wave for a GitHub or GitLab matrix, per application or per unit', async () => {
    const dir = plan()
    const a = await cli(['ci', 'matrix', '--plan', dir, '--wave', '1'])
    expect(a.exitCode).toBe(0)
    expect(JSON.parse(a.stdout)).toEqual({unit: ['web', 'orders', 'billing']})
    const s = await cli(['ci', 'matrix', '--plan', dir, '--wave', '1', '--per', 'server', '--format', 'gitlab'])
    expect(JSON.parse(s.stdout)).toEqual([{UNIT: ['web', 'orders:o1', 'orders:o2', 'billing', 'billing:bdb']}])
    const j = await cli(['ci', 'matrix', '--plan', dir, '--wave', '1', '--json'])
    expect(JSON.parse(j.stdout).result.units).toEqual(['web', 'orders', 'billing'])
    const bad = await cli(['ci', 'matrix', '--plan', dir, '--wave', '7'])
    expect(bad.exitCode).toBe(64)
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/)
  })
})

describe('migrate state push / pull', {timeout: 240_000}, () => {
  it('copies the journal byte for byte, verifies both ends, extends only, and never prints the password', async () => {
    const dir = plan()
    const run = await cli(['execute', 'wave', '1', '--plan', dir, '--app', 'web', '--json'])
    expect(run.exitCode).toBe(0)
    const state = db.url.replace('postgres@', 'postgres:Sekr1t@')
    const push = await cli(['state', 'push', '--plan', dir, '--state', state])
    expect(push.stderr + push.stdout).not.toContain('Sekr1t')
    expect(push.exitCode).toBe(0)
    expect(push.stdout).toMatch(/Pushed \d+ event\(s\)/)
    expect(push.stdout).toContain('hash chain intact on both ends')
    // Nothing new: nothing copied.
    const again = await cli(['state', 'push', '--plan', dir, '--state', db.url, '--json'])
    expect(JSON.parse(again.stdout).result).toMatchObject({copied: 0})
    // Pull into a copy of the plan without a journal: the same bytes, and the head.
    const other = mkdtempSync(path.join(os.tmpdir(), 'migrate-pull-'))
    cpSync(dir, other, {recursive: true})
    rmSync(path.join(other, 'state.journal'))
    rmSync(path.join(other, 'state.journal.head'))
    const pull = await cli(['state', 'pull', '--plan', other], {MIGRATE_STATE: db.url})
    expect(pull.exitCode).toBe(0)
    expect(readFileSync(path.join(other, 'state.journal'), 'utf8')).toBe(
      readFileSync(path.join(dir, 'state.journal'), 'utf8'),
    )
    expect(readFileSync(path.join(other, 'state.journal.head'), 'utf8')).toBe(
      readFileSync(path.join(dir, 'state.journal.head'), 'utf8'),
    )
    // A run recorded in the copy and pushed: the original is behind the backend.
    expect((await cli(['execute', 'wave', '1', '--plan', other, '--app', 'billing'])).exitCode).toBe(0)
    expect((await cli(['state', 'push', '--plan', other, '--state', db.url])).exitCode).toBe(0)
    const behind = await cli(['state', 'push', '--plan', dir, '--state', db.url])
    expect(behind.exitCode).toBe(1)
    expect(behind.stderr).toContain('STATE_BEHIND')
    // Another run recorded in the original only: the two have forked.
    expect((await cli(['execute', 'wave', '1', '--plan', dir, '--app', 'orders'])).exitCode).toBe(0)
    const div = await cli(['state', 'push', '--plan', dir, '--state', db.url])
    expect(div.exitCode).toBe(1)
    expect(div.stderr).toContain('STATE_DIVERGED')
    // An edited source journal is refused before anything is copied.
    const f = path.join(other, 'state.journal')
    writeFileSync(f, readFileSync(f, 'utf8').replace('"web"', '"wEb"'))
    const tampered = await cli(['state', 'push', '--plan', other, '--state', db.url])
    expect(tampered.exitCode).toBe(1)
    expect(tampered.stderr).toContain('does not verify')
    // Without a shared backend there is nothing to push to.
    const none = await cli(['state', 'push', '--plan', dir])
    expect(none.exitCode).toBe(64)
    expect(none.stderr).toContain('STATE_BACKEND_REQUIRED')
  })
})

describe('migrate plan with a shared backend', {timeout: 240_000}, () => {
  it('keeps the waves the backend shows started, as it keeps those of the journal file', async () => {
    const dir = plan()
    const state = db.url
    expect((await cli(['execute', 'wave', '1', '--plan', dir, '--app', 'web', '--state', state])).exitCode).toBe(0)
    const kept = async (env: Record<string, string>) => {
      const r = await cli(['plan', '--plan', dir, '--diff', '--json'], env)
      expect(r.exitCode, String(r.stderr)).toBe(0)
      return JSON.parse(r.stdout).result.keptWaves
    }
    expect(await kept({})).toEqual([])
    expect(await kept({MIGRATE_STATE: state})).toEqual([1])
  })
})
