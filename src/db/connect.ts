// Connections to the databases a migration moves, from URLs that never hold a password in a file: the password
// comes from an environment variable (passwordEnv, or the engine's usual one: PGPASSWORD, MYSQL_PWD, REDISCLI_AUTH).
// Every message that names a server uses redactUrl(), so a password typed into a URL never reaches a log.
import type pg from 'pg'
import type mysql from 'mysql2/promise'
import type {Redis} from 'ioredis'
import {MigrateError, badInput} from '../errors.js'

// Drivers load on first use: a `migrate db` command starts faster, and a cutover step's start is part of a window.
const driver = {
  pg: () => import('pg').then((m) => m.default),
  mysql: () => import('mysql2/promise').then((m) => m.default),
  redis: () => import('ioredis').then((m) => m.Redis),
}

export type Engine = 'postgres' | 'mysql' | 'mariadb' | 'redis'

/** The URL with any password replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
  }
}

export function parseUrl(url: string, what = 'URL'): URL {
  try {
    return new URL(url)
  } catch {
    throw badInput(
      `${what} is not a URL: ${redactUrl(url)}`,
      'DB_BAD_URL',
      'Write it as postgres://user@host:port/db, mysql://user@host:port/db or redis://host:port',
    )
  }
}

export function engineOfUrl(url: string): Engine {
  const p = parseUrl(url).protocol.replace(/:$/, '')
  if (p === 'postgres' || p === 'postgresql') return 'postgres'
  if (p === 'mysql') return 'mysql'
  if (p === 'mariadb') return 'mariadb'
  if (p === 'redis' || p === 'rediss') return 'redis'
  throw badInput(
    `unknown database URL scheme ${p}: in ${redactUrl(url)}`,
    'DB_BAD_URL',
    'Use postgres://, mysql://, mariadb:// or redis://',
  )
}

function passwordFrom(env: string | undefined, fallback: string): string | undefined {
  if (env) {
    const v = process.env[env]
    if (v === undefined)
      throw badInput(
        `environment variable ${env} is not set`,
        'DB_PASSWORD_ENV_MISSING',
        `Export ${env} with the password before running migrate`,
      )
    return v
  }
  return process.env[fallback]
}

/** Wraps a driver error as a MigrateError naming the server, never the password. */
export function dbError(e: unknown, url: string, doing: string): MigrateError {
  const msg = e instanceof Error ? e.message : String(e)
  return new MigrateError(`${doing} on ${redactUrl(url)} failed: ${msg}`, {
    code: 'DB_ERROR',
    hint: 'Check the URL, that the server is up, and the privileges of the user',
    cause: e,
  })
}

export async function pgConnect(
  url: string,
  passwordEnv?: string,
  opts: {timeoutMs?: number; applicationName?: string} = {},
): Promise<pg.Client> {
  const u = parseUrl(url)
  const password = u.password ? decodeURIComponent(u.password) : passwordFrom(passwordEnv, 'PGPASSWORD')
  const hostParam = u.searchParams.get('host')
  const PgClient = (await driver.pg()).Client
  const client = new PgClient({
    host: hostParam ?? (u.hostname || '127.0.0.1'),
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    database: decodeURIComponent(u.pathname.replace(/^\//, '') || 'postgres'),
    password,
    connectionTimeoutMillis: opts.timeoutMs ?? 10_000,
    application_name: opts.applicationName ?? 'migrate',
  })
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (e) {
    throw dbError(e, url, 'connecting')
  }
  return client
}

// Inside withSharedConnections, withPg/withMysql/withRedis keep one connection per server open and reuse it: a
// cutover opens them before the pause, so the window holds queries only, not connection set-ups.
type Closable = {close(): Promise<void>}
let shared: Map<string, Promise<unknown>> | undefined
const closers = new Map<string, Closable>()
// How many times the shared connections were dropped: a connection still being opened when they were (its server
// frozen, say) belongs to a sub-step that was given up, and must not go on to run that sub-step's queries later.
let dropped = 0

export async function withSharedConnections<T>(fn: () => Promise<T>): Promise<T> {
  const outer = shared
  if (!outer) shared = new Map()
  try {
    return await fn()
  } finally {
    if (!outer) {
      const all = [...closers.values()]
      shared = undefined
      closers.clear()
      await Promise.all(all.map((c) => c.close().catch(() => {})))
    }
  }
}

/**
 * Forgets every shared connection (closing them without waiting): after a query was given up on (its bound passed),
 * the next query must not queue behind it on the same connection. Later withPg/withMysql/withRedis open new ones.
 */
export function dropSharedConnections(): void {
  if (!shared) return
  dropped++
  for (const c of closers.values()) void c.close().catch(() => {})
  shared.clear()
  closers.clear()
}

async function useConnection<C, T>(
  key: string,
  open: () => Promise<C>,
  close: (c: C) => Promise<void>,
  fn: (c: C) => Promise<T>,
  wrap: (e: unknown) => unknown,
): Promise<T> {
  if (!shared) {
    const c = await open()
    try {
      return await fn(c)
    } catch (e) {
      throw wrap(e)
    } finally {
      await close(c).catch(() => {})
    }
  }
  const generation = dropped
  let p = shared.get(key) as Promise<C> | undefined
  if (!p) {
    p = open()
    shared.set(key, p)
    const opening = p
    p.then(
      // Only while it is still the shared one: a connection dropped while it was opening is closed by its caller.
      (c) => shared?.get(key) === opening && closers.set(key, {close: () => close(c)}),
      () => shared?.get(key) === opening && shared.delete(key),
    )
  }
  const c = await p
  if (generation !== dropped) {
    await close(c).catch(() => {})
    throw new MigrateError('the connection was opened after its sub-step was given up; nothing was run on it', {
      code: 'CONNECTION_GIVEN_UP',
    })
  }
  try {
    return await fn(c)
  } catch (e) {
    // A connection that saw an error may be in an aborted transaction or broken: never reuse it.
    shared?.delete(key)
    closers.delete(key)
    await close(c).catch(() => {})
    throw wrap(e)
  }
}

/** Runs fn with a connected client and closes it afterwards (or keeps it, inside withSharedConnections). */
export async function withPg<T>(
  url: string,
  passwordEnv: string | undefined,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  return useConnection(
    `pg|${url}|${passwordEnv ?? ''}`,
    () => pgConnect(url, passwordEnv),
    (c) => c.end(),
    fn,
    (e) => (e instanceof MigrateError ? e : dbError(e, url, 'a query')),
  )
}

export async function mysqlConnect(
  url: string,
  passwordEnv?: string,
  opts: {timeoutMs?: number} = {},
): Promise<mysql.Connection> {
  const u = parseUrl(url)
  const password = u.password ? decodeURIComponent(u.password) : passwordFrom(passwordEnv, 'MYSQL_PWD')
  try {
    const c = await (await driver.mysql()).createConnection({
      host: u.hostname || '127.0.0.1',
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username || 'root'),
      password,
      database: decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined,
      connectTimeout: opts.timeoutMs ?? 10_000,
      socketPath: u.searchParams.get('socket') ?? undefined,
      multipleStatements: false,
    })
    c.on('error', () => {})
    return c
  } catch (e) {
    throw dbError(e, url, 'connecting')
  }
}

export async function withMysql<T>(
  url: string,
  passwordEnv: string | undefined,
  fn: (c: mysql.Connection) => Promise<T>,
): Promise<T> {
  return useConnection(
    `my|${url}|${passwordEnv ?? ''}`,
    () => mysqlConnect(url, passwordEnv),
    (c) => c.end(),
    fn,
    (e) => (e instanceof MigrateError ? e : dbError(e, url, 'a query')),
  )
}

/** A row of a MySQL/MariaDB result: columns of any type, narrowed by the caller. */
// biome-ignore lint/suspicious/noExplicitAny: rows of any shape, narrowed by the caller
export type MyRow = Record<string, any>

/** Rows of a query as plain objects. */
export async function myRows(c: mysql.Connection, sql: string, params: unknown[] = []): Promise<MyRow[]> {
  const [rows] = await c.query(sql, params)
  return rows as MyRow[]
}

export async function redisConnect(url: string, passwordEnv?: string, opts: {timeoutMs?: number} = {}): Promise<Redis> {
  const u = parseUrl(url)
  const password = u.password ? decodeURIComponent(u.password) : passwordFrom(passwordEnv, 'REDISCLI_AUTH')
  const RedisClient = await driver.redis()
  const r = new RedisClient({
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password,
    db: Number(u.pathname.replace(/^\//, '') || 0),
    lazyConnect: true,
    connectTimeout: opts.timeoutMs ?? 10_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    // No INFO before the first command: a server busy with a Lua script answers BUSY to it, and the connection
    // would fail with no word about why; the command that follows says BUSY itself.
    enableReadyCheck: false,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  })
  r.on('error', () => {})
  try {
    await r.connect()
  } catch (e) {
    r.disconnect()
    throw dbError(e, url, 'connecting')
  }
  return r
}

export async function withRedis<T>(
  url: string,
  passwordEnv: string | undefined,
  fn: (r: Redis) => Promise<T>,
): Promise<T> {
  return useConnection(
    `redis|${url}|${passwordEnv ?? ''}`,
    () => redisConnect(url, passwordEnv),
    async (r) => void r.disconnect(),
    fn,
    (e) => (e instanceof MigrateError ? e : dbError(e, url, 'a command')),
  )
}

/** `INFO section` parsed into key → value. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1)
  }
  return out
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const t = setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
  })
}

/** Host and port of a URL, for CHANGE MASTER / REPLICAOF / repointing. */
export function hostPort(url: string, defPort: number): {host: string; port: number} {
  const u = parseUrl(url)
  return {host: u.hostname || '127.0.0.1', port: Number(u.port || defPort)}
}

/** A duration flag (500ms, 30s, 5m) in ms; a bad value is the user's to fix. */
export function flagDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim())
  if (!m) throw badInput(`--${flag} ${value} is not a duration`, 'BAD_DURATION', `Write --${flag} as 500ms, 30s or 5m`)
  return Number(m[1]) * {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
}
