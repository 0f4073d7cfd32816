// The lab and the bench start their own servers only: a port something else holds is refused (never used as the
// source, never made a replica), `lab up` picks free ports when its preferred ones are taken, and the lab's
// PgBouncer lets in the startup parameters common clients send. Ports: reserved at run time (test/helpers/ports.ts).
import {afterAll, describe, expect, test} from 'vitest'
import {execa} from 'execa'
import net from 'node:net'
import path from 'node:path'
import {mkdtempSync, readFileSync, unlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import pg from 'pg'
import {
  startHaproxy,
  startMariadb,
  startPgBouncer,
  startPostgres,
  startRedis,
  stopAll,
} from '../../src/db/lab/servers.js'
import {setupRedis} from '../../src/db/lab/scenarios.js'
import {labDown, labUp, readLab} from '../../src/db/lab/lab.js'
import {startRdsPostgres} from '../../src/db/lab/rds-postgres.js'
import {PORT_LOCK_DIR, releasePorts, reservePorts, takeBlock} from '../../src/db/lab/ports.js'
import {freePortBlock, onFreePort, portInUse} from '../helpers/ports.js'

const foreign: {stop: () => Promise<void>}[] = []
afterAll(async () => {
  await stopAll()
  for (const f of foreign) await f.stop()
})

/** A Redis the lab did not start, with a key of its own. */
async function foreignRedis(port: number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'migrate-foreign-'))
  await execa('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'yes',
    '--pidfile',
    path.join(dir, 'pid'),
  ])
  for (
    let i = 0;
    i < 100 && (await execa('redis-cli', ['-p', String(port), 'PING'], {reject: false})).stdout !== 'PONG';
    i++
  )
    await new Promise((r) => setTimeout(r, 50))
  await execa('redis-cli', ['-p', String(port), 'SET', 'mine', 'precious'])
  foreign.push({
    stop: async () => void (await execa('redis-cli', ['-p', String(port), 'SHUTDOWN', 'NOSAVE'], {reject: false})),
  })
}

/** Sends a protocol-3.0 StartupMessage with exactly `params`; the first reply's type: R (auth), or E and its message. */
function startupReply(port: number, params: Record<string, string>): Promise<string> {
  const body = Buffer.concat([
    ...Object.entries(params).flatMap(([k, v]) => [Buffer.from(k + '\0'), Buffer.from(v + '\0')]),
    Buffer.from('\0'),
  ])
  const head = Buffer.alloc(8)
  head.writeInt32BE(8 + body.length, 0)
  head.writeInt32BE(196608, 4)
  return new Promise((resolve, reject) => {
    const sock = net.connect({port, host: '127.0.0.1'}, () => sock.write(Buffer.concat([head, body])))
    sock.once('data', (d) => {
      sock.destroy()
      const type = String.fromCharCode(d[0])
      resolve(type === 'E' ? `E ${d.subarray(5).toString().replace(/\0/g, ' ')}` : type)
    })
    sock.once('error', reject)
  })
}

async function role(port: number): Promise<string> {
  return (await execa('redis-cli', ['-p', String(port), 'ROLE'])).stdout.split('\n')[0]
}

test('a foreign Redis on the lab port is refused: never the source, never made a replica', {
  timeout: 60_000,
}, async () => {
  const db = await freePortBlock(16)
  const proxy = db + 12
  await foreignRedis(db)
  await expect(setupRedis({db, proxy})).rejects.toMatchObject({
    code: 'LAB_PORT_IN_USE',
    message: expect.stringContaining(`port ${db}`),
  })
  // …and the neighbour: the target's port taken.
  await foreignRedis(db + 11)
  await expect(setupRedis({db: db + 10, proxy})).rejects.toMatchObject({
    code: 'LAB_PORT_IN_USE',
    message: expect.stringContaining(`port ${db + 11}`),
  })
  for (const p of [db, db + 11]) {
    expect(await role(p)).toBe('master')
    expect((await execa('redis-cli', ['-p', String(p), 'GET', 'mine'])).stdout).toBe('precious')
  }
})

test('every kind of lab server refuses a port held by another process', {timeout: 60_000}, async () => {
  const port = await freePortBlock(2)
  const holder = net.createServer().listen(port, '127.0.0.1')
  await new Promise((r) => holder.once('listening', r))
  try {
    const starts = [
      () => startPostgres({port}),
      () => startMariadb({port, serverId: 9}),
      () => startRedis({port}),
      () => startPgBouncer({port, databases: {app: {host: '127.0.0.1', port: 1, dbname: 'app'}}}),
      () => startHaproxy({apiPort: port, frontends: []}),
      () => startHaproxy({apiPort: port + 1, frontends: [{name: 'x', port, server: {host: '127.0.0.1', port: 1}}]}),
      () => startRdsPostgres({port}),
    ]
    for (const start of starts) await expect(start()).rejects.toMatchObject({code: 'LAB_PORT_IN_USE'})
  } finally {
    holder.close()
  }
})

test('lab up picks free ports when its preferred ones are taken, and down stops only its own', {
  timeout: 120_000,
}, async () => {
  // Preferred ports for `lab up` (reserved here), the source's held by a foreign Redis.
  const preferred = await freePortBlock(4)
  await foreignRedis(preferred)
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'migrate-labports-')), 'lab')
  const info = await labUp('redis', dir, {db: preferred, proxy: preferred + 2})
  try {
    const ports = info.servers.map((s) => s.port)
    expect(ports).not.toContain(preferred)
    expect(readLab(dir).servers.length).toBe(3)
    expect((await execa('redis-cli', ['-p', String(info.servers[0].port), 'PING'])).stdout).toBe('PONG')
  } finally {
    await labDown(dir)
  }
  expect(await role(preferred)).toBe('master')
  expect((await execa('redis-cli', ['-p', String(preferred), 'GET', 'mine'])).stdout).toBe('precious')
})

describe('port reservations', () => {
  test('a port reserved by another live process is never handed out; one of a process that is gone is taken over', async () => {
    /** A free port whose lock file names `pid` (created exclusively: never another run's lock). */
    const lockedBy = async (pid: string): Promise<number> => {
      for (;;) {
        const p = await reservePorts(1)
        releasePorts(p)
        try {
          writeFileSync(path.join(PORT_LOCK_DIR, String(p)), `${pid}\n`, {flag: 'wx'})
          return p
        } catch {}
      }
    }
    // The parent (vitest) is alive: its lock holds. A finished child's pid is gone: its lock is stale.
    const live = await lockedBy(String(process.ppid))
    const stale = await lockedBy((await execa('sh', ['-c', 'echo $$'])).stdout.trim())
    try {
      expect(await takeBlock(live, 1)).toBe(false)
      expect(await takeBlock(stale, 1)).toBe(true)
      expect(readFileSync(path.join(PORT_LOCK_DIR, String(stale)), 'utf8')).toBe(`${process.pid}\n`)
      // Taken by this process already: not handed out twice either.
      expect(await takeBlock(stale, 1)).toBe(false)
    } finally {
      releasePorts(stale)
      unlinkSync(path.join(PORT_LOCK_DIR, String(live)))
    }
    const many = await Promise.all(Array.from({length: 20}, () => reservePorts(3)))
    const all = many.flatMap((b) => [b, b + 1, b + 2])
    expect(new Set(all).size).toBe(all.length)
    for (const b of many) releasePorts(b, 3)
  })

  test('a start that finds its port taken runs again on another one', async () => {
    const tried: number[] = []
    const port = await onFreePort(async (p) => {
      tried.push(p)
      if (tried.length < 3) throw portInUse(p, 'test')
      return p
    })
    expect(tried.length).toBe(3)
    expect(new Set(tried).size).toBe(3)
    expect(port).toBe(tried[2])
    // Other failures are not retried.
    await expect(onFreePort(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
  })
})

describe("the lab's PgBouncer", () => {
  test('lets in the startup parameters node-postgres, pgJDBC and libpq send', {timeout: 60_000}, async () => {
    const p = await freePortBlock(3)
    const db = await startPostgres({port: p, database: 'app'})
    const bouncer = await startPgBouncer({
      port: p + 2,
      databases: {app: {host: '127.0.0.1', port: db.port, dbname: 'app'}},
    })
    const cases: Record<string, Partial<pg.ClientConfig>> = {
      statement_timeout: {statement_timeout: 5000},
      lock_timeout: {lock_timeout: 5000},
      idle_in_transaction_session_timeout: {idle_in_transaction_session_timeout: 60000},
      options: {options: '-c search_path=public'},
      application_name: {application_name: 'billing'},
    }
    for (const [name, extra] of Object.entries(cases)) {
      const c = new pg.Client({host: '127.0.0.1', port: bouncer.port, user: 'postgres', database: 'app', ...extra})
      c.on('error', () => {})
      await expect(
        c
          .connect()
          .then(() => c.query('SELECT 1 AS one'))
          .then((r) => r.rows[0].one),
        name,
      ).resolves.toBe(1)
      await c.end()
    }
    // pgJDBC sends extra_float_digits and (with currentSchema) search_path as startup parameters of their own.
    for (const [k, v] of [
      ['extra_float_digits', '3'],
      ['search_path', 'public'],
      ['statement_timeout', '5000'],
    ])
      expect(await startupReply(bouncer.port, {user: 'postgres', database: 'app', [k]: v}), k).toBe('R')
    // A parameter nobody configured is still refused (PgBouncer's own check stays on).
    expect(await startupReply(bouncer.port, {user: 'postgres', database: 'app', work_mem: '64MB'})).toMatch(
      /^E.*unsupported startup parameter/,
    )
    // libpq's PGOPTIONS arrives as options.
    const r = await execa(
      'psql',
      ['-X', '-At', `host=127.0.0.1 port=${bouncer.port} user=postgres dbname=app`, '-c', 'SELECT 1'],
      {reject: false, env: {PGOPTIONS: '-c geqo=off'}},
    )
    expect(r.stdout + r.stderr).toBe('1')
    await bouncer.stop()
    await db.stop()
  })
})
