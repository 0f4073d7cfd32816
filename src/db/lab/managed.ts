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
import {writePlanDir, type Ports, type Scenario} from './scenarios.js'
import {mariadb, startHaproxy, startMariadb, type ServerHandle} from './servers.js'

function shim(root: string): {binDir: string; env: Record<string, string>} {
  const binDir = path.join(root, 'bin')
  mkdirSync(binDir, {recursive: true})
  symlinkSync(path.join(PACKAGE_ROOT, 'bin', 'run.js'), path.join(binDir, 'migrate'))
  return {binDir, env: {PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`}}
}

/** Statements one by one (procedure bodies hold semicolons) as root over the socket, or as the master user over TCP. */
async function run(h: ServerHandle, as: 'root' | 'master', statements: string[]): Promise<void> {
  const c = await mysql.createConnection(as === 'root' ? {socketPath: path.join(h.dir, 'sock'), user: 'root'} : {host: '127.0.0.1', port: h.port, user: 'admin', password: 'rds-master-pw'})
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
    const [src, dst] = await Promise.all([startMariadb({port: ports.db, serverId: 1}), startMariadb({port: ports.db + 1, serverId: 2})])
    servers.push(src, dst)
    await mariadb(src, "SET sql_log_bin = 0; CREATE USER app@'127.0.0.1'; GRANT SELECT, INSERT, UPDATE, DELETE ON app.* TO app@'127.0.0.1'; CREATE USER repl@'127.0.0.1'; GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1'; SET sql_log_bin = 1")
    await run(dst, 'root', [`SET GLOBAL gtid_strict_mode = ${opts.gtidStrictMode ? 1 : 0}`, 'SET sql_log_bin = 0', ...rdsMariadbSetup('admin', '127.0.0.1'), "ALTER USER admin@'127.0.0.1' IDENTIFIED BY 'rds-master-pw'", 'SET sql_log_bin = 1'])
    await run(dst, 'master', ["CREATE USER app@'127.0.0.1'", "GRANT SELECT, INSERT, UPDATE, DELETE ON app.* TO app@'127.0.0.1'", "CREATE USER repl@'127.0.0.1'", "GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1'"])
    const n = opts.seedRows ?? 2000
    await mariadb(src, `CREATE DATABASE app; USE app; ${MARIADB_LOAD_TABLE}; CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer int NOT NULL, amount decimal(12,2) NOT NULL, note varchar(64)) ENGINE=InnoDB; INSERT INTO orders (customer, amount, note) SELECT seq % 97, (seq * 7 % 1000) / 10.0, md5(seq) FROM seq_1_to_${n}`)
    const proxy = await startHaproxy({apiPort: ports.proxy, frontends: [{name: 'mariadb', port: ports.proxy + 1, server: {host: '127.0.0.1', port: src.port}}]})
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
    return {engine: 'mariadb', planDir, binDir, clientUrl: params.app_url, sourceUrl, targetUrl, sourceAdminUrl: sourceUrl, targetAdminUrl: `mysql://root@127.0.0.1:${dst.port}/app`, params, servers, env: {...env, MIGRATE_REPL_PASSWORD: '', MIGRATE_RDS_PASSWORD: 'rds-master-pw'}, stop: cleanup}
  } catch (e) {
    await cleanup()
    throw e
  }
}
