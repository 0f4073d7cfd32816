// Database introspection as a discovery source: connect read-only with the real drivers (pg, mysql2, ioredis) and
// record engine, exact version, size, replication role and the settings that matter for migration (wal_level,
// binlog_format, GTID mode, Redis persistence). Drivers load lazily. A password in a URL never reaches output,
// the inventory or an error: every message names the endpoint as engine://user@host:port only.
import type {Database} from '../schema/inventory.js'
import {badInput} from '../errors.js'
import {everyTargetFailed, type TargetFailure} from '../discover/failures.js'
import {generatedDbId} from '../discover/scope.js'
import {emptyResult, type DiscoverySource, type SourceResult} from '../discover/types.js'
import {mapWithLimit} from '../map-limit.js'

export interface DbOptions {
  urls: string[]
  timeoutMs?: number
}

export interface DbTarget {
  engine: 'postgres' | 'mysql' | 'redis'
  host: string
  port: number
  user?: string
  database?: string
  /** The URL without its password: safe to print. */
  safe: string
  url: string
  password?: string
}

const SCHEMES: Record<string, {engine: DbTarget['engine']; port: number}> = {
  'postgres:': {engine: 'postgres', port: 5432},
  'postgresql:': {engine: 'postgres', port: 5432},
  'mysql:': {engine: 'mysql', port: 3306},
  'mariadb:': {engine: 'mysql', port: 3306},
  'redis:': {engine: 'redis', port: 6379},
  'rediss:': {engine: 'redis', port: 6379},
}

/** Parses a database URL; the error never repeats the password. */
export function parseDbUrl(text: string): DbTarget {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    throw badInput(
      `--db ${redactUrlText(text)}: not a URL`,
      'BAD_DB_URL',
      'Write e.g. postgres://user@host:5432/db, mysql://root@host:3306, redis://host:6379 (put passwords in PGPASSWORD/… or ~/.pgpass rather than in the URL)',
    )
  }
  const scheme = SCHEMES[u.protocol]
  if (!scheme)
    throw badInput(
      `--db ${redact(u)}: unknown scheme ${u.protocol}`,
      'BAD_DB_URL',
      'Use postgres://, mysql://, mariadb:// or redis://',
    )
  const port = u.port ? Number(u.port) : scheme.port
  const user = u.username ? decodeURIComponent(u.username) : undefined
  const database = u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined
  return {
    engine: scheme.engine,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    user,
    database,
    safe: redact(u),
    url: text,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  }
}

function redact(u: URL): string {
  const c = new URL(u.href)
  c.password = ''
  c.search = ''
  return c.href.replace(/\/$/, '')
}

/** Best-effort redaction of a string that is not a parseable URL. */
export function redactUrlText(text: string): string {
  return text.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@')
}

export const dbTaskName = (url: string): string => {
  try {
    return `db ${parseDbUrl(url).safe}`
  } catch {
    return `db ${redactUrlText(url)}`
  }
}

export const dbSource: DiscoverySource<DbOptions> = {
  kind: 'db',
  tasks: (o) => o.urls.map(dbTaskName),
  async discover(o, emit) {
    const targets = o.urls.map(parseDbUrl)
    const result: SourceResult = emptyResult(
      'db',
      targets.map((t) => t.safe),
    )
    // The database is attached to its server (serverId) when the inventory is built: to a server of this run or
    // of the inventory already at --out.
    const found = await mapWithLimit(targets, 4, async (t): Promise<Database | TargetFailure> => {
      const task = `db ${t.safe}`
      emit({task, status: 'start'})
      try {
        const db = await introspect(t, o.timeoutMs ?? 5000)
        emit({task, status: 'done', message: `${db.engine} ${db.version}, ${db.role}, ${db.sizeGiB} GiB`})
        return db
      } catch (error) {
        const f = classifyDbFailure(error, t)
        emit({task, status: 'failed', message: f.message})
        return f
      }
    })
    // In the order the endpoints were given, whichever answered first.
    const failures = found.filter((x): x is TargetFailure => 'target' in x)
    result.failures.push(...failures.map(({target, code, message}) => ({target, code, message})))
    for (const d of found) if (!('target' in d)) result.databases.push(d)
    if (result.databases.length === 0 && failures.length > 0) throw everyTargetFailed('db', failures, DB_HINTS)
    return result
  },
}

const DB_HINTS: Record<string, string> = {
  DB_AUTH:
    'Check the user and password: in the URL, or PGPASSWORD / MYSQL_PWD / REDISCLI_AUTH; and that the server lets this user in from here (pg_hba.conf, GRANTs, Redis ACL)',
  DB_UNREACHABLE:
    'Check the host and port, and that the server accepts connections from this machine (listen_addresses, bind-address, bind, firewalls)',
}

/** What went wrong reading one endpoint, without the password: an authentication failure is the user's to fix. */
export function classifyDbFailure(error: unknown, t: DbTarget): TargetFailure {
  const e = error as {message?: string; code?: string; errno?: number}
  const message = scrub(e?.message ?? String(error), t)
  const auth =
    e?.code === '28P01' ||
    e?.code === '28000' ||
    e?.code === 'ER_ACCESS_DENIED_ERROR' ||
    e?.code === 'ER_DBACCESS_DENIED_ERROR' ||
    e?.errno === 1045 ||
    /^(WRONGPASS|NOAUTH)\b/.test(message)
  if (auth) return {target: t.safe, code: 'DB_AUTH', message: `authentication failed: ${message}`, badInput: true}
  // ioredis' own words when the server hung up before answering, which says nothing of why: say what usually is.
  if (t.engine === 'redis' && message === 'Connection is closed.') {
    return {
      target: t.safe,
      code: 'DB_UNREACHABLE',
      message:
        'the server closed the connection without answering (a Redis in protected mode refuses clients from other hosts until it has a password; a TLS port needs rediss://)',
      badInput: false,
    }
  }
  return {target: t.safe, code: 'DB_UNREACHABLE', message, badInput: false}
}

function scrub(message: string, t: DbTarget): string {
  let m = message.split('\n')[0]
  if (t.password) m = m.split(t.password).join('***')
  return m.replace(t.url, t.safe)
}

const GiB = 1024 ** 3
const gib = (bytes: number) => Math.round((bytes / GiB) * 1000) / 1000

async function introspect(t: DbTarget, timeoutMs: number): Promise<Database> {
  const facts =
    t.engine === 'postgres'
      ? await postgres(t, timeoutMs)
      : t.engine === 'mysql'
        ? await mysql(t, timeoutMs)
        : await redis(t, timeoutMs)
  // The id names the engine found, not the URL's scheme: a mysql:// URL that reaches MariaDB is mariadb:host:port.
  return {
    id: generatedDbId(facts.engine, t.host, t.port),
    host: t.host,
    port: t.port,
    managed: false,
    tags: {},
    ...facts,
    source: {kind: 'db', ref: t.safe},
  }
}

type Facts = Pick<Database, 'name' | 'engine' | 'version' | 'sizeGiB' | 'role' | 'settings'>

async function postgres(t: DbTarget, timeoutMs: number): Promise<Facts> {
  const pg = (await import('pg')).default
  const client = new pg.Client({
    host: t.host,
    port: t.port,
    user: t.user ?? process.env.PGUSER ?? 'postgres',
    database: t.database ?? 'postgres',
    ...(t.password !== undefined ? {password: t.password} : {}),
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs * 2,
    options: '-c default_transaction_read_only=on',
    application_name: 'migrate-discover',
  })
  client.on('error', () => {})
  await client.connect()
  try {
    const r =
      await client.query(`select current_setting('server_version') as version, pg_is_in_recovery() as in_recovery,
      current_setting('wal_level') as wal_level, current_setting('max_wal_senders') as max_wal_senders,
      current_setting('max_replication_slots') as max_replication_slots, current_setting('server_encoding') as encoding,
      (select coalesce(sum(pg_database_size(datname)), 0) from pg_database where datallowconn and not datistemplate) as size,
      (select count(*) from pg_stat_replication) as replicas,
      (select count(*) from pg_database where datallowconn and not datistemplate) as databases`)
    // Size and count are over the same databases: those a client can use (templates and datallowconn=false left out).
    const row = r.rows[0]
    const role = row.in_recovery ? 'replica' : Number(row.replicas) > 0 ? 'primary' : 'standalone'
    return {
      name: `postgres ${t.host}:${t.port}`,
      engine: 'postgres',
      version: String(row.version).split(' ')[0],
      sizeGiB: gib(Number(row.size)),
      role,
      settings: {
        wal_level: String(row.wal_level),
        max_wal_senders: String(row.max_wal_senders),
        max_replication_slots: String(row.max_replication_slots),
        server_encoding: String(row.encoding),
        databases: String(row.databases),
        replicas: String(row.replicas),
      },
    }
  } finally {
    await client.end().catch(() => {})
  }
}

async function mysql(t: DbTarget, timeoutMs: number): Promise<Facts> {
  const mysql2 = (await import('mysql2/promise')).default
  const conn = await mysql2.createConnection({
    host: t.host,
    port: t.port,
    user: t.user ?? 'root',
    ...(t.password !== undefined ? {password: t.password} : {}),
    ...(t.database ? {database: t.database} : {}),
    connectTimeout: timeoutMs,
  })
  try {
    await conn.query('SET SESSION TRANSACTION READ ONLY')
    const [rows] = await conn.query(
      'SELECT VERSION() AS version, @@version_comment AS comment, @@log_bin AS log_bin, @@binlog_format AS binlog_format, @@read_only AS read_only, @@server_id AS server_id',
    )
    const row = (rows as Record<string, unknown>[])[0]
    const version = String(row.version)
    const mariadb = /mariadb/i.test(version) || /mariadb/i.test(String(row.comment))
    const settings: Record<string, string> = {
      log_bin: String(row.log_bin),
      binlog_format: String(row.binlog_format),
      read_only: String(row.read_only),
      server_id: String(row.server_id),
    }
    if (mariadb) {
      const [g] = await conn.query(
        'SELECT @@gtid_strict_mode AS strict, @@gtid_current_pos AS pos, @@gtid_domain_id AS domain',
      )
      const gr = (g as Record<string, unknown>[])[0]
      settings.gtid_strict_mode = String(gr.strict)
      settings.gtid_domain_id = String(gr.domain)
      settings.gtid_current_pos = String(gr.pos ?? '')
    } else {
      const [g] = await conn.query('SELECT @@gtid_mode AS mode, @@enforce_gtid_consistency AS enforce')
      const gr = (g as Record<string, unknown>[])[0]
      settings.gtid_mode = String(gr.mode)
      settings.enforce_gtid_consistency = String(gr.enforce)
    }
    const [sz] = await conn.query(
      "SELECT COALESCE(SUM(data_length + index_length), 0) AS size FROM information_schema.tables WHERE table_schema NOT IN ('information_schema','performance_schema','sys')",
    )
    const size = Number((sz as Record<string, unknown>[])[0].size)
    let replica = false
    for (const q of ['SHOW REPLICA STATUS', 'SHOW SLAVE STATUS']) {
      try {
        const [st] = await conn.query(q)
        replica = (st as unknown[]).length > 0
        break
      } catch {
        // Older servers know only one of the two spellings; a missing privilege reads as "not a replica".
      }
    }
    let hasReplicas = false
    try {
      const [pl] = await conn.query(
        "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE command IN ('Binlog Dump', 'Binlog Dump GTID')",
      )
      hasReplicas = Number((pl as Record<string, unknown>[])[0].n) > 0
    } catch {
      // Without PROCESS privilege only our own sessions are visible.
    }
    const engine = mariadb ? 'mariadb' : 'mysql'
    return {
      name: `${engine} ${t.host}:${t.port}`,
      engine,
      version: version.split('-')[0],
      sizeGiB: gib(size),
      role: replica ? 'replica' : hasReplicas ? 'primary' : 'standalone',
      settings,
    }
  } finally {
    await conn.end().catch(() => {})
  }
}

async function redis(t: DbTarget, timeoutMs: number): Promise<Facts> {
  const {Redis} = await import('ioredis')
  const r = new Redis(t.url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectionName: 'migrate-discover',
  })
  // ioredis rejects connect() with "Connection is closed." when AUTH fails; the server's reply comes as an event.
  let reply: Error | undefined
  r.on('error', (e: Error) => {
    if (e.name === 'ReplyError') reply ??= e
  })
  try {
    await r.connect().catch((error: unknown) => {
      throw reply ?? error
    })
    const info = parseRedisInfo(await r.info())
    const settings: Record<string, string> = {
      aof_enabled: info.aof_enabled ?? '0',
      rdb_last_bgsave_status: info.rdb_last_bgsave_status ?? '',
      maxmemory_policy: info.maxmemory_policy ?? '',
      connected_slaves: info.connected_slaves ?? '0',
    }
    try {
      const save = (await r.call('CONFIG', 'GET', 'save')) as string[]
      if (Array.isArray(save) && save.length === 2) settings.save = save[1]
    } catch {
      // CONFIG may be renamed or denied by ACL; persistence then shows only as aof_enabled.
    }
    settings.persistence =
      settings.aof_enabled === '1' ? 'aof' : settings.save ? 'rdb' : settings.save === '' ? 'none' : 'rdb?'
    const role =
      info.role === 'slave' || info.role === 'replica'
        ? 'replica'
        : Number(info.connected_slaves ?? 0) > 0
          ? 'primary'
          : 'standalone'
    const version = info.valkey_version ?? info.redis_version ?? ''
    return {
      name: `redis ${t.host}:${t.port}`,
      engine: 'redis',
      version,
      sizeGiB: gib(Number(info.used_memory ?? 0)),
      role,
      settings,
    }
  } finally {
    r.disconnect()
  }
}

export function parseRedisInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim()
  }
  return out
}
