// A local lab of throwaway database servers for tests, the cutover benchmark and trying a migration locally: real PostgreSQL, MariaDB, Redis, PgBouncer and
// HAProxy processes from Debian's binaries, each in its own temp dir on a port the caller picks from its range
// (PostgreSQL 24300-24399, MariaDB 23300-23399, Redis 63300-63399, PgBouncer 64300-64399, HAProxy 65300-65399).
// All of them lie outside Linux's default range for outgoing ports (32768-60999), so a test's own client connections
// can never already hold one of them.
// Every start returns a handle whose stop() kills the process and removes the dir; stopAll() stops whatever is left.
import {execa} from 'execa'
import {chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import net from 'node:net'
import path from 'node:path'
import {MigrateError} from '../../errors.js'

export const PG_BIN = '/usr/lib/postgresql/15/bin'

export interface ServerHandle {
  kind: 'postgres' | 'mariadb' | 'redis' | 'pgbouncer' | 'haproxy'
  port: number
  dir: string
  /** Connection URL for an administrator (superuser / root), no password. */
  url: string
  stop(): Promise<void>
}

const running = new Set<ServerHandle>()

export async function stopAll(): Promise<void> {
  for (const h of [...running].reverse()) await h.stop().catch(() => {})
}

/** Settings every lab PostgreSQL runs with: fast and unsafe on disk (a lab is thrown away), room for slots. */
export const LAB_PG_SETTINGS: Readonly<Record<string, string>> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_replication_slots: '10',
  max_wal_senders: '10',
  wal_writer_delay: '10ms',
  wal_sender_timeout: '10s',
  max_connections: '60',
  shared_buffers: '32MB',
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `migrate-${prefix}-`))
  chmodSync(dir, 0o755)
  return dir
}

/** The uid and gid of the Debian `postgres` user, who must own a cluster's files (initdb refuses root). */
export function postgresUid(): {uid: number; gid: number} {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
  if (!line) throw new Error('user postgres is missing: apt-get install -y postgresql-15')
  const [, , uid, gid] = line.split(':')
  return {uid: Number(uid), gid: Number(gid)}
}

/** argv run as the `postgres` user when this process is root. */
export function asPostgres(argv: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', ...argv]] : [argv[0], argv.slice(1)]
}

/**
 * Whether 127.0.0.1:port is free: it can be bound exclusively (so nothing holds it, nor a wildcard address covering
 * it) and nothing answers a connection there. A lab server starts only on a port that passed this.
 */
export async function portFree(port: number): Promise<boolean> {
  const bindable = await new Promise<boolean>((resolve) => {
    const srv = net.createServer()
    srv.once('error', () => resolve(false))
    srv.listen({port, host: '127.0.0.1', exclusive: true}, () => srv.close(() => resolve(true)))
  })
  if (!bindable) return false
  const answers = await new Promise<boolean>((resolve) => {
    const c = net.connect({port, host: '127.0.0.1'})
    c.once('connect', () => (c.destroy(), resolve(true)))
    c.once('error', () => resolve(false))
  })
  return !answers
}

/** Refuses a port something else uses: the lab never talks to, or changes, a server it did not start. */
export async function assertPortFree(port: number, kind: string): Promise<void> {
  if (!(await portFree(port)))
    throw new MigrateError(
      `port ${port}, meant for the lab's ${kind}, is already in use on 127.0.0.1: the lab starts its own servers and never uses one it did not start`,
      {
        code: 'LAB_PORT_IN_USE',
        hint: `Stop what listens there (ss -ltnp 'sport = :${port}'), or let the lab pick free ports (migrate db lab up without fixed ports)`,
      },
    )
}

/** The first `count` consecutive ports from `from` (up to `to`) that are all free; refuses when there are none. */
export async function freePorts(count: number, from: number, to: number, kind: string): Promise<number> {
  for (let p = from; p + count - 1 <= to; p++) {
    let ok = true
    for (let i = 0; i < count && ok; i++) ok = await portFree(p + i)
    if (ok) return p
  }
  throw new MigrateError(`no ${count} consecutive free port(s) for the lab's ${kind} in ${from}-${to}`, {
    code: 'LAB_NO_FREE_PORT',
    hint: 'Free some ports in that range, or stop labs you no longer use (migrate db lab down --dir DIR)',
  })
}

/** After a start: the server answering on the port must be the one started in `dir`, else nothing is touched. */
function notOurs(kind: string, port: number, seen: string): MigrateError {
  return new MigrateError(
    `the ${kind} answering on port ${port} is not the one the lab started (${seen}): another process took the port; the lab leaves it alone`,
    {code: 'LAB_FOREIGN_SERVER', hint: 'Run the lab again: it picks ports that are free'},
  )
}

export async function waitPort(port: number, host = '127.0.0.1', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({port, host})
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function killPidFile(pidFile: string, signal: NodeJS.Signals = 'SIGTERM', waitMs = 10_000): Promise<void> {
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
  if (!pid) return
  try {
    process.kill(pid, signal)
  } catch {
    return
  }
  const deadline = Date.now() + waitMs
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}

function track(h: ServerHandle): ServerHandle {
  const stop = h.stop
  let stopped = false
  h.stop = async () => {
    if (stopped) return
    stopped = true
    running.delete(h)
    try {
      await stop()
    } finally {
      rmSync(h.dir, {recursive: true, force: true})
    }
  }
  running.add(h)
  return h
}

export interface PgOptions {
  port: number
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>
  database?: string
}

/** A PostgreSQL 15 cluster with wal_level=logical, fsync off, trust auth on 127.0.0.1. */
export async function startPostgres(opts: PgOptions): Promise<ServerHandle> {
  await assertPortFree(opts.port, 'PostgreSQL')
  const dir = tempDir(`pg${opts.port}`)
  const {uid, gid} = postgresUid()
  chownSync(dir, uid, gid)
  const data = path.join(dir, 'data')
  let [cmd, args] = asPostgres([
    `${PG_BIN}/initdb`,
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '--no-instructions',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ])
  await execa(cmd, args)
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(opts.port),
    unix_socket_directories: dir,
    wal_level: 'logical',
    ...LAB_PG_SETTINGS,
    ...opts.settings,
  }
  const conf =
    Object.entries(settings)
      .map(([k, v]) => `${k} = '${v}'`)
      .join('\n') + '\n'
  writeFileSync(path.join(data, 'postgresql.auto.conf'), conf)
  chownSync(path.join(data, 'postgresql.auto.conf'), uid, gid)
  ;[cmd, args] = asPostgres([`${PG_BIN}/pg_ctl`, '-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start'])
  await execa(cmd, args)
  const h = track({
    kind: 'postgres',
    port: opts.port,
    dir,
    url: `postgres://postgres@127.0.0.1:${opts.port}/${opts.database ?? 'postgres'}`,
    async stop() {
      const [c, a] = asPostgres([`${PG_BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop'])
      await execa(c, a, {reject: false})
    },
  })
  // pg_ctl -w fails when the postmaster cannot bind; still, make sure the port answers with this data directory.
  const seen = await psql(h, 'postgres', 'SHOW data_directory').catch((e) => String(e))
  if (seen !== data) {
    await h.stop()
    throw notOurs('PostgreSQL', opts.port, `data_directory ${seen.slice(0, 80)}`)
  }
  if (opts.database) await psql(h, 'postgres', `CREATE DATABASE ${opts.database}`)
  return h
}

/** Runs SQL with psql as superuser (ON_ERROR_STOP); returns stdout (unaligned, tuples only). */
export async function psql(h: ServerHandle, db: string, sql: string): Promise<string> {
  const r = await execa('psql', [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-At',
    '-h',
    '127.0.0.1',
    '-p',
    String(h.port),
    '-U',
    'postgres',
    '-d',
    db,
    '-c',
    sql,
  ])
  return r.stdout
}

export interface MariaOptions {
  port: number
  serverId: number
  /** Keep running after this process exits (the local lab); stop it from its pid file. */
  detached?: boolean
}

/** A MariaDB server with binlog (ROW), GTID strict mode, log_slave_updates; root@127.0.0.1 without password. */
export async function startMariadb(opts: MariaOptions): Promise<ServerHandle> {
  await assertPortFree(opts.port, 'MariaDB')
  const dir = tempDir(`maria${opts.port}`)
  const data = path.join(dir, 'data')
  const sock = path.join(dir, 'sock')
  // Each server gets its own tmpdir: two bootstraps sharing /tmp can trip over each other's temporary tables.
  const tmp = path.join(dir, 'tmp')
  mkdirSync(tmp)
  await execa(
    'mariadb-install-db',
    [
      '--no-defaults',
      '--user=root',
      `--datadir=${data}`,
      `--tmpdir=${tmp}`,
      '--auth-root-authentication-method=socket',
      '--skip-test-db',
    ],
    {env: {LC_ALL: 'C', TMPDIR: tmp}},
  )
  const child = execa(
    'mariadbd',
    [
      '--no-defaults',
      '--user=root',
      `--datadir=${data}`,
      `--tmpdir=${tmp}`,
      `--socket=${sock}`,
      `--port=${opts.port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${path.join(dir, 'pid')}`,
      `--server-id=${opts.serverId}`,
      `--log-bin=${path.join(data, 'bin')}`,
      '--binlog-format=ROW',
      '--gtid-strict-mode=1',
      '--log-slave-updates=1',
      '--skip-name-resolve',
      '--innodb-flush-log-at-trx-commit=0',
      '--sync-binlog=0',
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--performance-schema=0',
      `--log-error=${path.join(dir, 'err.log')}`,
    ],
    {reject: false, stdio: 'ignore', detached: !!opts.detached, cleanup: !opts.detached},
  )
  child.catch(() => {})
  if (opts.detached) child.unref()
  const deadline = Date.now() + 30_000
  for (;;) {
    const r = await execa('mariadb', ['--no-defaults', '-S', sock, '-u', 'root', '-e', 'SELECT 1'], {reject: false})
    if (r.exitCode === 0) break
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(
        `mariadbd on ${opts.port} did not start: ${existsSync(path.join(dir, 'err.log')) ? readFileSync(path.join(dir, 'err.log'), 'utf8').slice(-800) : ''}`,
      )
    await new Promise((r) => setTimeout(r, 100))
  }
  await execa('mariadb', [
    '--no-defaults',
    '-S',
    sock,
    '-u',
    'root',
    '-e',
    "CREATE USER root@'127.0.0.1'; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES",
  ])
  return track({
    kind: 'mariadb',
    port: opts.port,
    dir,
    url: `mysql://root@127.0.0.1:${opts.port}/`,
    async stop() {
      child.kill('SIGKILL')
      await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
      await child.catch(() => {})
    },
  })
}

/** Runs SQL with the mariadb client as root over the server's socket; returns stdout (batch, no headers). */
export async function mariadb(h: ServerHandle, sql: string): Promise<string> {
  const r = await execa('mariadb', [
    '--no-defaults',
    '-S',
    path.join(h.dir, 'sock'),
    '-u',
    'root',
    '-N',
    '-B',
    '-e',
    sql,
  ])
  return r.stdout
}

/** A Redis 7 server without persistence. */
export async function startRedis(opts: {port: number}): Promise<ServerHandle> {
  await assertPortFree(opts.port, 'Redis')
  const dir = tempDir(`redis${opts.port}`)
  await execa('redis-server', [
    '--port',
    String(opts.port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--repl-diskless-sync-delay',
    '0',
    '--daemonize',
    'yes',
    '--pidfile',
    path.join(dir, 'pid'),
    '--logfile',
    path.join(dir, 'log'),
  ])
  await waitPort(opts.port)
  // --daemonize returns before the child binds: if another server took the port meanwhile, it answers here.
  const seen = await execa('redis-cli', ['-p', String(opts.port), '--raw', 'CONFIG', 'GET', 'dir'], {
    reject: false,
    timeout: 5000,
  })
  if (seen.stdout.split('\n')[1] !== dir) {
    await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
    rmSync(dir, {recursive: true, force: true})
    throw notOurs('Redis', opts.port, `dir ${seen.stdout.split('\n')[1] ?? seen.stderr.trim()}`)
  }
  return track({
    kind: 'redis',
    port: opts.port,
    dir,
    url: `redis://127.0.0.1:${opts.port}`,
    async stop() {
      await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
    },
  })
}

export interface PgBouncerOptions {
  port: number
  /** database name → host:port/dbname it points at. */
  databases: Record<string, {host: string; port: number; dbname: string}>
}

export interface PgBouncerHandle extends ServerHandle {
  /** The ini file `migrate db pgbouncer-repoint --config` edits. */
  config: string
  /** Admin console URL (database pgbouncer). */
  adminUrl: string
}

/**
 * Startup parameters common clients send that PgBouncer does not track itself (it tracks client_encoding, DateStyle,
 * TimeZone, standard_conforming_strings and application_name) and would otherwise refuse the connection for:
 * node-postgres (statement_timeout, lock_timeout, idle_in_transaction_session_timeout, options), pgJDBC
 * (extra_float_digits, search_path via currentSchema), libpq/psycopg (options). PgBouncer drops them, so a
 * deployment sets these per role instead (ALTER ROLE app SET statement_timeout = …).
 */
export const PGBOUNCER_IGNORED_STARTUP_PARAMETERS = [
  'extra_float_digits',
  'options',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'search_path',
]

/** PgBouncer in transaction pooling, trust auth, admin user postgres; runs as user postgres (it refuses root). */
export async function startPgBouncer(opts: PgBouncerOptions): Promise<PgBouncerHandle> {
  await assertPortFree(opts.port, 'PgBouncer')
  const dir = tempDir(`pgb${opts.port}`)
  const {uid, gid} = postgresUid()
  chownSync(dir, uid, gid)
  const config = path.join(dir, 'pgbouncer.ini')
  const dbs = Object.entries(opts.databases).map(([n, d]) => `${n} = host=${d.host} port=${d.port} dbname=${d.dbname}`)
  writeFileSync(path.join(dir, 'users.txt'), '"postgres" ""\n"app" ""\n')
  writeFileSync(
    config,
    [
      '[databases]',
      ...dbs,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${opts.port}`,
      `unix_socket_dir = ${dir}`,
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'users.txt')}`,
      'admin_users = postgres',
      'pool_mode = transaction',
      'max_client_conn = 200',
      'default_pool_size = 10',
      'server_reset_query =',
      'server_check_delay = 0',
      `ignore_startup_parameters = ${PGBOUNCER_IGNORED_STARTUP_PARAMETERS.join(',')}`,
      `pidfile = ${path.join(dir, 'pid')}`,
      `logfile = ${path.join(dir, 'log')}`,
      '',
    ].join('\n'),
  )
  const [cmd, args] = asPostgres(['pgbouncer', '-d', config])
  await execa(cmd, args)
  await waitPort(opts.port)
  // -d may return before the daemon binds: the admin console must report this lab's log file.
  const seen = await execa(
    'psql',
    [
      '-X',
      '-At',
      '-w',
      '-h',
      '127.0.0.1',
      '-p',
      String(opts.port),
      '-U',
      'postgres',
      '-d',
      'pgbouncer',
      '-c',
      'SHOW CONFIG',
    ],
    {reject: false, timeout: 5000, env: {PGCONNECT_TIMEOUT: '3'}},
  )
  if (!seen.stdout.split('\n').some((l) => l.startsWith(`logfile|${path.join(dir, 'log')}`))) {
    await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
    rmSync(dir, {recursive: true, force: true})
    throw notOurs('PgBouncer', opts.port, seen.stderr.trim().slice(0, 80) || 'another logfile')
  }
  const h = track({
    kind: 'pgbouncer',
    port: opts.port,
    dir,
    url: `postgres://postgres@127.0.0.1:${opts.port}/pgbouncer`,
    async stop() {
      await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
    },
  }) as PgBouncerHandle
  h.config = config
  h.adminUrl = `postgres://postgres@127.0.0.1:${opts.port}/pgbouncer`
  return h
}

export interface HaproxyOptions {
  /** The runtime API (stats socket, level admin) listens on 127.0.0.1:apiPort. */
  apiPort: number
  /** Frontend port → backend server address. */
  frontends: {name: string; port: number; server: {host: string; port: number}}[]
}

export interface HaproxyHandle extends ServerHandle {
  /** host:port of the runtime API. */
  api: string
}

/** HAProxy in TCP mode, one backend per frontend with one server named `db`; the runtime API on apiPort. */
export async function startHaproxy(opts: HaproxyOptions): Promise<HaproxyHandle> {
  await assertPortFree(opts.apiPort, 'HAProxy runtime API')
  for (const f of opts.frontends) await assertPortFree(f.port, `HAProxy frontend ${f.name}`)
  const dir = tempDir(`haproxy${opts.apiPort}`)
  const cfg = path.join(dir, 'haproxy.cfg')
  const lines = [
    'global',
    `  stats socket ipv4@127.0.0.1:${opts.apiPort} level admin`,
    `  pidfile ${path.join(dir, 'pid')}`,
    '  daemon',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 5m',
    '  timeout server 5m',
  ]
  for (const f of opts.frontends) {
    lines.push(`frontend ${f.name}`, `  bind 127.0.0.1:${f.port}`, `  default_backend ${f.name}_be`)
    lines.push(`backend ${f.name}_be`, `  server db ${f.server.host}:${f.server.port}`)
  }
  writeFileSync(cfg, lines.join('\n') + '\n')
  await execa('haproxy', ['-f', cfg])
  await waitPort(opts.apiPort)
  const h = track({
    kind: 'haproxy',
    port: opts.apiPort,
    dir,
    url: `tcp://127.0.0.1:${opts.apiPort}`,
    async stop() {
      await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
    },
  }) as HaproxyHandle
  h.api = `127.0.0.1:${opts.apiPort}`
  return h
}
