// Where the team's state lives: `--state URL`, $MIGRATE_STATE, or the plan's settings.state, in that order; none of
// them (or `file:`) is the journal file beside the plan. A postgres:// URL names the server and database only: the
// password comes from PGPASSWORD, ~/.pgpass, or a libpq service file (?service=NAME, or $PGSERVICE), as every libpq
// tool reads them, and a URL is only ever shown redacted. A plan's settings may never carry a password.
import {readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type pg from 'pg'
import {badInput, MigrateError} from '../../errors.js'

export interface StateLocation {
  kind: 'file' | 'postgres'
  /** The URL as given (may hold a password: never print it; use `shown`). */
  url?: string
  /** Redacted, for every message. */
  shown: string
  /** Where it came from, for messages: --state, MIGRATE_STATE, settings.state. */
  from?: string
}

/** The URL with any password replaced by ***. */
export function redactStateUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    for (const k of [...u.searchParams.keys()]) if (/pass/i.test(k)) u.searchParams.set(k, '***')
    return u.toString()
  } catch {
    return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@').replace(/(pass\w*=)[^&\s]*/gi, '$1***')
  }
}

/** Chooses the backend: the flag, then $MIGRATE_STATE, then the plan's settings.state; the journal file otherwise. */
export function stateLocation(flag?: string, settings?: string): StateLocation {
  const env = process.env.MIGRATE_STATE
  const [url, from] =
    flag !== undefined && flag !== ''
      ? [flag, '--state']
      : env
        ? [env, 'MIGRATE_STATE']
        : settings
          ? [settings, 'settings.state']
          : [undefined, undefined]
  if (url === undefined || url === 'file' || url === 'file:') return {kind: 'file', shown: 'the journal file'}
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw badInput(
      `${from} is not a URL: ${redactStateUrl(url)}`,
      'STATE_BAD_URL',
      'Write it as postgres://USER@HOST:PORT/DATABASE (the password from PGPASSWORD, ~/.pgpass or a service file), postgres:///?service=NAME, or file for the journal beside the plan',
    )
  }
  const scheme = u.protocol.replace(/:$/, '')
  if (scheme === 'file') return {kind: 'file', shown: 'the journal file'}
  if (scheme !== 'postgres' && scheme !== 'postgresql')
    throw badInput(
      `${from}: state backend ${scheme}:// is not supported (${redactStateUrl(url)})`,
      'STATE_BAD_URL',
      'Use postgres://USER@HOST:PORT/DATABASE, or file for the journal beside the plan',
    )
  if (from === 'settings.state' && (u.password || [...u.searchParams.keys()].some((k) => /pass/i.test(k))))
    throw badInput(
      `settings.state of the plan holds a password (${redactStateUrl(url)}): a plan is reviewed and kept in git, and credentials never go there`,
      'STATE_PASSWORD_IN_PLAN',
      'Remove the password from settings.state and give it as PGPASSWORD, in ~/.pgpass, or in a libpq service file (?service=NAME)',
    )
  return {kind: 'postgres', url, shown: redactStateUrl(url), from}
}

/** The parameters of one service of a libpq service file (PGSERVICEFILE, ~/.pg_service.conf, PGSYSCONFDIR). */
export function serviceParams(name: string): Record<string, string> {
  const files = [
    process.env.PGSERVICEFILE,
    path.join(os.homedir(), '.pg_service.conf'),
    process.env.PGSYSCONFDIR
      ? path.join(process.env.PGSYSCONFDIR, 'pg_service.conf')
      : '/etc/postgresql-common/pg_service.conf',
  ].filter((f): f is string => !!f)
  for (const f of files) {
    let text: string
    try {
      text = readFileSync(f, 'utf8')
    } catch {
      continue
    }
    let section: string | undefined
    const out: Record<string, string> = {}
    for (const raw of text.split('\n')) {
      const line = raw.trim()
      if (line === '' || line.startsWith('#')) continue
      const head = /^\[(.+)\]$/.exec(line)
      if (head) section = head[1].trim()
      else if (section === name && line.includes('=')) {
        const at = line.indexOf('=')
        out[line.slice(0, at).trim()] = line.slice(at + 1).trim()
      }
    }
    if (Object.keys(out).length > 0) return out
  }
  throw badInput(
    `the PostgreSQL service ${name} is in no service file (looked in ${files.join(', ')})`,
    'STATE_SERVICE_NOT_FOUND',
    'Add a [NAME] section with host, port, dbname and user (and password if you keep it there) to ~/.pg_service.conf, or set PGSERVICEFILE',
  )
}

/** node-postgres client settings for a state URL: the URL, a service file's parameters, then libpq's environment. */
export function clientConfig(url: string): pg.ClientConfig {
  const u = new URL(url)
  const service = u.searchParams.get('service') ?? (u.hostname === '' ? process.env.PGSERVICE : undefined)
  u.searchParams.delete('service')
  const base: pg.ClientConfig = {
    application_name: 'migrate-state',
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  }
  if (service) {
    const p = serviceParams(service)
    Object.assign(base, {
      host: p.host,
      port: p.port ? Number(p.port) : undefined,
      database: p.dbname,
      user: p.user,
      password: p.password,
    })
  }
  // Only what the URL itself names overrides the service (an empty host or path leaves the service's).
  if (u.hostname !== '' || u.pathname.length > 1 || u.username !== '' || !service)
    return {...base, ...stripUndefined(urlParts(u)), ...(u.search ? {connectionString: u.toString()} : {})}
  return base
}

function urlParts(u: URL): pg.ClientConfig {
  return {
    host: u.hostname || u.searchParams.get('host') || undefined,
    port: u.port ? Number(u.port) : undefined,
    database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** A connection error, naming the server (redacted) and what to check; never the password. */
export function stateDbError(e: unknown, shown: string, doing: string): MigrateError {
  const msg = e instanceof Error ? e.message : String(e)
  return new MigrateError(`${doing} on the state backend ${shown} failed: ${msg}`, {
    code: 'STATE_BACKEND_ERROR',
    hint: 'Check that the server is up, the URL (--state / MIGRATE_STATE / settings.state), the password (PGPASSWORD, ~/.pgpass or the service file) and that the user may create tables in the database',
    cause: e,
  })
}
