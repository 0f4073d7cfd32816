// MariaDB cutover safety on real servers behind HAProxy, replication set up by the shipped template (the wave runs
// to its cutover gate), a writer running: a long write statement is refused before the block; one that starts just
// before it makes read_only give up within --pause-wait (lock_wait_timeout), naming it, with nothing changed; a
// block lifted during the window is caught before promotion (the write it let in is kept); a stopped replica is
// refused before the block; checksums run before the block. Ports: reserved at run time (onLabPorts).
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import mysql from 'mysql2/promise'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {setupMariadb, type Scenario} from '../../src/db/lab/scenarios.js'
import {lostWrites, startMariadbLoad} from '../../src/db/lab/load.js'
import {mariadbCutover, type MariadbCutoverOptions} from '../../src/db/cutover.js'
import {mariadbReplicate} from '../../src/db/mariadb.js'
import {migrate, mysqlQuery as q, onLabPorts} from './helpers.js'

let s: Scenario
let opts: MariadbCutoverOptions

const readOnly = async () => (await q(s.sourceUrl, 'SELECT @@read_only AS r'))[0].r
const replicating = async () => {
  const st = (await q(s.targetUrl, 'SHOW SLAVE STATUS'))[0]
  return st?.Slave_IO_Running === 'Yes' && st?.Slave_SQL_Running === 'Yes'
}

/** An application statement that runs for `seconds` while holding a row lock (a long UPDATE). */
function longStatement(seconds: number): Promise<unknown> {
  return mysql.createConnection({uri: s.clientUrl}).then(async (c) => {
    try {
      await c.query(`UPDATE orders SET amount = amount + SLEEP(${seconds}) WHERE id = 1`)
    } finally {
      await c.end()
    }
  })
}

async function underLoad<T>(fn: () => Promise<T>) {
  const load = startMariadbLoad({url: s.clientUrl, workers: 2, intervalMs: 5})
  await new Promise((r) => setTimeout(r, 300))
  const result = await fn().then(
    (v) => ({ok: v, err: undefined}),
    (e) => ({ok: undefined, err: e}),
  )
  await new Promise((r) => setTimeout(r, 300))
  const stats = await load.stop()
  return {...result, stats, lost: await lostWrites('mariadb', s.clientUrl, stats.acks)}
}

beforeAll(async () => {
  s = await onLabPorts(setupMariadb)
  const db = s.servers[0].port
  process.env.MIGRATE_REPL_PASSWORD = ''
  const r = await migrate(s, ['execute', 'wave', '1', '--plan', s.planDir])
  expect(r.exitCode, r.stdout + r.stderr).toBe(6)
  expect(r.stdout + r.stderr).toMatch(/Writes fail \(and are retried by clients\): about \d+\.\d s, at most 5\.0 s/)
  opts = {
    source: s.sourceUrl,
    target: s.targetUrl,
    users: ['app'],
    repl: {user: 'repl', passwordEnv: 'MIGRATE_REPL_PASSWORD'},
    targetAddr: `127.0.0.1:${db + 1}`,
    haproxy: {
      api: s.params.haproxy_api,
      server: s.params.haproxy_server,
      source: {host: '127.0.0.1', port: db},
      target: {host: '127.0.0.1', port: db + 1},
    },
    verify: 'checksums',
    timeoutMs: 60_000,
  }
}, 180_000)
afterAll(async () => {
  await s?.stop()
})

describe.sequential('mariadb cutover safety', () => {
  test('a long write statement: refused before the block, naming it', {timeout: 60_000}, async () => {
    const long = longStatement(4)
    await new Promise((r) => setTimeout(r, 2500))
    const err = await mariadbCutover(opts, () => {}).catch((e) => e)
    expect(err).toMatchObject({
      code: 'CUTOVER_REFUSED',
      message: expect.stringMatching(/connection \d+ app@127\.0\.0\.1:\d+, .*UPDATE orders SET amount/),
      data: {refusedBeforePause: true},
    })
    expect(await readOnly()).toBe(0)
    await long
  })

  test('a statement that starts just before the block: read_only gives up within --pause-wait, names it; nothing changed', {
    timeout: 60_000,
  }, async () => {
    let long: Promise<unknown> | undefined
    const before = async (step: string) => {
      if (step !== 'block-source-writes') return
      long = longStatement(5)
      await new Promise((r) => setTimeout(r, 300))
    }
    const t0 = Date.now()
    const err = await mariadbCutover({...opts, before}, () => {}).catch((e) => e)
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(err).toMatchObject({
      code: 'MARIADB_BLOCK_TIMEOUT',
      message: expect.stringMatching(
        /read_only could not be set within 2 s .*UPDATE orders SET amount.*nothing changed/,
      ),
      data: {refusedBeforePause: true},
    })
    expect(await readOnly()).toBe(0)
    expect(await replicating()).toBe(true)
    await long
  })

  test('read_only switched off during the window is caught before promotion: the write it let in is kept', {
    timeout: 60_000,
  }, async () => {
    const before = async (step: string) => {
      if (step !== 'promote-target') return
      await q(s.sourceUrl, 'SET GLOBAL read_only = 0')
      await q(s.sourceUrl, 'INSERT INTO orders (customer, amount, note) VALUES (1, 1, "sneaky")')
    }
    const lines: string[] = []
    const err = await mariadbCutover({...opts, before}, (l) => lines.push(l)).catch((e) => e)
    expect(err).toMatchObject({code: 'WRITE_BLOCK_LAPSED'})
    expect(lines.some((l) => l.startsWith('ok   promote-target'))).toBe(false)
    expect(await replicating()).toBe(true)
    expect((await q(s.clientUrl, "SELECT count(*) AS n FROM orders WHERE note = 'sneaky'"))[0].n).toBe(1)
    expect(await readOnly()).toBe(0)
  })

  test('a stopped replica: refused before the block, within the bound; writes never fail', {
    timeout: 60_000,
  }, async () => {
    const pid = Number(readFileSync(path.join(s.servers[1].dir, 'pid'), 'utf8'))
    process.kill(pid, 'SIGSTOP')
    const t0 = Date.now()
    const {err, stats, lost} = await underLoad(() => mariadbCutover(opts, () => {})).finally(() =>
      process.kill(pid, 'SIGCONT'),
    )
    expect(err).toMatchObject({data: {refusedBeforePause: true}})
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(stats.failed).toBe(0)
    expect(lost).toEqual([])
    for (let i = 0; i < 100 && !(await replicating()); i++) await new Promise((r) => setTimeout(r, 100))
  })

  test('a replica that stops right before promotion: the commit sub-step gives up within the window, writes go on on the source', {
    timeout: 60_000,
  }, async () => {
    // STOP SLAVE on a server that does not answer: unbounded, it held the block (every write failing) without end.
    const pid = Number(readFileSync(path.join(s.servers[1].dir, 'pid'), 'utf8'))
    const before = (step: string) => {
      if (step === 'promote-target') process.kill(pid, 'SIGSTOP')
    }
    const lines: string[] = []
    const {err, stats, lost} = await underLoad(() => mariadbCutover({...opts, before}, (l) => lines.push(l))).finally(
      () => process.kill(pid, 'SIGCONT'),
    )
    console.log(
      `measured: MariaDB commit sub-step hanging: client-seen gap ${stats.maxGapMs} ms, ${stats.failed} failed`,
    )
    expect(err, lines.join('\n')).toMatchObject({
      code: 'WINDOW_BOUND_EXCEEDED',
      message: expect.stringMatching(/promote-target did not finish within the \d+ ms left of the window/),
    })
    expect(lines).toContain('undo block-source-writes')
    expect(stats.maxGapMs, lines.join('\n')).toBeLessThan(5000 + 1000)
    expect(lost).toEqual([])
    expect(await readOnly()).toBe(0)
    // The target answers again: the commit's own undo (read_only, replication started again) or this puts it back.
    // The frozen server runs what was queued on it once it answers (the given-up STOP SLAVE among it), in an order
    // no client controls: restart replication until it holds, and say why when it does not.
    for (let i = 0; i < 300 && !(await replicating()); i++) {
      if (i % 10 === 9) {
        await q(s.targetUrl, 'STOP SLAVE').catch(() => {})
        await q(s.targetUrl, 'SET GLOBAL read_only = 1').then(() => q(s.targetUrl, 'START SLAVE'))
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    if (!(await replicating())) {
      // Seen twice in CI under load (never alone): both threads stopped, no error, after 30 s of restarts. Say in
      // what state, then set replication up again as the template does, so the tests after this one start from
      // a replica (what is asserted above is this test's property; this is the operator's repair after it).
      const st = (await q(s.targetUrl, 'SHOW SLAVE STATUS'))[0] ?? {}
      const keys = ['Master_Host', 'Master_Port', 'Slave_IO_Running', 'Slave_SQL_Running', 'Slave_SQL_Running_State']
      const more = ['Last_IO_Errno', 'Last_SQL_Errno', 'Using_Gtid', 'Gtid_IO_Pos']
      const seen = Object.fromEntries([...keys, ...more].map((k) => [k, st[k]]))
      console.log(`replication not back after 30 s of restarts: ${JSON.stringify(seen)}; setting it up again`)
      await mariadbReplicate(s.sourceUrl, s.targetUrl, {user: 'repl', passwordEnv: 'MIGRATE_REPL_PASSWORD'})
    }
    expect(await replicating()).toBe(true)
  })

  test('checksums before the block, the changing table re-checked inside it: cut over, nothing lost', {
    timeout: 120_000,
  }, async () => {
    const lines: string[] = []
    const {ok, stats, lost} = await underLoad(() => mariadbCutover(opts, (l) => lines.push(l)))
    expect(ok, lines.join('\n')).toBeDefined()
    expect(lines.find((l) => l.startsWith('ok   verify-before-block'))).toMatch(
      /: \d table\(s\) equal \(checksums, \d+ ms, outside the block\); (none changing|app\.writes still changing)/,
    )
    expect(['', 'app.writes']).toContain((ok!.verify?.tables ?? []).map((t) => t.table).join(','))
    expect(ok!.windowMs).toBeLessThan(5000)
    expect(stats.maxGapMs).toBeLessThan(5000 + 1000)
    expect(lost).toEqual([])
  })
})
