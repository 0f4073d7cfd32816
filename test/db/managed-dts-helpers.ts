// Local estates whose target is reached through DTS: a source we own (MariaDB or Redis), an ApsaraDB RDS / Tair
// stand-in (a MariaDB whose master account has RDS-like privileges only; a Redis whose REPLICAOF, SLAVEOF and CONFIG
// clients cannot run), the DTS API fixture (dts-server.mjs) moving data between them, HAProxy in front of the source.
import {mkdirSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {MARIADB_LOAD_TABLE} from '../../src/db/lab/load.js'
import {RDS_MARIADB_MASTER_PRIVILEGES} from '../../src/db/lab/rds-mariadb.js'
import {writePlanDir, type Scenario} from '../../src/db/lab/scenarios.js'
import {mariadb, startHaproxy, startMariadb, startRedis, type ServerHandle} from '../../src/db/lab/servers.js'
import {startDtsFixture} from '../fixtures/dts-server.mjs'
import {ROOT} from './helpers.js'
import {seedRedisKeys, startElastiCacheNode} from './managed-helpers.js'

export type DtsScenario = Scenario & {fixture: Awaited<ReturnType<typeof startDtsFixture>>}

export const DTS_ENV = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-dts-test',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'dts-secret',
  MIGRATE_APSARA_PASSWORD: 'apsara-pw',
  // The sources and the Tair stand-in have no password: the variables the plans name hold an empty one.
  MIGRATE_SOURCE_PASSWORD: '',
  MIGRATE_DTS_SOURCE_PASSWORD: '',
  MIGRATE_TAIR_PASSWORD: '',
}

/** The two DTS jobs each estate's fixture knows: job-1 for the first run, job-2 for the run after a rollback. */
const DTS_JOBS = {
  'job-1': {instanceId: 'dtsinst-1', region: 'ap-southeast-5'},
  'job-2': {instanceId: 'dtsinst-2', region: 'ap-southeast-5'},
}

/**
 * The scenario around started servers and the fixture: HAProxy (runtime API on base + 2, frontend on base + 3) in
 * front of the source, `migrate` on PATH, the plan. A failure closes the fixture (guarded stops the servers).
 */
async function scenario(
  root: string,
  servers: ServerHandle[],
  engine: 'mariadb' | 'redis',
  template: string,
  fixture: DtsScenario['fixture'],
  x: {src: ServerHandle; dst: ServerHandle; base: number; params: Record<string, string>},
): Promise<DtsScenario> {
  try {
    const proxy = await startHaproxy({
      apiPort: x.base + 2,
      frontends: [{name: engine, port: x.base + 3, server: {host: '127.0.0.1', port: x.src.port}}],
    })
    servers.push(proxy)
    const binDir = path.join(root, 'bin')
    mkdirSync(binDir, {recursive: true})
    symlinkSync(path.join(ROOT, 'bin', 'run.js'), path.join(binDir, 'migrate'))
    const planDir = path.join(root, 'plan')
    const db = {host: '127.0.0.1', port: x.src.port, name: engine === 'redis' ? 'cache' : 'app'}
    writePlanDir(planDir, engine, template, x.params, db)
    return {
      engine,
      planDir,
      binDir,
      clientUrl: x.params.app_url,
      sourceUrl: x.params.source_url,
      targetUrl: engine === 'redis' ? x.dst.url : `mysql://admin:apsara-pw@127.0.0.1:${x.dst.port}/app`,
      sourceAdminUrl: x.params.source_url,
      targetAdminUrl: engine === 'redis' ? x.dst.url : `mysql://root@127.0.0.1:${x.dst.port}/app`,
      params: x.params,
      servers,
      env: {PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`, ...DTS_ENV},
      fixture,
      async stop() {
        await fixture.close()
        for (const s of [...servers].reverse()) await s.stop().catch(() => {})
        rmSync(root, {recursive: true, force: true})
      },
    }
  } catch (e) {
    await fixture.close()
    throw e
  }
}

async function guarded<T>(prefix: string, fn: (root: string, servers: ServerHandle[]) => Promise<T>): Promise<T> {
  const root = mkdtempSync(path.join(tmpdir(), prefix))
  const servers: ServerHandle[] = []
  try {
    return await fn(root, servers)
  } catch (e) {
    for (const s of [...servers].reverse()) await s.stop().catch(() => {})
    rmSync(root, {recursive: true, force: true})
    throw e
  }
}

/** MariaDB source (root, database app) → "ApsaraDB RDS" MariaDB (master account admin) through DTS jobs job-1, job-2. */
export function setupDtsMysql(base: number): Promise<DtsScenario> {
  return guarded('migrate-lab-dts-my-', async (root, servers) => {
    const [src, dst] = await Promise.all([
      startMariadb({port: base, serverId: 1}),
      startMariadb({port: base + 1, serverId: 2}),
    ])
    servers.push(src, dst)
    const app = "CREATE USER app@'127.0.0.1'; GRANT SELECT, INSERT, UPDATE, DELETE ON app.* TO app@'127.0.0.1'"
    await mariadb(src, `SET sql_log_bin = 0; ${app}; SET sql_log_bin = 1`)
    await mariadb(
      dst,
      `SET GLOBAL gtid_domain_id = 2; SET sql_log_bin = 0; CREATE USER admin@'127.0.0.1' IDENTIFIED BY 'apsara-pw'; GRANT ${RDS_MARIADB_MASTER_PRIVILEGES.join(', ')} ON *.* TO admin@'127.0.0.1' WITH GRANT OPTION; ${app}; SET sql_log_bin = 1`,
    )
    await mariadb(
      src,
      `CREATE DATABASE app; USE app; ${MARIADB_LOAD_TABLE}; CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer int NOT NULL, amount decimal(12,2) NOT NULL) ENGINE=InnoDB; INSERT INTO orders (customer, amount) SELECT seq % 97, seq / 10.0 FROM seq_1_to_2000`,
    )
    const fixture = await startDtsFixture({
      jobs: DTS_JOBS,
      targets: {'rm-shop': {engine: 'MariaDB', host: '127.0.0.1', port: dst.port}},
    })
    const params = {
      engine: 'mariadb',
      source_url: `mysql://root@127.0.0.1:${src.port}/app`,
      source_password_env: 'MIGRATE_SOURCE_PASSWORD',
      source_addr: `127.0.0.1:${src.port}`,
      dts_source_user: 'root',
      dts_source_password_env: 'MIGRATE_DTS_SOURCE_PASSWORD',
      target_instance_id: 'rm-shop',
      target_url: `mysql://admin@127.0.0.1:${dst.port}/app`,
      target_password_env: 'MIGRATE_APSARA_PASSWORD',
      dts_target_user: 'admin',
      dts_target_password_env: 'MIGRATE_APSARA_PASSWORD',
      database: 'app',
      app_users: 'app',
      dts_job_id: 'job-1',
      region: 'ap-southeast-5',
      dts_endpoint: fixture.host,
      max_delay: '1s',
      haproxy_api: `127.0.0.1:${base + 2}`,
      haproxy_server: 'mariadb_be/db',
      app_url: `mysql://app@127.0.0.1:${base + 3}/app`,
    }
    return scenario(root, servers, 'mariadb', 'alicloud-dts-mysql', fixture, {src, dst, base, params})
  })
}

/** Redis source → a "Tair" node whose REPLICAOF clients cannot run, through DTS jobs job-1, job-2. */
export function setupDtsRedis(base: number): Promise<DtsScenario> {
  return guarded('migrate-lab-dts-redis-', async (root, servers) => {
    const [src, dst] = await Promise.all([
      startRedis({port: base}),
      startElastiCacheNode(base + 1, 'tair-internal-replicaof'),
    ])
    servers.push(src, dst)
    await seedRedisKeys(src.port)
    const fixture = await startDtsFixture({
      jobs: DTS_JOBS,
      targets: {
        'r-cache': {
          engine: 'Redis',
          host: '127.0.0.1',
          port: dst.port,
          renamed: {replicaof: 'tair-internal-replicaof'},
        },
      },
    })
    const params = {
      source_url: src.url,
      source_password_env: 'MIGRATE_SOURCE_PASSWORD',
      source_addr: `127.0.0.1:${src.port}`,
      dts_source_password_env: 'MIGRATE_SOURCE_PASSWORD',
      target_instance_id: 'r-cache',
      target_url: dst.url,
      target_password_env: 'MIGRATE_TAIR_PASSWORD',
      dts_target_password_env: 'MIGRATE_TAIR_PASSWORD',
      dts_job_id: 'job-1',
      region: 'ap-southeast-5',
      dts_endpoint: fixture.host,
      max_delay: '1s',
      haproxy_api: `127.0.0.1:${base + 2}`,
      haproxy_server: 'redis_be/db',
      app_url: `redis://127.0.0.1:${base + 3}`,
    }
    return scenario(root, servers, 'redis', 'alicloud-dts-redis', fixture, {src, dst, base, params})
  })
}
