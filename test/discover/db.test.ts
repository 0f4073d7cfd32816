// Database introspection against the real servers of this machine: PostgreSQL 127.0.0.1:5432 (trust, user
// postgres), MariaDB 127.0.0.1:3306 (root, no password), Redis 127.0.0.1:6379. Passwords never reach output.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {dbSource, parseDbUrl} from '../../src/providers/db.js'
import {migrate, tempDir} from './helpers.js'

describe('database introspection (real servers)', () => {
  const t = tempDir()
  afterAll(() => t.cleanup())

  it('records engine, exact version, size, role and the settings that matter', async () => {
    const r = await dbSource.discover({urls: ['postgres://postgres@127.0.0.1:5432/postgres', 'mysql://root@127.0.0.1:3306', 'redis://127.0.0.1:6379']}, () => {})
    expect(r.failures).toEqual([])
    const by = Object.fromEntries(r.databases.map((d) => [d.engine, d]))
    expect(by.postgres).toMatchObject({id: 'postgres:127.0.0.1:5432', host: '127.0.0.1', port: 5432, role: 'standalone'})
    expect(by.postgres.version).toMatch(/^\d+\.\d+$/)
    expect(by.postgres.settings).toHaveProperty('wal_level')
    expect(by.postgres.sizeGiB).toBeGreaterThan(0)
    const my = by.mariadb ?? by.mysql
    expect(my.id).toBe('mysql:127.0.0.1:3306')
    expect(my.version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(my.settings).toHaveProperty('binlog_format')
    expect(my.settings).toHaveProperty(my.engine === 'mariadb' ? 'gtid_strict_mode' : 'gtid_mode')
    expect(by.redis.version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(by.redis.settings).toHaveProperty('persistence')
    expect(['primary', 'replica', 'standalone']).toContain(by.redis.role)
  })

  it('a refused endpoint is reported; the others go on; the password stays out', async () => {
    const r = await dbSource.discover({urls: ['redis://127.0.0.1:6379', 'postgres://admin:hunter2-secret@127.0.0.1:1/postgres']}, () => {})
    expect(r.databases).toHaveLength(1)
    expect(r.failures).toHaveLength(1)
    expect(r.failures[0].target).toBe('postgres://admin@127.0.0.1:1/postgres')
    expect(JSON.stringify(r)).not.toContain('hunter2-secret')
  })

  it('URLs are parsed without keeping the password in anything printable', () => {
    const p = parseDbUrl('mysql://app:p%40ss@db.local/shop')
    expect(p).toMatchObject({engine: 'mysql', host: 'db.local', port: 3306, user: 'app', database: 'shop', safe: 'mysql://app@db.local/shop'})
    expect(() => parseDbUrl('ftp://x:y@h')).toThrow(/ftp:\/\/x@h/)
  })

  it('CLI: all endpoints failing is exit 1 with a password-free line; a wrong MariaDB password likewise', async () => {
    const r = await migrate(['discover', 'db', 'mysql://root:wrong-pass-123@127.0.0.1:3306', '--out', path.join(t.dir, 'x/inventory.yaml')])
    expect(r.exitCode).toBe(1)
    expect(r.firstLine).toMatch(/^Error \[DB_UNREACHABLE\]: mysql:\/\/root@127\.0\.0\.1:3306: Access denied for user 'root'/)
    expect(r.stderr + r.stdout).not.toContain('wrong-pass-123')
    const ok = await migrate(['discover', 'db', 'postgres://postgres@127.0.0.1:5432/postgres', 'redis://127.0.0.1:6379', '--out', path.join(t.dir, 'y/inventory.yaml'), '--json'])
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
    expect(env.result.failures).toEqual([expect.objectContaining({target: 'postgres://admin@127.0.0.1:1/postgres', code: 'DB_UNREACHABLE'})])
    expect(env.warnings).toEqual([expect.stringContaining('could not be read (result.failures); exit 7')])
    const allowed = await migrate([...args, '--out', out, '--allow-partial', '--json'])
    expect(allowed.exitCode).toBe(0)
    expect(JSON.parse(allowed.stdout).status).toBe(0)
    expect(r.stdout + r.stderr + j.stdout + allowed.stdout).not.toContain('hunter2-secret')
  })
})
