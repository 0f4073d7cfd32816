// Per-server runbooks (metadata.perServer): one unit per server of an application (APP:SERVER_ID), side by side, with
// a cutover barrier. The steps are real processes that append to a file, so what ran, in which order, and what was
// undone is read back from disk and from the journal.
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {EXIT} from '../../src/errors.js'
import {executeWave, rollbackWave} from '../../src/executor/engine.js'
import {planStatus} from '../../src/state/report.js'
import {lines, makePlanDir, NODE, template} from './helpers.js'

const APPEND = 'require("fs").appendFileSync(process.argv[1], process.argv[2] + "\\n")'
const append = (token: string): string[] => [NODE, '-e', APPEND, '{{ plan.dir }}/disk.log', token]
// Fails for the server whose id is in params.fail_<phase> (a file lists the ids that fail, so a rerun can fix it).
const FAIL_IF_LISTED = 'const fs=require("fs");let l="";try{l=fs.readFileSync(process.argv[1],"utf8")}catch{};if(l.split("\\n").includes(process.argv[2]))process.exit(3);fs.appendFileSync(process.argv[3], process.argv[4]+"\\n")'
const failIfListed = (list: string, token: string): string[] => [NODE, '-e', FAIL_IF_LISTED, `{{ plan.dir }}/${list}`, '{{ server.id }}', '{{ plan.dir }}/disk.log', token]

const rehost = template(
  'rehost',
  [
    {id: 'replicate', phase: 'replicate', run: append('replicate {{ server.id }} {{ server.hostname }}'), rollback: append('stop-replication {{ server.id }}')},
    {id: 'test', phase: 'test', run: failIfListed('fail-test', 'test {{ server.id }}'), rollback: append('terminate-test {{ server.id }}')},
    {id: 'cutover', phase: 'cutover', run: append('cutover {{ server.id }}'), rollback: append('revert-cutover {{ server.id }}')},
    {id: 'verify', phase: 'verify', run: failIfListed('fail-verify', 'verify {{ server.id }}')},
  ],
  {},
  {},
)
;(rehost.metadata as Record<string, unknown>).perServer = true

const SERVERS = [
  {id: 'ord-01', hostname: 'ord-01.dc1'},
  {id: 'ord-02', hostname: 'ord-02.dc1'},
  {id: 'ord-03', hostname: 'ord-03.dc1'},
]

function plan(): string {
  return makePlanDir({apps: [{name: 'orders', template: 'rehost', servers: SERVERS}, {name: 'single', template: 'rehost', servers: [{id: 'one-01', hostname: 'one.dc1'}]}], templates: {rehost}})
}

const write = async (dir: string, file: string, text: string) => (await import('node:fs')).writeFileSync(path.join(dir, file), text)

describe('per-server runbooks', () => {
  it('run once per server, {{ server.* }} bound to each, as units APP:SERVER_ID', async () => {
    const dir = plan()
    const r = await executeWave({planDir: dir, wave: 1})
    expect(r.exitCode).toBe(0)
    expect(r.apps.map((a) => [a.app, a.outcome])).toEqual([
      ['orders:ord-01', 'done'],
      ['orders:ord-02', 'done'],
      ['orders:ord-03', 'done'],
      ['single:one-01', 'done'],
    ])
    const log = lines(path.join(dir, 'disk.log'))
    for (const s of SERVERS) expect(log).toContain(`replicate ${s.id} ${s.hostname}`)
    // Nobody cut over before every server of the application had tested.
    const firstCutover = log.findIndex((l) => l.startsWith('cutover ord-'))
    const lastTest = log.map((l, i) => (l.startsWith('test ord-') ? i : -1)).reduce((a, b) => Math.max(a, b))
    expect(firstCutover).toBeGreaterThan(lastTest)
    const status = planStatus(dir)
    expect(status.waves[0].apps.map((a) => a.name).sort()).toEqual(['orders:ord-01', 'orders:ord-02', 'orders:ord-03', 'single:one-01'])
  })

  it('a server that fails before cutover holds the others at the barrier; a rerun after the fix goes on from there', async () => {
    const dir = plan()
    await write(dir, 'fail-test', 'ord-02\n')
    const r = await executeWave({planDir: dir, wave: 1, concurrency: 2})
    expect(r.exitCode).toBe(EXIT.ROLLED_BACK)
    const by = Object.fromEntries(r.apps.map((a) => [a.app, a]))
    expect(by['orders:ord-02'].outcome).toBe('rolled-back')
    expect(by['orders:ord-01'].outcome).toBe('held')
    expect(by['orders:ord-03'].outcome).toBe('held')
    expect(by['orders:ord-01'].message).toMatch(/held before cutover: orders:ord-02 failed and was rolled back; the servers of orders cut over together/)
    // Another application is not held back by this one.
    expect(by['single:one-01'].outcome).toBe('done')
    let log = lines(path.join(dir, 'disk.log'))
    expect(log.filter((l) => l.startsWith('cutover ord-'))).toEqual([])
    // The held servers keep what they did (their replication runs on); the failed one undid its own.
    expect(log).toContain('stop-replication ord-02')
    expect(log).not.toContain('stop-replication ord-01')

    await write(dir, 'fail-test', '')
    const again = await executeWave({planDir: dir, wave: 1, concurrency: 2})
    expect(again.exitCode).toBe(0)
    expect(again.apps.filter((a) => a.app.startsWith('orders:')).map((a) => a.outcome)).toEqual(['done', 'done', 'done'])
    log = lines(path.join(dir, 'disk.log'))
    // ord-01 and ord-03 went on from the barrier: replicated and tested once.
    expect(log.filter((l) => l.startsWith('replicate ord-01'))).toHaveLength(1)
    expect(log.filter((l) => l === 'test ord-01')).toHaveLength(1)
    expect(log.filter((l) => l.startsWith('cutover ord-')).sort()).toEqual(['cutover ord-01', 'cutover ord-02', 'cutover ord-03'])
  })

  it('a server that fails after cutover rolls the whole application back to its source', async () => {
    const dir = plan()
    await write(dir, 'fail-verify', 'ord-03\n')
    const r = await executeWave({planDir: dir, wave: 1})
    expect(r.exitCode).toBe(EXIT.ROLLED_BACK)
    const orders = r.apps.filter((a) => a.app.startsWith('orders:'))
    expect(orders.map((a) => a.outcome)).toEqual(['rolled-back', 'rolled-back', 'rolled-back'])
    expect(orders.find((a) => a.app === 'orders:ord-01')!.message).toMatch(/rolled back with the other servers of orders: orders:ord-03 failed/)
    const log = lines(path.join(dir, 'disk.log'))
    for (const s of SERVERS) {
      expect(log).toContain(`revert-cutover ${s.id}`)
      expect(log).toContain(`stop-replication ${s.id}`)
      // Undone in reverse: the cutover before the test, the test before the replication.
      expect(log.indexOf(`revert-cutover ${s.id}`)).toBeLessThan(log.indexOf(`terminate-test ${s.id}`))
      expect(log.indexOf(`terminate-test ${s.id}`)).toBeLessThan(log.indexOf(`stop-replication ${s.id}`))
    }
    expect(r.apps.find((a) => a.app === 'single:one-01')!.outcome).toBe('done')
    // Nothing of orders is left to undo; the single-server application still can be.
    const rb = await rollbackWave({planDir: dir, wave: 1, apps: ['orders']})
    expect(rb.apps.map((a) => a.outcome)).toEqual(['nothing-to-do', 'nothing-to-do', 'nothing-to-do'])
  })

  it('--app APP:SERVER_ID runs one server; the dry-run lists every server with its own values', async () => {
    const dir = plan()
    const dry = await executeWave({planDir: dir, wave: 1, dryRun: true})
    expect(dry.apps.map((a) => a.app)).toEqual(['orders:ord-01', 'orders:ord-02', 'orders:ord-03', 'single:one-01'])
    const one = await executeWave({planDir: dir, wave: 1, apps: ['orders:ord-02']})
    expect(one.apps.map((a) => [a.app, a.outcome])).toEqual([['orders:ord-02', 'done']])
    expect(lines(path.join(dir, 'disk.log')).filter((l) => l.startsWith('replicate'))).toEqual(['replicate ord-02 ord-02.dc1'])
  })
})
