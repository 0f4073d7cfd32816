// The lab's PostgreSQL 15 (Debian's binaries): a throwaway cluster in its own temp dir, run as user postgres.
import {execa} from 'execa'
import {chownSync, existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {assertPortFree, notOurs, portInUse} from './ports.js'
import {type ServerHandle, tempDir, track} from './server-handle.js'

export const PG_BIN = '/usr/lib/postgresql/15/bin'

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

export interface PgOptions {
  port: number
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>
  database?: string
}

/**
 * Starts the cluster in `dir`/data with `bin`/pg_ctl (its log in `dir`/log). When it does not start, the dir is
 * removed; one that could not bind its port (another process took it after the check) is LAB_PORT_IN_USE.
 */
export async function pgCtlStart(bin: string, dir: string, port: number, kind: string): Promise<void> {
  const log = path.join(dir, 'log')
  const [cmd, args] = asPostgres([
    path.join(bin, 'pg_ctl'),
    '-D',
    path.join(dir, 'data'),
    '-l',
    log,
    '-w',
    '-t',
    '30',
    'start',
  ])
  const started = await execa(cmd, args, {reject: false})
  if (started.exitCode === 0) return
  const text = existsSync(log) ? readFileSync(log, 'utf8') : ''
  rmSync(dir, {recursive: true, force: true})
  if (/could not bind|address already in use/i.test(text)) throw portInUse(port, kind, 'could not bind')
  throw new Error(`${kind} on ${port} did not start: ${started.stderr}\n${text.slice(-800)}`)
}

/** A PostgreSQL 15 cluster with wal_level=logical, fsync off, trust auth on 127.0.0.1. */
export async function startPostgres(opts: PgOptions): Promise<ServerHandle> {
  await assertPortFree(opts.port, 'PostgreSQL')
  const dir = tempDir(`pg${opts.port}`)
  const {uid, gid} = postgresUid()
  chownSync(dir, uid, gid)
  const data = path.join(dir, 'data')
  const [cmd, args] = asPostgres([
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
  await pgCtlStart(PG_BIN, dir, opts.port, 'PostgreSQL')
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
