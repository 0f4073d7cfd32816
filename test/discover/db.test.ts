// Database introspection against the real servers of this machine: PostgreSQL 127.0.0.1:5432 (trust, user
// postgres), MariaDB 127.0.0.1:3306 (root, no password), Redis 127.0.0.1:6379. Passwords never reach output.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {execa} from 'execa'
import pg from 'pg'
import {parse} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {dbSource, parseDbUrl} from '../../src/providers/db-introspect.js'
import {Inventory} from '../../src/schema/inventory.js'
import {migrate, startRedis, tempDir} from './helpers.js'

describe('database introspection (real servers)', () => {
  const t = tempDir()
  afterAll(() => t.cleanup())

  it('records engine, exact version, size, role and the settings that matter', async () => {
    const r = await dbSource.discover(
      {urls: ['postgres://postgres@127.0.0.1:5432/postgres', 'mysql://root@127.0.0.1:3306', 'redis://127.0.0.1:6379']},
      () => {},
    )
    expect(r.failures).toEqual([])
    const by = Object.fromEntries(r.databases.map((d) => [d.engine, d]))
    expect(by.postgres).toMatchObject({
      id: 'postgres:127.0.0.1:5432',
      host: '127.0.0.1',
      port: 5432,
      role: 'standalone',
    })
    expect(by.postgres.version).toMatch(/^\d+\.\d+$/)
    expect(by.postgres.settings).toHaveProperty('wal_level')
    expect(by.postgres.sizeGiB).toBeGreaterThan(0)
    const my = by.mariadb ?? by.mysql
    // The id names the engine found (mariadb:…), whatever the URL's scheme said (mysql://), as the docs say.
    expect(my.id).toBe(`${my.engine}:127.0.0.1:3306`)
    expect(my.version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(my.settings).toHaveProperty('binlog_format')
    expect(my.settings).toHaveProperty(my.engine === 'mariadb' ? 'gtid_strict_mode' : 'gtid_mode')
    expect(by.redis.version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(by.redis.settings).toHaveProperty('persistence')
    expect(['primary', 'replica', 'standalone']).toContain(by.redis.role)
  })

  it('a refused endpoint is reported; the others go on; the password stays out', async () => {
    const r = await dbSource.discover(
      {urls: ['redis://127.0.0.1:6379', 'postgres://admin:hunter2-secret@127.0.0.1:1/postgres']},
      () => {},
    )
    expect(r.databases).toHaveLength(1)
    expect(r.failures).toHaveLength(1)
    expect(r.failures[0].target).toBe('postgres://admin@127.0.0.1:1/postgres')
    expect(JSON.stringify(r)).not.toContain('hunter2-secret')
  })

  it('URLs are parsed without keeping the password in anything printable', () => {
    const p = parseDbUrl('mysql://app:p%40ss@db.local/shop')
    expect(p).toMatchObject({
      engine: 'mysql',
      host: 'db.local',
      port: 3306,
      user: 'app',
      database: 'shop',
      safe: 'mysql://app@db.local/shop',
    })
    expect(() => parseDbUrl('ftp://x:y@h')).toThrow(/ftp:\/\/x@h/)
  })

  it('PostgreSQL: size and database count are over the same databases (templates left out of both)', async () => {
    const r = await dbSource.discover({urls: ['postgres://postgres@127.0.0.1:5432/postgres']}, () => {})
    const c = new pg.Client({host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres'})
    await c.connect()
    try {
      const q = await c.query(
        'select datname, pg_database_size(datname)::bigint as bytes, datistemplate from pg_database where datallowconn',
      )
      const usable = q.rows.filter((x) => !x.datistemplate)
      expect(q.rows.some((x) => x.datistemplate)).toBe(true) // template1 is there to be left out
      expect(r.databases[0].settings?.databases).toBe(String(usable.length))
      expect(r.databases[0].sizeGiB).toBeCloseTo(usable.reduce((n, x) => n + Number(x.bytes), 0) / 1024 ** 3, 2)
    } finally {
      await c.end()
    }
  })

  it('CLI: a wrong password is an authentication error (exit 64), for MariaDB, PostgreSQL and Redis alike, never the password', async () => {
    const r = await migrate([
      'discover',
      'db',
      'mysql://root:wrong-pass-123@127.0.0.1:3306',
      '--out',
      path.join(t.dir, 'x/inventory.yaml'),
    ])
    expect(r.exitCode).toBe(64)
    expect(r.firstLine).toMatch(
      /^Error \[DB_AUTH\]: mysql:\/\/root@127\.0\.0\.1:3306: authentication failed: Access denied for user 'root'/,
    )
    expect(r.stderr).toContain('PGPASSWORD / MYSQL_PWD / REDISCLI_AUTH')
    expect(r.stderr + r.stdout).not.toContain('wrong-pass-123')
    // This PostgreSQL trusts local clients: a role that does not exist is what it refuses.
    const pgr = await migrate([
      'discover',
      'db',
      'postgres://no_such_role:pw-000@127.0.0.1:5432/postgres',
      '--out',
      path.join(t.dir, 'x/inventory.yaml'),
    ])
    expect(pgr.exitCode).toBe(64)
    expect(pgr.firstLine).toBe(
      'Error [DB_AUTH]: postgres://no_such_role@127.0.0.1:5432/postgres: authentication failed: role "no_such_role" does not exist',
    )
    const redis = await startRedis(['--requirepass', 'right-pass-456'])
    try {
      const wrong = await migrate([
        'discover',
        'db',
        `redis://:wrong-pass-789@127.0.0.1:${redis.port}`,
        '--out',
        path.join(t.dir, 'x/inventory.yaml'),
      ])
      expect(wrong.exitCode).toBe(64)
      expect(wrong.firstLine).toBe(
        `Error [DB_AUTH]: redis://127.0.0.1:${redis.port}: authentication failed: WRONGPASS invalid username-password pair or user is disabled.`,
      )
      const none = await migrate([
        'discover',
        'db',
        `redis://127.0.0.1:${redis.port}`,
        '--out',
        path.join(t.dir, 'x/inventory.yaml'),
      ])
      expect(none.exitCode).toBe(64)
      expect(none.firstLine).toMatch(
        new RegExp(`^Error \\[DB_AUTH\\]: redis://127\\.0\\.0\\.1:${redis.port}: authentication failed: NOAUTH`),
      )
      const ok = await migrate([
        'discover',
        'db',
        `redis://:right-pass-456@127.0.0.1:${redis.port}`,
        '--out',
        path.join(t.dir, 'x/inventory.yaml'),
        '--json',
      ])
      expect(ok.exitCode).toBe(0)
      expect(
        wrong.stderr + none.stderr + ok.stdout + readFileSync(path.join(t.dir, 'x/inventory.yaml'), 'utf8'),
      ).not.toMatch(/wrong-pass-789|right-pass-456/)
      // Every endpoint failing, for different reasons: each reason is shown, and the exit code is the same in either order.
      const both = ['postgres://postgres@127.0.0.1:1/postgres', `redis://:wrong-pass-789@127.0.0.1:${redis.port}`]
      const a = await migrate(['discover', 'db', ...both, '--out', path.join(t.dir, 'x/inventory.yaml')])
      const b = await migrate(['discover', 'db', ...both.reverse(), '--out', path.join(t.dir, 'x/inventory.yaml')])
      expect([a.exitCode, b.exitCode]).toEqual([64, 64])
      expect(a.stderr).toMatch(
        /^Error \[DB_ALL_FAILED\]: every database failed \(2\):\n  postgres:\/\/postgres@127\.0\.0\.1:1\/postgres: .*ECONNREFUSED.*\n  redis:\/\/127\.0\.0\.1:\d+: authentication failed: WRONGPASS/,
      )
    } finally {
      await redis.stop()
    }
  })

  it('CLI: all endpoints unreachable is exit 1', async () => {
    const r = await migrate([
      'discover',
      'db',
      'postgres://postgres@127.0.0.1:1/postgres',
      '--out',
      path.join(t.dir, 'x/inventory.yaml'),
    ])
    expect(r.exitCode).toBe(1)
    expect(r.firstLine).toMatch(/^Error \[DB_UNREACHABLE\]: postgres:\/\/postgres@127\.0\.0\.1:1\/postgres: /)
    const ok = await migrate([
      'discover',
      'db',
      'postgres://postgres@127.0.0.1:5432/postgres',
      'redis://127.0.0.1:6379',
      '--out',
      path.join(t.dir, 'y/inventory.yaml'),
      '--json',
    ])
    expect(ok.exitCode).toBe(0)
    expect(JSON.parse(ok.stdout).result.counts.databases).toBe(2)
  })

  it('CLI: some endpoints failing writes the rest and exits 7 (partial), or 0 with --allow-partial', async () => {
    const args = ['discover', 'db', 'redis://127.0.0.1:6379', 'postgres://admin:hunter2-secret@127.0.0.1:1/postgres']
    const out = path.join(t.dir, 'partial/inventory.yaml')
    const r = await migrate([...args, '--out', out])
    expect(r.exitCode).toBe(7)
    expect(r.stdout).toContain('FAILED   postgres://admin@127.0.0.1:1/postgres')
    expect(r.stderr).toContain('1 target(s) could not be read (the FAILED lines above); exit 7.')
    expect(r.stderr).toContain('--allow-partial')
    expect(readFileSync(out, 'utf8')).toContain('id: redis:127.0.0.1:6379')
    const j = await migrate([...args, '--out', out, '--json'])
    expect(j.exitCode).toBe(7)
    const env = JSON.parse(j.stdout)
    expect(env.status).toBe(7)
    expect(env.result.failures).toEqual([
      expect.objectContaining({target: 'postgres://admin@127.0.0.1:1/postgres', code: 'DB_UNREACHABLE'}),
    ])
    expect(env.warnings).toEqual([expect.stringContaining('could not be read (result.failures); exit 7')])
    const allowed = await migrate([...args, '--out', out, '--allow-partial', '--json'])
    expect(allowed.exitCode).toBe(0)
    expect(JSON.parse(allowed.stdout).status).toBe(0)
    expect(r.stdout + r.stderr + j.stdout + allowed.stdout).not.toContain('hunter2-secret')
  })

  describe('over several runs (own Redis on a spare port)', () => {
    let redis: {port: number; stop: () => Promise<void>}
    beforeAll(async () => {
      redis = await startRedis()
    })
    afterAll(async () => {
      await redis?.stop()
    })

    it('a --db database survives a run without --db; discover db attaches to the server a file run wrote; the diff names persistence none → aof', async () => {
      const csv = path.join(t.dir, 'servers.csv')
      writeFileSync(csv, 'name,ip,vcpus,memory_mib,app\nvm,127.0.0.1,2,4096,shop\n')
      const out = path.join(t.dir, 'runs/inventory.yaml')
      const url = `redis://127.0.0.1:${redis.port}`
      const id = `redis:127.0.0.1:${redis.port}`
      const first = await migrate(['discover', 'file', csv, '--db', url, '--out', out])
      expect(first.exitCode).toBe(0)
      const again = await migrate(['discover', 'file', csv, '--out', out])
      expect(again.exitCode).toBe(0)
      expect(again.stdout).not.toContain(`-db ${id}`)
      expect(again.stdout).toContain('databases 0 added, 0 removed, 0 changed, 1 unchanged')
      let inv = Inventory.parse(parse(readFileSync(out, 'utf8')))
      expect(inv.databases).toEqual([
        expect.objectContaining({
          id,
          serverId: 'vm',
          application: 'shop',
          role: 'standalone',
          settings: expect.objectContaining({persistence: 'none'}),
        }),
      ])
      // Another inventory: the file run first, then discover db alone attaches to its server.
      const out2 = path.join(t.dir, 'runs2/inventory.yaml')
      await migrate(['discover', 'file', csv, '--out', out2])
      expect((await migrate(['discover', 'db', url, '--out', out2])).exitCode).toBe(0)
      expect(Inventory.parse(parse(readFileSync(out2, 'utf8'))).databases[0]).toMatchObject({
        id,
        serverId: 'vm',
        application: 'shop',
      })
      // Persistence turned on at the server: the next run says exactly that, in text and in --json.
      await execa('redis-cli', ['-p', String(redis.port), 'CONFIG', 'SET', 'appendonly', 'yes'])
      const changed = await migrate(['discover', 'db', url, '--out', out, '--dry-run'])
      expect(changed.stdout).toContain('databases 0 added, 0 removed, 1 changed, 0 unchanged')
      expect(changed.stdout).toMatch(new RegExp(`~db ${id}: .*settings\\.persistence none → aof`))
      const j = JSON.parse((await migrate(['discover', 'db', url, '--out', out, '--json'])).stdout).result.diff
      expect(j.databases.changed).toEqual([
        {
          id,
          changes: expect.arrayContaining([
            {field: 'settings.aof_enabled', from: '0', to: '1'},
            {field: 'settings.persistence', from: 'none', to: 'aof'},
          ]),
        },
      ])
      inv = Inventory.parse(parse(readFileSync(out, 'utf8')))
      expect(inv.databases[0].settings?.persistence).toBe('aof')
    })
  })
})
