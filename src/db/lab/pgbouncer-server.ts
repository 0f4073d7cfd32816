// The lab's PgBouncer: the proxy in front of a PostgreSQL lab, its ini file the one `db pgbouncer-repoint` edits.
import {execa} from 'execa'
import {chownSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {assertPortFree, notOurs, waitPort} from './ports.js'
import {asPostgres, postgresUid} from './postgres-server.js'
import {killPidFile, type ServerHandle, tempDir, track} from './server-handle.js'

export interface PgBouncerOptions {
  port: number
  /** database name → host:port/dbname it points at. */
  databases: Record<string, {host: string; port: number; dbname: string}>
  /** transaction (the default: what the cutover labs repoint) or session. */
  poolMode?: 'transaction' | 'session'
  /** Server connections per database and user (default 10). */
  poolSize?: number
  /** Run on a server connection before another client gets it (default: none in transaction mode, DISCARD ALL in session mode). */
  serverResetQuery?: string
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

/** PgBouncer (transaction pooling unless told), trust auth, admin user postgres; runs as user postgres (it refuses root). */
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
      `pool_mode = ${opts.poolMode ?? 'transaction'}`,
      'max_client_conn = 200',
      `default_pool_size = ${opts.poolSize ?? 10}`,
      `server_reset_query = ${opts.serverResetQuery ?? (opts.poolMode === 'session' ? 'DISCARD ALL' : '')}`,
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
