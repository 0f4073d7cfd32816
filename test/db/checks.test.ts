// The pieces the templates are made of, against real servers: pre-flight findings, verification, the write block,
// PgBouncer and HAProxy repointing, the database health checks, and that a password in a URL never reaches output.
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {execa} from 'execa'
import path from 'node:path'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import pg from 'pg'
import {
  mariadb,
  psql,
  startHaproxy,
  startMariadb,
  startPgBouncer,
  startPostgres,
  startRedis,
  stopAll,
  type HaproxyHandle,
  type PgBouncerHandle,
  type ServerHandle,
} from '../../src/db/lab/servers.js'
import {pgBlockWrites, pgPreflight, pgUnblockWrites, pgVerify} from '../../src/db/postgres.js'
import {mariadbPreflight} from '../../src/db/mariadb.js'
import {redisPreflight, redisReplicate} from '../../src/db/redis.js'
import {pgbouncerPause, pgbouncerRepoint, pgbouncerResume, rewriteDatabaseEntry} from '../../src/db/pgbouncer.js'
import {haproxyRepoint, haproxyServerAddr} from '../../src/db/haproxy.js'
import {redactUrl} from '../../src/db/connect.js'
import {pgCutover, redisCutover} from '../../src/db/cutover.js'
import {runRedisCheck, runReplicationLagCheck, runSqlCheck} from '../../src/health/database.js'
import {freePort, onFreePort, onFreePorts} from '../helpers/ports.js'
import {ROOT} from './helpers.js'

let pgA: ServerHandle
let _pgB: ServerHandle
let maria: ServerHandle
let _r1: ServerHandle
let _r2: ServerHandle
let bouncer: PgBouncerHandle
let proxy: HaproxyHandle
const A = (db = 'app') => `postgres://postgres@127.0.0.1:${P.pgA}/${db}`

/** The servers' ports, reserved when they start (test/helpers/ports.ts); nothing listens on `dead`. */
const P = {pgA: 0, pgB: 0, maria: 0, r1: 0, r2: 0, bouncer: 0, api: 0, front: 0, dead: 0}

beforeAll(async () => {
  ;[pgA, _pgB, maria, _r1, _r2] = await Promise.all([
    onFreePort((port) => startPostgres({port, database: 'app'})),
    onFreePort((port) => startPostgres({port, database: 'app', settings: {wal_level: 'replica'}})),
    onFreePort((port) => startMariadb({port, serverId: 1})),
    onFreePort((port) => startRedis({port})),
    onFreePort((port) => startRedis({port})),
  ])
  Object.assign(P, {pgA: pgA.port, pgB: _pgB.port, maria: maria.port, r1: _r1.port, r2: _r2.port})
  bouncer = await onFreePort((port) =>
    startPgBouncer({port, databases: {app: {host: '127.0.0.1', port: P.pgA, dbname: 'app'}}}),
  )
  proxy = await onFreePorts(2, (api) =>
    startHaproxy({apiPort: api, frontends: [{name: 'redis', port: api + 1, server: {host: '127.0.0.1', port: P.r1}}]}),
  )
  Object.assign(P, {bouncer: bouncer.port, api: proxy.port, front: proxy.port + 1, dead: await freePort()})
  await psql(
    pgA,
    'app',
    [
      'CREATE ROLE app LOGIN',
      'CREATE TABLE orders (id serial PRIMARY KEY, amount int)',
      'CREATE TABLE nopk (a int, b text)',
      'INSERT INTO orders (amount) SELECT i FROM generate_series(1, 100) i',
      'GRANT SELECT, INSERT ON orders TO app',
      'GRANT USAGE ON SEQUENCE orders_id_seq TO app',
      "SELECT lo_from_bytea(0, 'x')",
    ].join('; '),
  )
  await psql(pgA, 'app', "SELECT pg_create_logical_replication_slot('forgotten', 'pgoutput')")
  await psql(pgA, 'postgres', 'CREATE DATABASE copy')
  await execa('pg_dump', ['-d', A(), '-f', path.join(pgA.dir, 'dump.sql')])
  await execa('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', A('copy'), '-f', path.join(pgA.dir, 'dump.sql')])
})

afterAll(async () => {
  await stopAll()
})

describe('pre-flight', () => {
  test('PostgreSQL: no replica identity, large objects and leftover slots are found; wal_level too', async () => {
    const r = await pgPreflight(A(), `postgres://postgres@127.0.0.1:${P.pgB}/app`)
    const codes = r.findings.map((f) => `${f.severity}:${f.code}`)
    expect(codes).toEqual(
      expect.arrayContaining([
        'blocker:PG_NO_REPLICA_IDENTITY',
        'blocker:PG_LARGE_OBJECTS',
        'warning:PG_SLOT_LEFTOVER',
        'info:PG_SEQUENCES',
        'blocker:PG_TARGET_WAL_LEVEL',
        'blocker:PG_TARGET_ROLES_MISSING',
      ]),
    )
    expect(r.findings.find((f) => f.code === 'PG_TARGET_ROLES_MISSING')?.objects).toEqual(['app'])
    expect(r.findings.find((f) => f.code === 'PG_NO_REPLICA_IDENTITY')?.objects).toEqual(['nopk'])
    expect(r.findings.find((f) => f.code === 'PG_SLOT_LEFTOVER')?.objects).toEqual(['forgotten'])
    expect(codes).not.toContain('blocker:PG_WAL_LEVEL')
    const b = await pgPreflight(`postgres://postgres@127.0.0.1:${P.pgB}/app`, undefined)
    expect(b.findings.map((f) => f.code)).toContain('PG_WAL_LEVEL')
  })

  test('PostgreSQL: what would certainly fail inside the pause is a blocker (superuser or missing app role); the cutover refuses it before pausing', async () => {
    const r = await pgPreflight(A(), undefined, {roles: ['postgres', 'ghost', 'app']})
    expect(
      r.findings
        .filter((f) => f.severity === 'blocker' && f.code.startsWith('PG_ROLE'))
        .map((f) => [f.code, f.objects]),
    ).toEqual([
      ['PG_ROLE_MISSING', ['ghost']],
      ['PG_ROLE_SUPERUSER', ['postgres']],
    ])
    expect(r.findings.find((f) => f.code === 'PG_WINDOW_ESTIMATE')?.message).toMatch(
      /^window estimate: about \d+\.\d s, at most 5\.0 s/,
    )
    // The cutover's own pre-check sees the target's wal_level=replica (the reverse slot would fail) before any pause.
    const lines: string[] = []
    const dir = mkdtempSync(path.join(tmpdir(), 'migrate-pre-'))
    const err = await pgCutover(
      {
        source: A(),
        target: `postgres://postgres@127.0.0.1:${P.pgB}/app`,
        publication: 'p',
        subscription: 'forgotten',
        sourceConninfo: '',
        reversePublication: 'rp',
        reverseSubscription: 'rs',
        targetConninfo: '',
        roles: ['app'],
        sourceState: path.join(dir, 's.json'),
        targetState: path.join(dir, 't.json'),
        pgbouncer: {
          admin: bouncer.adminUrl,
          config: bouncer.config,
          database: 'app',
          source: {host: '127.0.0.1', port: P.pgA},
          target: {host: '127.0.0.1', port: P.pgB},
        },
        verify: 'counts',
        timeoutMs: 5000,
      },
      (l) => lines.push(l),
    ).catch((e) => e)
    expect(err).toMatchObject({
      code: 'CUTOVER_REFUSED',
      message: expect.stringContaining('PG_TARGET_WAL_LEVEL'),
      data: {refusedBeforePause: true},
    })
    expect(lines.some((l) => l.includes('pause-clients'))).toBe(false)
  })

  test('the CLI exits 1 with the findings in the --json error envelope', async () => {
    const r = await execa('node', [path.join(ROOT, 'bin/run.js'), 'db', 'preflight', '--source', A(), '--json'], {
      reject: false,
    })
    expect(r.exitCode).toBe(1)
    const body = JSON.parse(r.stdout)
    expect(body.error.code).toBe('DB_PREFLIGHT_BLOCKED')
    expect(body.error.data.blockers).toBe(2)
  })

  test('MariaDB: a healthy source passes; a target with the same server_id is a blocker', async () => {
    const ok = await mariadbPreflight(`mysql://root@127.0.0.1:${P.maria}/`, undefined)
    expect(ok.blockers).toBe(0)
    const same = await mariadbPreflight(`mysql://root@127.0.0.1:${P.maria}/`, `mysql://root@127.0.0.1:${P.maria}/`)
    expect(same.findings.map((f) => f.code)).toContain('MARIADB_SAME_SERVER_ID')
    await mariadb(maria, 'SET GLOBAL binlog_format = STATEMENT')
    const stmt = await mariadbPreflight(`mysql://root@127.0.0.1:${P.maria}/`, undefined)
    await mariadb(maria, 'SET GLOBAL binlog_format = ROW')
    expect(stmt.findings.filter((f) => f.severity === 'blocker').map((f) => f.code)).toEqual(['MARIADB_BINLOG_FORMAT'])
  })

  test('Redis: version and a non-empty target are reported', async () => {
    await execa('redis-cli', ['-p', String(P.r2), 'SET', 'stray', '1'])
    const r = await redisPreflight(`redis://127.0.0.1:${P.r1}`, `redis://127.0.0.1:${P.r2}`)
    expect(r.version).toMatch(/^7\./)
    expect(r.blockers).toBe(0)
    expect(r.findings.map((f) => f.code)).toContain('REDIS_TARGET_NOT_EMPTY')
  })
})

describe('verify', () => {
  test('equal databases pass; one changed row is a checksum mismatch, a missing row a count mismatch', async () => {
    expect((await pgVerify(A(), A('copy'))).ok).toBe(true)
    await psql(pgA, 'copy', 'UPDATE orders SET amount = amount + 1 WHERE id = 7')
    const changed = await pgVerify(A(), A('copy'))
    expect(changed.tables.filter((t) => !t.ok).map((t) => [t.table, t.sourceRows, t.targetRows])).toEqual([
      ['public.orders', 100, 100],
    ])
    expect((await pgVerify(A(), A('copy'), {counts: true})).ok).toBe(true)
    await psql(pgA, 'copy', 'DELETE FROM orders WHERE id = 8')
    const r = await execa(
      'node',
      [path.join(ROOT, 'bin/run.js'), 'db', 'verify', '--source', A(), '--target', A('copy'), '--counts-only'],
      {reject: false},
    )
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toContain('MISMATCH public.orders: 100 / 99 rows')
    expect(r.stderr).toContain('DB_VERIFY_MISMATCH')
  })
})

describe('write block', () => {
  test('REVOKE + NOLOGIN + sessions ended; unblock restores exactly what was there', async () => {
    const state = path.join(mkdtempSync(path.join(tmpdir(), 'migrate-block-')), 'block.json')
    const app = new pg.Client({connectionString: `postgres://app@127.0.0.1:${P.pgA}/app`})
    app.on('error', () => {})
    await app.connect()
    await app.query('INSERT INTO orders (amount) VALUES (1)')
    const b = await pgBlockWrites(A(), ['app'], state)
    expect(b).toMatchObject({revoked: 1, terminated: 1})
    await expect(app.query('SELECT 1')).rejects.toThrow()
    const again = new pg.Client({connectionString: `postgres://app@127.0.0.1:${P.pgA}/app`})
    again.on('error', () => {})
    await expect(again.connect()).rejects.toThrow(/not permitted to log in/)
    // Even a session that switches off read-only defaults cannot write: privileges are gone.
    await psql(pgA, 'app', 'ALTER ROLE app LOGIN')
    const sneaky = new pg.Client({connectionString: `postgres://app@127.0.0.1:${P.pgA}/app`})
    sneaky.on('error', () => {})
    await sneaky.connect()
    await expect(
      sneaky.query('SET default_transaction_read_only = off; INSERT INTO orders (amount) VALUES (2)'),
    ).rejects.toThrow(/permission denied/)
    await sneaky.end()
    await psql(pgA, 'app', 'ALTER ROLE app NOLOGIN')
    expect(JSON.parse(readFileSync(state, 'utf8')).roles[0].grants).toEqual([{table: 'orders', privileges: ['INSERT']}])
    const u = await pgUnblockWrites(A(), state)
    expect(u).toEqual({granted: 1, roles: ['app']})
    const back = new pg.Client({connectionString: `postgres://app@127.0.0.1:${P.pgA}/app`})
    back.on('error', () => {})
    await back.connect()
    await back.query('INSERT INTO orders (amount) VALUES (3)')
    await expect(back.query('DELETE FROM orders')).rejects.toThrow(/permission denied/)
    await back.end()
  })
})

describe('repointing', () => {
  test('PgBouncer: the [databases] entry is rewritten, RELOAD moves new queries; PAUSE/RESUME are idempotent', async () => {
    expect(
      rewriteDatabaseEntry('[databases]\napp = host=a port=1 dbname=app pool_size=5\n[pgbouncer]\nx = 1\n', 'app', {
        host: 'b',
        port: 2,
      }).text,
    ).toBe('[databases]\napp = host=b port=2 dbname=app pool_size=5\n[pgbouncer]\nx = 1\n')
    expect(() => rewriteDatabaseEntry('[databases]\nother = host=a\n', 'app', {host: 'b', port: 2})).toThrow(
      /no entry app/,
    )
    const port = async () => {
      const c = new pg.Client({connectionString: `postgres://postgres@127.0.0.1:${P.bouncer}/app`})
      await c.connect()
      const p = (await c.query('SELECT inet_server_port() AS p')).rows[0].p
      await c.end()
      return p
    }
    expect(await port()).toBe(P.pgA)
    await pgbouncerPause(bouncer.adminUrl, 'app')
    await pgbouncerPause(bouncer.adminUrl, 'app')
    await pgbouncerRepoint(bouncer.config, bouncer.adminUrl, 'app', {host: '127.0.0.1', port: P.pgB})
    await pgbouncerResume(bouncer.adminUrl, 'app')
    await pgbouncerResume(bouncer.adminUrl, 'app')
    expect(await port()).toBe(P.pgB)
  })

  test('HAProxy: set server addr through the runtime API, old sessions ended; bad names are errors', async () => {
    expect(await haproxyServerAddr(proxy.api, 'redis_be/db')).toEqual({host: '127.0.0.1', port: P.r1})
    const before = await execa('redis-cli', ['-p', String(P.front), 'INFO', 'server'])
    expect(before.stdout).toContain(`tcp_port:${P.r1}`)
    await haproxyRepoint(proxy.api, 'redis_be/db', {host: '127.0.0.1', port: P.r2})
    expect((await execa('redis-cli', ['-p', String(P.front), 'INFO', 'server'])).stdout).toContain(`tcp_port:${P.r2}`)
    await expect(haproxyRepoint(proxy.api, 'redis_be/nope', {host: '127.0.0.1', port: 1})).rejects.toThrow(
      /no server redis_be\/nope|No such server/i,
    )
    await haproxyRepoint(proxy.api, 'redis_be/db', {host: '127.0.0.1', port: P.r1})
  })
})

describe('health checks', () => {
  const signal = new AbortController().signal
  test('sql: expect and max; a refused connection is a failed result, not an exception', async () => {
    expect(
      (
        await runSqlCheck(
          {
            type: 'sql',
            engine: 'postgres',
            url: A(),
            query: 'SELECT count(*) FROM orders',
            expect: undefined,
            max: 1000,
          },
          signal,
        )
      ).status,
    ).toBe('passed')
    const f = await runSqlCheck({type: 'sql', engine: 'postgres', url: A(), query: 'SELECT 41', expect: '42'}, signal)
    expect(f).toMatchObject({status: 'failed', message: expect.stringContaining('returned 41, expected 42')})
    expect(
      (
        await runSqlCheck(
          {
            type: 'sql',
            engine: 'mariadb',
            url: `mysql://root@127.0.0.1:${P.maria}/`,
            query: 'SELECT @@binlog_format',
            expect: 'ROW',
          },
          signal,
        )
      ).status,
    ).toBe('passed')
    const down = await runSqlCheck(
      {type: 'sql', engine: 'postgres', url: `postgres://x:hunter2@127.0.0.1:${P.dead}/app`, query: 'SELECT 1'},
      signal,
    )
    expect(down.status).toBe('failed')
    expect(down.message).not.toContain('hunter2')
  })

  test('redis and replication-lag: roles, link up and offsets', async () => {
    expect(
      (await runRedisCheck({type: 'redis', url: `redis://127.0.0.1:${P.r1}`, expect: 'pong'}, signal)).status,
    ).toBe('passed')
    expect(
      (
        await runReplicationLagCheck(
          {
            type: 'replication-lag',
            engine: 'redis',
            source: `redis://127.0.0.1:${P.r1}`,
            target: `redis://127.0.0.1:${P.r2}`,
            maxLag: 0,
          },
          signal,
        )
      ).message,
    ).toContain('not a replica')
    await redisReplicate(`redis://127.0.0.1:${P.r1}`, `redis://127.0.0.1:${P.r2}`)
    let link = await runRedisCheck({type: 'redis', url: `redis://127.0.0.1:${P.r2}`, expect: 'link-up'}, signal)
    for (let i = 0; i < 100 && link.status !== 'passed'; i++) {
      await new Promise((r) => setTimeout(r, 50))
      link = await runRedisCheck({type: 'redis', url: `redis://127.0.0.1:${P.r2}`, expect: 'link-up'}, signal)
    }
    expect(link.status).toBe('passed')
    expect(
      (await runRedisCheck({type: 'redis', url: `redis://127.0.0.1:${P.r2}`, expect: 'master'}, signal)).message,
    ).toContain('is a replica, expected master')
    const pgLag = await runReplicationLagCheck(
      {type: 'replication-lag', engine: 'postgres', source: A(), target: A('copy'), slot: 'forgotten', maxLag: 0},
      signal,
    )
    expect(pgLag).toMatchObject({status: 'failed', message: expect.stringContaining('not in use')})
    const my = await runReplicationLagCheck(
      {
        type: 'replication-lag',
        engine: 'mariadb',
        source: `mysql://root@127.0.0.1:${P.maria}/`,
        target: `mysql://root@127.0.0.1:${P.maria}/`,
        maxLag: 0,
      },
      signal,
    )
    expect(my.message).toContain('is not a replica')
  })
})

test('a cutover sub-step that fails undoes the earlier ones in reverse: the source takes writes again', async () => {
  // r2 replicates r1 since the health-check tests; the repoint names a server HAProxy does not have.
  const lines: string[] = []
  // The pre-check finds HAProxy's server; then, before the repoint, the name is switched to one HAProxy lacks.
  const haproxy = {
    api: proxy.api,
    server: 'redis_be/db',
    source: {host: '127.0.0.1', port: P.r1},
    target: {host: '127.0.0.1', port: P.r2},
  }
  const opts = {
    source: `redis://127.0.0.1:${P.r1}`,
    target: `redis://127.0.0.1:${P.r2}`,
    haproxy,
    pauseMs: 30_000,
    verify: 'counts' as const,
    timeoutMs: 10_000,
    before: (step: string) => void (step === 'repoint-clients' && (haproxy.server = 'redis_be/missing')),
  }
  const err = await redisCutover(opts, (l) => lines.push(l)).catch((e) => e)
  expect(err).toMatchObject({
    code: 'HAPROXY_NO_SERVER',
    message: expect.stringContaining('cutover stopped at repoint-clients'),
  })
  expect(lines.filter((l) => l.startsWith('undo'))).toEqual(['undo promote-target', 'undo pause-source-writes'])
  const w = await execa('redis-cli', ['-p', String(P.r1), 'SET', 'after-undo', '1'], {timeout: 5000})
  expect(w.stdout).toBe('OK')
  expect((await execa('redis-cli', ['-p', String(P.r2), 'INFO', 'replication'])).stdout).toContain('role:slave')
  expect(await haproxyServerAddr(proxy.api, 'redis_be/db')).toEqual({host: '127.0.0.1', port: P.r1})
})

test('a password in a URL never reaches output', async () => {
  expect(redactUrl('postgres://u:s3cret@h:5432/db')).toBe('postgres://u:***@h:5432/db')
  const r = await execa(
    'node',
    [
      path.join(ROOT, 'bin/run.js'),
      'db',
      'verify',
      '--source',
      `postgres://u:s3cret@127.0.0.1:${P.dead}/x`,
      '--target',
      `postgres://u:s3cret@127.0.0.1:${P.dead}/y`,
      '--json',
    ],
    {reject: false},
  )
  expect(r.exitCode).toBe(1)
  expect(r.stdout + r.stderr).not.toContain('s3cret')
  expect(JSON.parse(r.stdout).error.message).toContain('u:***@127.0.0.1')
})
