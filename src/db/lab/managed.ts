// Local estates whose target is a managed service stand-in: a real server that withholds what the service withholds
// and offers what the service offers instead (rds-mariadb.ts). Used by the managed end-to-end tests and the cutover
// benchmark; the source, HAProxy and the writer are those of scenarios.ts.
import {mkdirSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import {PACKAGE_ROOT} from '../../paths.js'
import {MARIADB_LOAD_TABLE} from './load.js'
import {rdsMariadbSetup} from './rds-mariadb.js'
import {pgLabParams, writePlanDir, type Ports, type Scenario} from './scenarios.js'
import {mariadb, psql, startHaproxy, startMariadb, startPgBouncer, startPostgres, type ServerHandle} from './servers.js'
import {startRdsPostgres} from './rds-postgres.js'
import {PG_LOAD_TABLE} from './load.js'
import pg from 'pg'
import {readFileSync, writeFileSync} from 'node:fs'

function shim(root: string): {binDir: string; env: Record<string, string>} {
  const binDir = path.join(root, 'bin')
  mkdirSync(binDir, {recursive: true})
  symlinkSync(path.join(PACKAGE_ROOT, 'bin', 'run.js'), path.join(binDir, 'migrate'))
  return {binDir, env: {PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`}}
}

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
 * MariaDB source (ours, root) and an "RDS for MariaDB" target whose master user `admin` (password in
 * MIGRATE_RDS_PASSWORD) has RDS's privileges only. The master user itself creates the application user and the
 * replication user for the way back, as a team would on RDS. HAProxy in front of the source.
 */
export async function setupRdsMariadb(ports: Ports, opts: RdsLabOptions = {}): Promise<Scenario> {
  const root = mkdtempSync(path.join(tmpdir(), 'migrate-lab-rds-maria-'))
  const servers: ServerHandle[] = []
  const cleanup = async () => {
    for (const s of [...servers].reverse()) await s.stop().catch(() => {})
    rmSync(root, {recursive: true, force: true})
  }
  try {
    const [src, dst] = await Promise.all([
      startMariadb({port: ports.db, serverId: 1}),
      startMariadb({port: ports.db + 1, serverId: 2}),
    ])
    servers.push(src, dst)
    await mariadb(
      src,
      "SET sql_log_bin = 0; CREATE USER app@'127.0.0.1'; GRANT SELECT, INSERT, UPDATE, DELETE ON app.* TO app@'127.0.0.1'; CREATE USER repl@'127.0.0.1'; GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1'; SET sql_log_bin = 1",
    )
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
    const n = opts.seedRows ?? 2000
    await mariadb(
      src,
      `CREATE DATABASE app; USE app; ${MARIADB_LOAD_TABLE}; CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer int NOT NULL, amount decimal(12,2) NOT NULL, note varchar(64)) ENGINE=InnoDB; INSERT INTO orders (customer, amount, note) SELECT seq % 97, (seq * 7 % 1000) / 10.0, md5(seq) FROM seq_1_to_${n}`,
    )
    const proxy = await startHaproxy({
      apiPort: ports.proxy,
      frontends: [{name: 'mariadb', port: ports.proxy + 1, server: {host: '127.0.0.1', port: src.port}}],
    })
    servers.push(proxy)
    const {binDir, env} = shim(root)
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
    const planDir = path.join(root, 'plan')
    writePlanDir(planDir, 'mariadb', 'mariadb-rds', params, {host: '127.0.0.1', port: src.port, name: 'app'})
    const sourceUrl = `mysql://root@127.0.0.1:${src.port}/app`
    const targetUrl = `mysql://admin:rds-master-pw@127.0.0.1:${dst.port}/app`
    return {
      engine: 'mariadb',
      planDir,
      binDir,
      clientUrl: params.app_url,
      sourceUrl,
      targetUrl,
      sourceAdminUrl: sourceUrl,
      targetAdminUrl: `mysql://root@127.0.0.1:${dst.port}/app`,
      params,
      servers,
      env: {...env, MIGRATE_REPL_PASSWORD: '', MIGRATE_RDS_PASSWORD: 'rds-master-pw'},
      stop: cleanup,
    }
  } catch (e) {
    await cleanup()
    throw e
  }
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
export async function setupRdsPostgres(ports: Ports, opts: RdsPgLabOptions = {}): Promise<Scenario> {
  const root = mkdtempSync(path.join(tmpdir(), 'migrate-lab-rds-pg-'))
  const servers: ServerHandle[] = []
  const cleanup = async () => {
    for (const s of [...servers].reverse()) await s.stop().catch(() => {})
    rmSync(root, {recursive: true, force: true})
  }
  try {
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
    const n = opts.seedRows ?? 2000
    await psql(
      src,
      'app',
      [
        'CREATE ROLE app LOGIN',
        "CREATE ROLE repl LOGIN REPLICATION PASSWORD 'repl-pw'",
        PG_LOAD_TABLE,
        'CREATE TABLE orders (id bigserial PRIMARY KEY, customer int NOT NULL, amount numeric(12,2) NOT NULL, note text)',
        'CREATE TABLE audit (at timestamptz DEFAULT now(), what text)',
        'ALTER TABLE audit REPLICA IDENTITY FULL',
        `INSERT INTO orders (customer, amount, note) SELECT i % 97, (i * 7 % 1000) / 10.0, md5(i::text) FROM generate_series(1, ${n}) i`,
        "INSERT INTO audit (what) VALUES ('seeded')",
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app',
        'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app',
        'GRANT SELECT ON ALL TABLES IN SCHEMA public TO repl',
      ].join('; '),
    )
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
    const {binDir, env} = shim(root)
    const sourceUrl = `postgres://postgres@127.0.0.1:${src.port}/app`
    const targetUrl = `postgres://master@127.0.0.1:${dst.port}/app`
    const params = pgLabParams({src, dst, bouncer, sourceUrl, targetUrl, sourceUser: 'repl', targetUser: 'master'})
    const planDir = path.join(root, 'plan')
    writePlanDir(planDir, 'postgres', 'postgres-rds', params, {host: '127.0.0.1', port: src.port, name: 'app'})
    return {
      engine: 'postgres',
      planDir,
      binDir,
      clientUrl: params.app_url,
      sourceUrl,
      targetUrl,
      sourceAdminUrl: sourceUrl,
      targetAdminUrl: `postgres://rdsadmin@127.0.0.1:${dst.port}/app`,
      params,
      servers,
      env: {...env, MIGRATE_PG_REPL_PASSWORD: 'repl-pw'},
      stop: cleanup,
    }
  } catch (e) {
    await cleanup()
    throw e
  }
}
