// Ready-made local estates for one database engine each: a real source and target server, the proxy clients go
// through (PgBouncer or HAProxy), a seeded schema with an application user, and a plan directory whose one
// application runs the shipped template with every parameter filled in. Used by the end-to-end tests, the
// cutover benchmark, and docs/local-migration.md for a person to try a migration on one machine.
import {inventoryDigest} from '../../inventory/digest.js'
import {Inventory} from '../../schema/inventory.js'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {stringify} from 'yaml'
import {PACKAGE_ROOT} from '../../paths.js'
import {MARIADB_LOAD_TABLE, PG_LOAD_TABLE} from './load.js'
import {freePorts, releasePorts, takeBlock} from './ports.js'
import {
  mariadb,
  psql,
  startHaproxy,
  startMariadb,
  startPgBouncer,
  startPostgres,
  startRedis,
  type ServerHandle,
} from './servers.js'
import {execa} from 'execa'

export interface Scenario {
  engine: 'postgres' | 'mariadb' | 'redis'
  /** The plan directory (plan.yaml, inventory.yaml; the journal goes here). */
  planDir: string
  /** A directory holding a `migrate` executable, to put first on PATH so templates find the CLI. */
  binDir: string
  /** Where the application's clients connect (the proxy). */
  clientUrl: string
  sourceUrl: string
  targetUrl: string
  /** Admin URLs for reading results (lost writes) directly. */
  sourceAdminUrl: string
  targetAdminUrl: string
  params: Record<string, string>
  servers: ServerHandle[]
  /** Environment for running `migrate` (PATH with binDir first). */
  env: Record<string, string>
  stop(): Promise<void>
}

export interface Ports {
  /** Source port; the target uses port + 1. */
  db: number
  /** PgBouncer port (PostgreSQL) or HAProxy runtime API port (frontend = api + 1). */
  proxy: number
}

/** Where each engine's lab servers may listen (outside Linux's range for outgoing ports, 32768-60999). */
export const PORT_RANGES = {
  postgres: {db: [24300, 24399], proxy: [64300, 64399], proxyPorts: 1},
  mariadb: {db: [23300, 23399], proxy: [65300, 65399], proxyPorts: 2},
  redis: {db: [63300, 63399], proxy: [65300, 65399], proxyPorts: 2},
} as const

/**
 * Ports for a lab of `engine` that are free right now and reserved for this process (ports.ts): `prefer` when all of
 * its ports are, else the first free ones of the engine's ranges. Each server checks its port again when it starts,
 * and refuses a taken one.
 */
export async function freeLabPorts(engine: keyof typeof PORT_RANGES, prefer?: Ports): Promise<Ports> {
  const r = PORT_RANGES[engine]
  if (prefer && (await takeBlock(prefer.db, 2))) {
    if (await takeBlock(prefer.proxy, r.proxyPorts)) return prefer
    releasePorts(prefer.db, 2)
  }
  const db = await freePorts(2, r.db[0], r.db[1], `${engine} source and target`)
  const proxy = await freePorts(r.proxyPorts, r.proxy[0], r.proxy[1], engine === 'postgres' ? 'PgBouncer' : 'HAProxy')
  return {db, proxy}
}

/** Writes plan.yaml + inventory.yaml for one application `app` in wave 1 running `template` with `params`. */
export function writePlanDir(
  dir: string,
  engine: string,
  template: string,
  params: Record<string, string>,
  db: {host: string; port: number; name: string},
): void {
  mkdirSync(dir, {recursive: true})
  const inventory = {
    apiVersion: 'migrate/v1',
    kind: 'Inventory',
    metadata: {name: 'local-lab'},
    applications: [{name: 'app', owner: 'team-app', criticality: 'high', environment: 'prod'}],
    databases: [{id: 'db-app', name: db.name, engine, host: db.host, port: db.port, sizeGiB: 1, application: 'app'}],
  }
  const invText = stringify(inventory)
  writeFileSync(path.join(dir, 'inventory.yaml'), invText)
  const plan = {
    apiVersion: 'migrate/v1',
    kind: 'Plan',
    metadata: {
      name: 'local-lab',
      inventory: 'inventory.yaml',
      inventoryDigest: inventoryDigest(Inventory.parse(inventory)),
    },
    settings: {startDate: '2026-01-05'},
    waves: [
      {
        number: 1,
        name: 'wave 1',
        applications: ['app'],
        replicationStart: '2026-01-05T00:00:00Z',
        test: {start: '2026-01-10T00:00:00Z', end: '2026-01-12T00:00:00Z'},
        cutover: {start: '2026-01-17T01:00:00Z', end: '2026-01-17T05:00:00Z'},
        servers: 0,
        databases: 1,
        dataGiB: 1,
        risk: 'low',
        confidence: 4,
      },
    ],
    applications: [
      {
        name: 'app',
        wave: 1,
        moveGroup: 'app',
        strategy: 'replatform',
        template,
        target: {cloud: 'aws', region: 'ap-southeast-3'},
        params,
      },
    ],
  }
  writeFileSync(path.join(dir, 'plan.yaml'), stringify(plan))
}

function shim(root: string): {binDir: string; env: Record<string, string>} {
  const binDir = path.join(root, 'bin')
  mkdirSync(binDir, {recursive: true})
  symlinkSync(path.join(PACKAGE_ROOT, 'bin', 'run.js'), path.join(binDir, 'migrate'))
  return {binDir, env: {PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`}}
}

async function cleanup(root: string, servers: ServerHandle[]): Promise<void> {
  for (const s of [...servers].reverse()) await s.stop().catch(() => {})
  rmSync(root, {recursive: true, force: true})
}

/** What a setup's own part returns; labScenario adds the plan and bin dirs, the servers, PATH and stop(). */
export type ScenarioParts = Omit<Scenario, 'planDir' | 'binDir' | 'servers' | 'stop'>

/**
 * The frame of every lab scenario (here and managed.ts): in `root` (a new temp dir `migrate-lab-<name>-…` when not
 * given), `build` starts the servers, pushing each on `servers` once started, and writes the plan into `planDir`.
 * When anything fails, every server started is stopped and the root removed.
 */
export async function labScenario(
  name: string,
  root: string | undefined,
  build: (lab: {servers: ServerHandle[]; planDir: string}) => Promise<ScenarioParts>,
): Promise<Scenario> {
  const dir = root ?? mkdtempSync(path.join(tmpdir(), `migrate-lab-${name}-`))
  const servers: ServerHandle[] = []
  const stop = () => cleanup(dir, servers)
  try {
    const planDir = path.join(dir, 'plan')
    const parts = await build({servers, planDir})
    const {binDir, env} = shim(dir)
    return {...parts, planDir, binDir, servers, env: {...env, ...parts.env}, stop}
  } catch (e) {
    await stop()
    throw e
  }
}

/** HAProxy in front of `src`: its runtime API on ports.proxy, the frontend `name` on ports.proxy + 1. */
export function labHaproxy(ports: Ports, name: string, src: ServerHandle): Promise<ServerHandle> {
  return startHaproxy({
    apiPort: ports.proxy,
    frontends: [{name, port: ports.proxy + 1, server: {host: '127.0.0.1', port: src.port}}],
  })
}

/** A PostgreSQL lab source's schema: the writer's table, `n` orders, a no-PK audit (REPLICA IDENTITY FULL), for app. */
export function pgSourceSchema(n: number, more: {roles?: string[]; grants?: string[]} = {}): string {
  return [
    'CREATE ROLE app LOGIN',
    ...(more.roles ?? []),
    PG_LOAD_TABLE,
    'CREATE TABLE orders (id bigserial PRIMARY KEY, customer int NOT NULL, amount numeric(12,2) NOT NULL, note text)',
    'CREATE TABLE audit (at timestamptz DEFAULT now(), what text)',
    'ALTER TABLE audit REPLICA IDENTITY FULL',
    `INSERT INTO orders (customer, amount, note) SELECT i % 97, (i * 7 % 1000) / 10.0, md5(i::text) FROM generate_series(1, ${n}) i`,
    "INSERT INTO audit (what) VALUES ('seeded')",
    'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app',
    'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app',
    ...(more.grants ?? []),
  ].join('; ')
}

/** The users app (reads and writes app.*) and repl (replication) of a MariaDB lab server, kept out of its binlog. */
export const MARIADB_LAB_USERS =
  "SET sql_log_bin = 0; CREATE USER app@'127.0.0.1'; GRANT SELECT, INSERT, UPDATE, DELETE ON app.* TO app@'127.0.0.1'; CREATE USER repl@'127.0.0.1'; GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1'; SET sql_log_bin = 1"

/** A MariaDB lab source's database app: the writer's table and `n` orders. */
export function mariadbSourceSchema(n: number): string {
  return `CREATE DATABASE app; USE app; ${MARIADB_LOAD_TABLE}; CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer int NOT NULL, amount decimal(12,2) NOT NULL, note varchar(64)) ENGINE=InnoDB; INSERT INTO orders (customer, amount, note) SELECT seq % 97, (seq * 7 % 1000) / 10.0, md5(seq) FROM seq_1_to_${n}`
}

/** The parameters a PostgreSQL template (self-managed or managed) takes for a lab's database `app` behind PgBouncer. */
export function pgLabParams(o: {
  src: ServerHandle
  dst: ServerHandle
  bouncer: ServerHandle
  sourceUrl: string
  targetUrl: string
  sourceUser: string
  targetUser: string
}): Record<string, string> {
  const {src, dst, bouncer} = o
  return {
    source_url: o.sourceUrl,
    target_url: o.targetUrl,
    source_conninfo: `host=127.0.0.1 port=${src.port} dbname=app user=${o.sourceUser}`,
    target_conninfo: `host=127.0.0.1 port=${dst.port} dbname=app user=${o.targetUser}`,
    app_role: 'app',
    pgbouncer_admin: bouncer.url,
    pgbouncer_config: path.join(bouncer.dir, 'pgbouncer.ini'),
    pgbouncer_database: 'app',
    pgbouncer_source: `127.0.0.1:${src.port}/app`,
    pgbouncer_target: `127.0.0.1:${dst.port}/app`,
    app_url: `postgres://app@127.0.0.1:${bouncer.port}/app`,
    smoke_query: 'SELECT inet_server_port()',
    smoke_expect: String(dst.port),
  }
}

/** PostgreSQL 15 source and target, PgBouncer in front, table `writes` (bigserial) + seeded `orders` and a no-PK `audit` (REPLICA IDENTITY FULL). */
export function setupPostgres(ports: Ports, opts: {seedRows?: number; root?: string} = {}): Promise<Scenario> {
  return labScenario('pg', opts.root, async ({servers, planDir}) => {
    const src = await startPostgres({port: ports.db, database: 'app'})
    servers.push(src)
    const dst = await startPostgres({port: ports.db + 1, database: 'app'})
    servers.push(dst)
    await psql(dst, 'postgres', 'CREATE ROLE app LOGIN')
    await psql(src, 'app', pgSourceSchema(opts.seedRows ?? 2000))
    const bouncer = await startPgBouncer({
      port: ports.proxy,
      databases: {app: {host: '127.0.0.1', port: src.port, dbname: 'app'}},
    })
    servers.push(bouncer)
    const sourceUrl = `postgres://postgres@127.0.0.1:${src.port}/app`
    const targetUrl = `postgres://postgres@127.0.0.1:${dst.port}/app`
    const params = pgLabParams({
      src,
      dst,
      bouncer,
      sourceUrl,
      targetUrl,
      sourceUser: 'postgres',
      targetUser: 'postgres',
    })
    writePlanDir(planDir, 'postgres', 'postgres-logical-replication', params, {
      host: '127.0.0.1',
      port: src.port,
      name: 'app',
    })
    return {
      engine: 'postgres',
      clientUrl: params.app_url,
      sourceUrl,
      targetUrl,
      sourceAdminUrl: sourceUrl,
      targetAdminUrl: targetUrl,
      params,
      env: {},
    }
  })
}

/** MariaDB source (server_id 1) and target (2) with binlog + GTID, HAProxy in front; users app and repl on both. */
export function setupMariadb(
  ports: Ports,
  opts: {seedRows?: number; root?: string; detached?: boolean} = {},
): Promise<Scenario> {
  return labScenario('maria', opts.root, async ({servers, planDir}) => {
    const [src, dst] = await Promise.all([
      startMariadb({port: ports.db, serverId: 1, detached: opts.detached}),
      startMariadb({port: ports.db + 1, serverId: 2, detached: opts.detached}),
    ])
    servers.push(src, dst)
    await mariadb(src, MARIADB_LAB_USERS)
    await mariadb(dst, MARIADB_LAB_USERS)
    await mariadb(src, mariadbSourceSchema(opts.seedRows ?? 2000))
    servers.push(await labHaproxy(ports, 'mariadb', src))
    const sourceUrl = `mysql://root@127.0.0.1:${src.port}/app`
    const targetUrl = `mysql://root@127.0.0.1:${dst.port}/app`
    const params = {
      source_host: '127.0.0.1',
      source_port: String(src.port),
      target_host: '127.0.0.1',
      target_port: String(dst.port),
      admin_user: 'root',
      database: 'app',
      app_user: 'app',
      repl_user: 'repl',
      haproxy_api: `127.0.0.1:${ports.proxy}`,
      haproxy_server: 'mariadb_be/db',
      app_url: `mysql://app@127.0.0.1:${ports.proxy + 1}/app`,
      smoke_query: 'SELECT @@port',
      smoke_expect: String(dst.port),
    }
    writePlanDir(planDir, 'mariadb', 'mariadb-gtid-replication', params, {
      host: '127.0.0.1',
      port: src.port,
      name: 'app',
    })
    return {
      engine: 'mariadb',
      clientUrl: params.app_url,
      sourceUrl,
      targetUrl,
      sourceAdminUrl: sourceUrl,
      targetAdminUrl: targetUrl,
      params,
      env: {MIGRATE_REPL_PASSWORD: ''},
    }
  })
}

/** Redis source and target, HAProxy in front, seeded keys. */
export function setupRedis(ports: Ports, opts: {seedKeys?: number; root?: string} = {}): Promise<Scenario> {
  return labScenario('redis', opts.root, async ({servers, planDir}) => {
    const [src, dst] = await Promise.all([startRedis({port: ports.db}), startRedis({port: ports.db + 1})])
    servers.push(src, dst)
    const n = opts.seedKeys ?? 2000
    await execa('redis-cli', [
      '-p',
      String(src.port),
      'EVAL',
      `for i=1,${n} do redis.call('SET', 'seed:'..i, i) end return 1`,
      '0',
    ])
    servers.push(await labHaproxy(ports, 'redis', src))
    const sourceUrl = `redis://127.0.0.1:${src.port}`
    const targetUrl = `redis://127.0.0.1:${dst.port}`
    const params = {
      source_url: sourceUrl,
      target_url: targetUrl,
      haproxy_api: `127.0.0.1:${ports.proxy}`,
      haproxy_server: 'redis_be/db',
      proxy_host: '127.0.0.1',
      proxy_port: String(ports.proxy + 1),
      smoke_expect: 'master',
    }
    writePlanDir(planDir, 'redis', 'redis-replicaof', params, {host: '127.0.0.1', port: src.port, name: 'cache'})
    return {
      engine: 'redis',
      clientUrl: `redis://127.0.0.1:${ports.proxy + 1}`,
      sourceUrl,
      targetUrl,
      sourceAdminUrl: sourceUrl,
      targetAdminUrl: targetUrl,
      params,
      env: {},
    }
  })
}
