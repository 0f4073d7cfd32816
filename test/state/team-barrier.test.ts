// The cutover barrier of a per-server runbook when each server is driven by its own runner (`ci matrix --per
// server`), through the shared PostgreSQL backend (the machine's real server): none cuts over unless all reached it.
import {execa} from 'execa'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {lines, makePlanDir, template} from '../executor/helpers.js'
import {useTestDb} from './pg-db.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')

const db = useTestDb('barrier')

const log = (what: string) => ['sh', '-c', 'echo "$1" >> "$2"', 'step', what, '{{ plan.dir }}/effects.log']
/** Fails when the server is listed in fail.txt. */
const test = [
  'sh',
  '-c',
  'if grep -qx "$1" "$2" 2>/dev/null; then exit 3; fi; echo "test $1" >> "$3"',
  'test',
  '{{ server.id }}',
  '{{ plan.dir }}/fail.txt',
  '{{ plan.dir }}/effects.log',
]

function plan(name: string): string {
  const t = template('srv', [
    {id: 'replicate', phase: 'replicate', run: log('replicate {{ server.id }}'), rollback: log('undo {{ server.id }}')},
    {id: 'test', phase: 'test', run: test},
    {id: 'cutover', phase: 'cutover', run: log('cutover {{ server.id }}')},
  ])
  ;(t.metadata as Record<string, unknown>).perServer = true
  const dir = makePlanDir({
    apps: [{name: 'orders', template: 'srv', servers: [{id: 'o1'}, {id: 'o2'}, {id: 'o3'}]}],
    templates: {srv: t},
  })
  const f = path.join(dir, 'plan.yaml')
  writeFileSync(f, readFileSync(f, 'utf8').replace('name: test\n', `name: ${name}\n`))
  return dir
}

/** One runner per server, started `delayMs` apart (CI jobs do not start together). */
async function runners(dir: string, delayMs: number) {
  return Promise.all(
    ['o1', 'o2', 'o3'].map(async (s, i) => {
      await new Promise((r) => setTimeout(r, i * delayMs))
      return execa('node', [BIN, 'execute', 'wave', '1', '--plan', dir, '--app', `orders:${s}`, '--state', db.url], {
        reject: false,
        env: {NO_COLOR: '1', MIGRATE_STATE: '', MIGRATE_BARRIER_WAIT: '60'},
      })
    }),
  )
}

describe('per-server barrier across runners', {timeout: 240_000}, () => {
  it('servers on different processes wait for each other: nobody cuts over before all tested', async () => {
    const dir = plan('barrier-ok')
    const rs = await runners(dir, 1500)
    for (const r of rs) expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0)
    const l = lines(path.join(dir, 'effects.log'))
    const firstCut = l.findIndex((x) => x.startsWith('cutover'))
    const lastTest = l.map((x) => x.startsWith('test')).lastIndexOf(true)
    expect(l.filter((x) => x.startsWith('cutover')).sort()).toEqual(['cutover o1', 'cutover o2', 'cutover o3'])
    expect(firstCut).toBeGreaterThan(lastTest)
  })

  it('a server that fails before the barrier holds the others in their own processes: nothing is cut over', async () => {
    const dir = plan('barrier-fail')
    writeFileSync(path.join(dir, 'fail.txt'), 'o3\n')
    const rs = await runners(dir, 1500)
    const l = lines(path.join(dir, 'effects.log'))
    expect(l.filter((x) => x.startsWith('cutover'))).toEqual([])
    expect(rs[2].exitCode).not.toBe(0)
    for (const r of rs.slice(0, 2)) {
      expect(r.exitCode).not.toBe(0)
      expect(String(r.stdout) + String(r.stderr)).toMatch(/held before cutover: orders:o3 did not get there/)
    }
  })
})
