// Local estates whose target is a managed service stand-in: a real server that withholds what the service withholds
// and offers what the service offers instead (rds-mariadb.ts, rds-postgres.ts). Used by the managed end-to-end tests
// and the cutover benchmark; the frame, the source, the proxy and the writer are those of scenarios.ts.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import {rdsMariadbSetup} from './rds-mariadb.js'
import {startRdsPostgres} from './rds-postgres.js'
import {
  labHaproxy,
  labScenario,
  MARIADB_LAB_USERS,
  mariadbSourceSchema,
  type Ports,
  pgLabParams,
  pgSourceSchema,
  type Scenario,
  writePlanDir,
} from './scenarios.js'
import {mariadb, psql, startMariadb, startPgBouncer, startPostgres, type ServerHandle} from './servers.js'

/** Statements one by one (procedure bodies hold semicolons) as root over the socket, or as the master user over TCP. */
async function run(h: ServerHandle, as: 'root' | 'master', statements: string[]): Promise<void> {
  const c = await mysql.createConnection(
    as === 'root'
      ? {socketPath: path.join(h.dir, 'sock'), user: 'root'}
      : {host: '127.0.0.1', port: h.port, user: 'admin', password: 'rds-master-pw'},
  )
  try {
    for (const s of statements) await c.query(s)
  } finally {
    await c.end()
  }
}

export interface RdsLabOptions {
  seedRows?: number
  /** The RDS parameter group's gtid_strict_mode (RDS default 0). */
  gtidStrictMode?: boolean
}

/**
 * Makes `dst` an "RDS for MariaDB": the master user `admin` with RDS's privileges only, who then creates the
 * application user and the replication user for the way back, as a team would on RDS.
 */
async function rdsMariadbTarget(dst: ServerHandle, opts: RdsLabOptions): Promise<void> {
  await run(dst, 'root', [
    `SET GLOBAL gtid_strict_mode = ${opts.gtidStrictMode ? 1 : 0}`,
    'SET sql_log_bin = 0',
    ...rdsMariadbSetup('admin', '127.0.0.1'),
    "ALTER USER admin@'127.0.0.1' IDENTIFIED BY 'rds-master-pw'",
    'SET sql_log_bin = 1',
  ])
  await run(dst, 'master', [
    "CREATE USER app@'127.0.0.1'",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON app.* TO app@'127.0.0.1'",
    "CREATE USER repl@'127.0.0.1'",
    "GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1'",
  ])
}

/**
 * MariaDB source (ours, root) and an "RDS for MariaDB" target whose master user `admin` (password in
 * MIGRATE_RDS_PASSWORD) has RDS's privileges only (rdsMariadbTarget). HAProxy in front of the source.
 */
export function setupRdsMariadb(ports: Ports, opts: RdsLabOptions = {}): Promise<Scenario> {
  return labScenario('rds-maria', undefined, async ({servers, planDir}) => {
    const [src, dst] = await Promise.all([
      startMariadb({port: ports.db, serverId: 1}),
      startMariadb({port: ports.db + 1, serverId: 2}),
    ])
    servers.push(src, dst)
    await mariadb(src, MARIADB_LAB_USERS)
    await rdsMariadbTarget(dst, opts)
    await mariadb(src, mariadbSourceSchema(opts.seedRows ?? 2000))
    servers.push(await labHaproxy(ports, 'mariadb', src))
    const params = {
      source_host: '127.0.0.1',
      source_port: String(src.port),
      admin_user: 'root',
      target_endpoint: '127.0.0.1',
      target_port: String(dst.port),
      master_user: 'admin',
      target_password_env: 'MIGRATE_RDS_PASSWORD',
      database: 'app',
      app_user: 'app',
      repl_user: 'repl',
      haproxy_api: `127.0.0.1:${ports.proxy}`,
      haproxy_server: 'mariadb_be/db',
      app_url: `mysql://app@127.0.0.1:${ports.proxy + 1}/app`,
      smoke_query: 'SELECT @@port',
      smoke_expect: String(dst.port),
    }
    writePlanDir(planDir, 'mariadb', 'mariadb-rds', params, {host: '127.0.0.1', port: src.port, name: 'app'})
    const sourceUrl = `mysql://root@127.0.0.1:${src.port}/app`
    return {
      engine: 'mariadb',
      clientUrl: params.app_url,
      sourceUrl,
      targetUrl: `mysql://admin:rds-master-pw@127.0.0.1:${dst.port}/app`,
      sourceAdminUrl: sourceUrl,
      targetAdminUrl: `mysql://root@127.0.0.1:${dst.port}/app`,
      params,
      env: {MIGRATE_REPL_PASSWORD: '', MIGRATE_RDS_PASSWORD: 'rds-master-pw'},
    }
  })
}

export interface RdsPgLabOptions {
  seedRows?: number
  /** rds.logical_replication of the target's parameter group (RDS default 0; 1 here unless said). */
  logicalReplication?: boolean
}

/**
 * PostgreSQL 15 source (Debian, superuser postgres) and an "RDS PostgreSQL 17" target (rds-postgres.ts) whose
 * master user `master` owns database app. The source asks the replication user `repl` for a password (scram), as it
 * must for a subscription owned by a non-superuser. PgBouncer in front of the source.
 */
export function setupRdsPostgres(ports: Ports, opts: RdsPgLabOptions = {}): Promise<Scenario> {
  return labScenario('rds-pg', undefined, async ({servers, planDir}) => {
    const [src, dst] = await Promise.all([
      startPostgres({port: ports.db, database: 'app'}),
      startRdsPostgres({
        port: ports.db + 1,
        masterUser: 'master',
        masterPassword: 'rds-master-pw',
        databases: ['app'],
        logicalReplication: opts.logicalReplication,
      }),
    ])
    servers.push(src, dst)
    const schema = pgSourceSchema(opts.seedRows ?? 2000, {
      roles: ["CREATE ROLE repl LOGIN REPLICATION PASSWORD 'repl-pw'"],
      grants: ['GRANT SELECT ON ALL TABLES IN SCHEMA public TO repl'],
    })
    await psql(src, 'app', schema)
    // The replication user must give a password: a subscription owned by a non-superuser refuses one that does not.
    const hba = await psql(src, 'postgres', 'SHOW hba_file')
    writeFileSync(hba, `host all repl 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`)
    await psql(src, 'postgres', 'SELECT pg_reload_conf()')
    // The master user creates the source's roles (the schema's GRANTs name them), as a team does on RDS.
    const m = new pg.Client({host: '127.0.0.1', port: dst.port, user: 'master', database: 'app'})
    await m.connect()
    await m.query('CREATE ROLE app LOGIN; CREATE ROLE repl NOLOGIN').finally(() => m.end())
    const bouncer = await startPgBouncer({
      port: ports.proxy,
      databases: {app: {host: '127.0.0.1', port: src.port, dbname: 'app'}},
    })
    servers.push(bouncer)
    const sourceUrl = `postgres://postgres@127.0.0.1:${src.port}/app`
    const targetUrl = `postgres://master@127.0.0.1:${dst.port}/app`
    const params = pgLabParams({src, dst, bouncer, sourceUrl, targetUrl, sourceUser: 'repl', targetUser: 'master'})
    writePlanDir(planDir, 'postgres', 'postgres-rds', params, {host: '127.0.0.1', port: src.port, name: 'app'})
    return {
      engine: 'postgres',
      clientUrl: params.app_url,
      sourceUrl,
      targetUrl,
      sourceAdminUrl: sourceUrl,
      targetAdminUrl: `postgres://rdsadmin@127.0.0.1:${dst.port}/app`,
      params,
      env: {MIGRATE_PG_REPL_PASSWORD: 'repl-pw'},
    }
  })
}
