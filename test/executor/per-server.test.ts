// Per-server runbooks (metadata.perServer): one unit per server of an application (APP:SERVER_ID), side by side, that
// move as a whole: a cutover barrier, a finalize barrier, and a rollback of every server when one fails after cutover.
// The steps are real processes that append to a file, so what ran, in which order, and what was undone is read back
// from disk and from the journal.
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {stringify} from 'yaml'
import {describe, expect, it} from 'vitest'
import {EXIT} from '../../src/errors.js'
import {executeWave, rollbackWave} from '../../src/executor/engine.js'
import type {ExecEvent} from '../../src/executor/types.js'
import {planStatus} from '../../src/executor/plan-status.js'
import {lines, makePlanDir, NODE, template} from './helpers.js'

const APPEND = 'require("fs").appendFileSync(process.argv[1], process.argv[2] + "\\n")'
const append = (token: string): string[] => [NODE, '-e', APPEND, '{{ plan.dir }}/disk.log', token]
// Exits 3 when the server's id is listed in the named file (so a test can make one server fail, and a rerun succeed).
const FAIL_IF_LISTED =
  'const fs=require("fs");let l="";try{l=fs.readFileSync(process.argv[1],"utf8")}catch{};if(l.split("\\n").includes(process.argv[2]))process.exit(3);if(process.argv[4])fs.appendFileSync(process.argv[3], process.argv[4]+"\\n")'
const failIfListed = (list: string, token = ''): string[] => [
  NODE,
  '-e',
  FAIL_IF_LISTED,
  `{{ plan.dir }}/${list}`,
  '{{ server.id }}',
  '{{ plan.dir }}/disk.log',
  token,
]

// A soak check that turns bad late for a listed server: from its 2nd poll on, and slowly (2.5 s), so the other servers'
// soaks are over by then (without the finalize barrier they would finalize before this one fails).
const FAIL_LATE =
  'const fs=require("fs");const n=process.argv[3]+".n";const c=fs.existsSync(n)?Number(fs.readFileSync(n,"utf8")):0;fs.writeFileSync(n,String(c+1));let l="";try{l=fs.readFileSync(process.argv[1],"utf8")}catch{};if(l.split("\\n").includes(process.argv[2])&&c>=1)setTimeout(()=>process.exit(3),2500)'
const failLate = (list: string): string[] => [
  NODE,
  '-e',
  FAIL_LATE,
  `{{ plan.dir }}/${list}`,
  '{{ server.id }}',
  '{{ plan.dir }}/soak-{{ server.id }}',
]

const rehost = template('rehost', [
  {
    id: 'replicate',
    phase: 'replicate',
    run: append('replicate {{ server.id }} {{ server.hostname }}'),
    rollback: append('stop-replication {{ server.id }}'),
  },
  {
    id: 'test',
    phase: 'test',
    run: failIfListed('fail-test', 'test {{ server.id }}'),
    rollback: append('terminate-test {{ server.id }}'),
  },
  {id: 'approve-cutover', phase: 'cutover', gate: {message: 'cut {{ server.id }} over?'}},
  {
    id: 'cutover',
    phase: 'cutover',
    run: append('cutover {{ server.id }}'),
    rollback: append('revert-cutover {{ server.id }}'),
  },
  {id: 'verify', phase: 'verify', run: failIfListed('fail-verify', 'verify {{ server.id }}')},
  {
    id: 'finalize',
    phase: 'finalize',
    finalize: true,
    soak: {duration: '1s', interval: '200ms', check: {type: 'command', run: failLate('fail-soak')}},
    run: append('finalize {{ server.id }}'),
  },
])
;(rehost.metadata as Record<string, unknown>).perServer = true

const SERVERS = [
  {id: 'ord-01', hostname: 'ord-01.dc1'},
  {id: 'ord-02', hostname: 'ord-02.dc1'},
  {id: 'ord-03', hostname: 'ord-03.dc1'},
]

function plan(): string {
  return makePlanDir({
    apps: [
      {name: 'orders', template: 'rehost', servers: SERVERS},
      {name: 'single', template: 'rehost', servers: [{id: 'one-01', hostname: 'one.dc1'}]},
    ],
    templates: {rehost},
  })
}
const put = (dir: string, file: string, text: string) => writeFileSync(path.join(dir, file), text)
const outcomes = (r: {apps: {app: string; outcome: string}[]}) => r.apps.map((a) => [a.app, a.outcome])
const log = (dir: string) => lines(path.join(dir, 'disk.log'))

describe('per-server runbooks', () => {
  it('run once per server, {{ server.* }} bound to each; nobody cuts over before all tested, nobody finalizes before all soaked', async () => {
    const dir = plan()
    const events: ExecEvent[] = []
    const r = await executeWave({
      planDir: dir,
      wave: 1,
      yes: true,
      approve: ['orders/finalize', 'single/finalize'],
      emit: (e) => events.push(e),
    })
    expect(r.exitCode).toBe(0)
    expect(outcomes(r)).toEqual([
      ['orders:ord-01', 'done'],
      ['orders:ord-02', 'done'],
      ['orders:ord-03', 'done'],
      ['single:one-01', 'done'],
    ])
    const l = log(dir)
    for (const s of SERVERS) expect(l).toContain(`replicate ${s.id} ${s.hostname}`)
    const last = (p: string) => Math.max(...l.map((x, i) => (x.startsWith(p) ? i : -1)))
    const first = (p: string) => l.findIndex((x) => x.startsWith(p))
    expect(first('cutover ord-')).toBeGreaterThan(last('test ord-'))
    expect(first('finalize ord-')).toBeGreaterThan(last('verify ord-'))
    // One app-end per unit, sent once its application is settled.
    expect(
      events
        .filter((e) => e.type === 'app-end')
        .map((e) => (e as {app: string}).app)
        .sort(),
    ).toEqual(['orders:ord-01', 'orders:ord-02', 'orders:ord-03', 'single:one-01'])
    const status = planStatus(dir)
    expect(status.waves[0].apps.map((a) => [a.name, a.status]).sort()).toEqual([
      ['orders:ord-01', 'done'],
      ['orders:ord-02', 'done'],
      ['orders:ord-03', 'done'],
      ['single:one-01', 'done'],
    ])
  })

  it('a server that fails before cutover holds the others at the barrier; a rerun after the fix goes on from there', async () => {
    const dir = plan()
    put(dir, 'fail-test', 'ord-02\n')
    const r = await executeWave({planDir: dir, wave: 1, yes: true, concurrency: 2, approve: ['single/finalize']})
    expect(r.exitCode).toBe(EXIT.ROLLED_BACK)
    expect(outcomes(r)).toEqual([
      ['orders:ord-01', 'held'],
      ['orders:ord-02', 'rolled-back'],
      ['orders:ord-03', 'held'],
      ['single:one-01', 'done'],
    ])
    expect(r.apps[0].message).toMatch(
      /held before cutover: orders:ord-02 failed and was rolled back; the servers of orders cut over together/,
    )
    // `migrate status` says so too (from the journal).
    const held = planStatus(dir).waves[0].apps.find((a) => a.name === 'orders:ord-01')!
    expect(held.status).toBe('held')
    expect(held.heldBecause).toMatch(/orders:ord-02 failed/)
    expect(log(dir).filter((l) => l.startsWith('cutover ord-'))).toEqual([])
    // The held servers keep what they did (their replication runs on); the failed one undid its own.
    expect(log(dir)).toContain('stop-replication ord-02')
    expect(log(dir)).not.toContain('stop-replication ord-01')

    put(dir, 'fail-test', '')
    const again = await executeWave({planDir: dir, wave: 1, yes: true, concurrency: 2, approve: ['finalize']})
    expect(again.exitCode).toBe(0)
    expect(again.apps.map((a) => a.outcome)).toEqual(['done', 'done', 'done', 'done'])
    // ord-01 and ord-03 went on from the barrier: replicated and tested once.
    expect(log(dir).filter((l) => l.startsWith('replicate ord-01'))).toHaveLength(1)
    expect(log(dir).filter((l) => l === 'test ord-01')).toHaveLength(1)
    expect(
      log(dir)
        .filter((l) => l.startsWith('cutover ord-'))
        .sort(),
    ).toEqual(['cutover ord-01', 'cutover ord-02', 'cutover ord-03'])
  })

  it('an approval at the barrier is for the application: one server approved alone does not cut over', async () => {
    const dir = plan()
    const r = await executeWave({planDir: dir, wave: 1, approve: ['orders:ord-01/approve-cutover']})
    expect(r.exitCode).toBe(EXIT.NEEDS_OPERATOR)
    expect(outcomes(r).slice(0, 3)).toEqual([
      ['orders:ord-01', 'held'],
      ['orders:ord-02', 'waiting-gate'],
      ['orders:ord-03', 'waiting-gate'],
    ])
    expect(log(dir).filter((l) => l.startsWith('cutover'))).toEqual([])
    // APP/STEP approves the step for every server of the application.
    const all = await executeWave({
      planDir: dir,
      wave: 1,
      approve: ['orders/approve-cutover', 'orders/finalize', 'single/approve-cutover', 'single/finalize'],
    })
    expect(all.exitCode).toBe(0)
    expect(log(dir).filter((l) => l.startsWith('finalize ord-'))).toHaveLength(3)
  })

  it('at a terminal, the servers of an application are asked once per gate, for all of them', async () => {
    const dir = plan()
    const asked: string[] = []
    const r = await executeWave({planDir: dir, wave: 1, deps: {confirm: async (q: string) => (asked.push(q), true)}})
    expect(r.exitCode).toBe(0)
    const orders = asked.filter((q) => q.startsWith('[orders'))
    expect(orders).toHaveLength(2)
    expect(orders[0]).toMatch(/^\[orders, all 3 server\(s\)\] cut ord-0\d over\?$/)
    expect(orders[1]).toMatch(/^\[orders, all 3 server\(s\)\] Run finalize step finalize/)
    expect(asked.filter((q) => q.startsWith('[single'))).toHaveLength(2)
  })

  it('a server that fails after cutover rolls the whole application back to its source', async () => {
    const dir = plan()
    put(dir, 'fail-verify', 'ord-03\n')
    const r = await executeWave({planDir: dir, wave: 1, yes: true, approve: ['single/finalize']})
    expect(r.exitCode).toBe(EXIT.ROLLED_BACK)
    const orders = r.apps.filter((a) => a.app.startsWith('orders:'))
    expect(orders.map((a) => a.outcome)).toEqual(['rolled-back', 'rolled-back', 'rolled-back'])
    expect(orders.find((a) => a.app === 'orders:ord-01')!.message).toMatch(/orders:ord-03/)
    const l = log(dir)
    for (const s of SERVERS) {
      expect(l).toContain(`revert-cutover ${s.id}`)
      // Undone in reverse: the cutover before the test, the test before the replication.
      expect(l.indexOf(`revert-cutover ${s.id}`)).toBeLessThan(l.indexOf(`terminate-test ${s.id}`))
      expect(l.indexOf(`terminate-test ${s.id}`)).toBeLessThan(l.indexOf(`stop-replication ${s.id}`))
    }
    expect(l.filter((x) => x.startsWith('finalize ord-'))).toEqual([])
    const rb = await rollbackWave({planDir: dir, wave: 1, apps: ['orders']})
    expect(rb.apps.map((a) => a.outcome)).toEqual(['nothing-to-do', 'nothing-to-do', 'nothing-to-do'])
  })

  it('with --no-rollback, a failure after cutover stops the other servers and undoes nothing', async () => {
    const dir = plan()
    put(dir, 'fail-verify', 'ord-03\n')
    const r = await executeWave({
      planDir: dir,
      wave: 1,
      yes: true,
      noRollback: true,
      apps: ['orders'],
      approve: ['orders/finalize'],
    })
    expect(r.exitCode).toBe(EXIT.FAILURE)
    expect(r.apps.find((a) => a.app === 'orders:ord-03')!.outcome).toBe('failed')
    // The others stop at their next step (or, if they got to finalize first, before its action): none finalizes.
    expect(
      r.apps.filter((a) => a.app !== 'orders:ord-03').every((a) => a.outcome === 'failed' || a.outcome === 'held'),
    ).toBe(true)
    expect(log(dir).filter((l) => l.startsWith('finalize'))).toEqual([])
    for (const a of r.apps.filter((x) => x.app !== 'orders:ord-03' && x.outcome === 'failed'))
      expect(a.message).toMatch(/^stopped with the other servers of orders: orders:ord-03/)
    expect(log(dir).filter((l) => l.startsWith('revert-cutover') || l.startsWith('stop-replication'))).toEqual([])
  })

  it('on a later run, a soak that fails on one server keeps every server from finalizing, and rolls them all back', async () => {
    const dir = plan()
    // First run: everything up to finalize, which waits for its own approval.
    const r1 = await executeWave({planDir: dir, wave: 1, yes: true})
    expect(r1.apps.map((a) => a.outcome)).toEqual(['waiting-gate', 'waiting-gate', 'waiting-gate', 'waiting-gate'])
    // Next day: approved, but ord-02 is unhealthy during the soak.
    put(dir, 'fail-soak', 'ord-02\n')
    const r2 = await executeWave({planDir: dir, wave: 1, approve: ['orders/finalize', 'single/finalize']})
    expect(r2.exitCode).toBe(EXIT.ROLLED_BACK)
    expect(outcomes(r2).slice(0, 3)).toEqual([
      ['orders:ord-01', 'rolled-back'],
      ['orders:ord-02', 'rolled-back'],
      ['orders:ord-03', 'rolled-back'],
    ])
    expect(log(dir).filter((l) => l.startsWith('finalize ord-'))).toEqual([])
    for (const s of SERVERS) expect(log(dir)).toContain(`revert-cutover ${s.id}`)
  })

  it('--app APP:SERVER_ID runs one server up to the barrier only; the dry-run lists every server with its own values', async () => {
    const dir = plan()
    const dry = await executeWave({planDir: dir, wave: 1, dryRun: true})
    expect(dry.apps.map((a) => a.app)).toEqual(['orders:ord-01', 'orders:ord-02', 'orders:ord-03', 'single:one-01'])
    const steps = dry.apps[1].steps
    expect(steps.find((x) => x.id === 'cutover')?.note).toBe('barrier: the 3 server(s) of orders cut over together')
    expect(steps.find((x) => x.id === 'finalize')?.note).toMatch(
      /barrier: the servers of orders finalize only when all soaked/,
    )
    expect(steps.find((x) => x.id === 'replicate')?.detail).toContain('replicate ord-02 ord-02.dc1')
    const one = await executeWave({planDir: dir, wave: 1, yes: true, apps: ['orders:ord-02']})
    expect(outcomes(one)).toEqual([['orders:ord-02', 'held']])
    expect(one.apps[0].message).toMatch(/only 1 of the 3 servers of orders are in this run/)
    expect(log(dir)).toEqual(['replicate ord-02 ord-02.dc1', 'test ord-02'])
  })

  it('a per-server template without a cutover-like phase gets a pre-flight warning (its servers would not wait for each other)', async () => {
    const flat = template('flat', [{id: 'copy', run: append('copy {{ server.id }}')}])
    ;(flat.metadata as Record<string, unknown>).perServer = true
    const dir = makePlanDir({apps: [{name: 'orders', template: 'flat', servers: SERVERS}], templates: {flat}})
    const dry = await executeWave({planDir: dir, wave: 1, dryRun: true})
    expect(dry.preflight.filter((f) => f.code === 'NO_BARRIER')).toEqual([
      expect.objectContaining({severity: 'warning', app: 'orders'}),
    ])
  })

  it('a template that is not per-server but names {{ server.* }} gets a warning for an application on several servers', async () => {
    const first = template('first', [{id: 'copy', run: append('copy {{ server.id }}')}])
    const dir = makePlanDir({
      apps: [
        {name: 'orders', template: 'first', servers: SERVERS},
        {name: 'single', template: 'first', servers: [{id: 'one-01', hostname: 'one.dc1'}]},
      ],
      templates: {first},
    })
    const dry = await executeWave({planDir: dir, wave: 1, dryRun: true})
    expect(dry.preflight.filter((f) => f.code === 'FIRST_SERVER_ONLY')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        app: 'orders',
        message: expect.stringContaining('it drives ord-01 only'),
      }),
    ])
  })

  it("a wave journaled under the application's own name goes on as one unit after its template became per-server", async () => {
    const dir = plan()
    const single = {...rehost, metadata: {name: 'rehost', params: {}}}
    put(dir, 'templates/rehost.yaml', stringify(single))
    const r1 = await executeWave({planDir: dir, wave: 1, yes: true})
    expect(r1.apps.map((a) => a.app)).toEqual(['orders', 'single'])
    put(dir, 'templates/rehost.yaml', stringify(rehost))
    const r2 = await executeWave({planDir: dir, wave: 1, approve: ['finalize']})
    expect(outcomes(r2)).toEqual([
      ['orders', 'done'],
      ['single', 'done'],
    ])
    expect(planStatus(dir).waves[0].apps.map((a) => a.name)).toEqual(['orders', 'single'])
  })
})
