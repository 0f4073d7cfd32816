// Repointing PostgreSQL clients with PgBouncer: PAUSE (clients wait, they see no error), change the database entry
// in pgbouncer.ini, RELOAD, RESUME. The admin console speaks the simple query protocol, which pg uses for
// parameterless queries.
import {readFileSync} from 'node:fs'
import {MigrateError, badInput} from '../errors.js'
import {writeFileAtomic} from '../io/atomic.js'
import type pg from 'pg'
import {pgConnect, redactUrl, withPg} from './connect.js'

async function admin(adminUrl: string, passwordEnv: string | undefined, sql: string, timeoutMs: number): Promise<void> {
  try {
    await withPg(adminUrl, passwordEnv, (c) => adminQuery(c, sql, timeoutMs))
  } catch (e) {
    const cause = e instanceof MigrateError && e.code === 'DB_ERROR' && e.cause !== undefined ? e.cause : e
    const msg = cause instanceof Error ? cause.message : String(cause)
    // Idempotent on purpose: the executor may re-run a step, and a rollback may RESUME what is not paused.
    if (/already (suspended|paused)|not paused|is not paused/i.test(msg)) return
    if (cause instanceof MigrateError) {
      if (cause.code === 'PGBOUNCER_TIMEOUT' && /^PAUSE/i.test(sql)) {
        const r = await pgConnect(adminUrl, passwordEnv).catch(() => undefined)
        await r?.query(sql.replace(/^PAUSE/i, 'RESUME')).catch(() => {})
        await r?.end().catch(() => {})
      }
      throw cause
    }
    throw new MigrateError(`PgBouncer ${redactUrl(adminUrl)}: ${sql} failed: ${msg}`, {
      code: 'PGBOUNCER_ERROR',
      hint: 'Connect to the admin console (database pgbouncer) as a user listed in admin_users',
    })
  }
}

async function adminQuery(c: pg.Client, sql: string, timeoutMs: number): Promise<void> {
  {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new MigrateError(`PgBouncer did not finish ${sql} within ${timeoutMs} ms`, {
              code: 'PGBOUNCER_TIMEOUT',
              hint: 'A long transaction holds a server connection; end it or raise --timeout',
            }),
          ),
        timeoutMs,
      )
    })
    try {
      await Promise.race([c.query(sql), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

function dbIdent(database: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(database))
    throw badInput(
      `bad PgBouncer database name ${database}`,
      'PGBOUNCER_BAD_NAME',
      'Use the name of the [databases] entry',
    )
  return database
}

export async function pgbouncerPause(
  adminUrl: string,
  database: string,
  opts: {passwordEnv?: string; timeoutMs?: number} = {},
): Promise<void> {
  await admin(adminUrl, opts.passwordEnv, `PAUSE ${dbIdent(database)}`, opts.timeoutMs ?? 30_000)
}

/** The [databases] entry as PgBouncer runs it: null when there is none; paused is 1 while PAUSEd. */
export async function pgbouncerDatabase(
  adminUrl: string,
  database: string,
  opts: {passwordEnv?: string} = {},
): Promise<{paused: boolean; host: string; port: number} | null> {
  return withPg(adminUrl, opts.passwordEnv, async (c) => {
    const row = (await c.query('SHOW DATABASES')).rows.find((r) => r.name === database)
    return row ? {paused: Number(row.paused) === 1, host: String(row.host), port: Number(row.port)} : null
  })
}

export async function pgbouncerResume(
  adminUrl: string,
  database: string,
  opts: {passwordEnv?: string} = {},
): Promise<void> {
  await admin(adminUrl, opts.passwordEnv, `RESUME ${dbIdent(database)}`, 10_000)
}

/** Rewrites the `database = …` line of the [databases] section with a new host/port (and dbname), keeping the rest. */
export function rewriteDatabaseEntry(
  ini: string,
  database: string,
  to: {host: string; port: number; dbname?: string},
): {text: string; before: string} {
  const lines = ini.split('\n')
  let section = ''
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i].trim()
    const sec = /^\[(.+)\]$/.exec(s)
    if (sec) {
      section = sec[1].toLowerCase()
      continue
    }
    if (section !== 'databases') continue
    const m = /^("?)([^"=\s]+)\1\s*=\s*(.*)$/.exec(s)
    if (!m || m[2] !== database) continue
    const kv = m[3].match(/(\w+)=('(?:[^'\\]|\\.)*'|\S+)/g) ?? []
    const map = new Map(kv.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]))
    map.set('host', to.host)
    map.set('port', String(to.port))
    if (to.dbname) map.set('dbname', to.dbname)
    const before = lines[i]
    lines[i] = `${m[2]} = ${[...map].map(([k, v]) => `${k}=${v}`).join(' ')}`
    return {text: lines.join('\n'), before}
  }
  throw badInput(
    `no entry ${database} in the [databases] section`,
    'PGBOUNCER_NO_ENTRY',
    'Pass --database with the name clients connect to (the left side of the [databases] line)',
  )
}

/** Points a PgBouncer database entry at another server: rewrite the ini atomically, then RELOAD. */
export async function pgbouncerRepoint(
  config: string,
  adminUrl: string,
  database: string,
  to: {host: string; port: number; dbname?: string},
  opts: {passwordEnv?: string} = {},
): Promise<{before: string; after: string}> {
  let ini: string
  try {
    ini = readFileSync(config, 'utf8')
  } catch {
    throw badInput(
      `cannot read ${config}`,
      'PGBOUNCER_CONFIG',
      'Pass --config with the pgbouncer.ini PgBouncer runs with (the process must be able to read it)',
    )
  }
  const {text, before} = rewriteDatabaseEntry(ini, database, to)
  if (text !== ini) writeFileAtomic(config, text)
  await admin(adminUrl, opts.passwordEnv, 'RELOAD', 10_000)
  const after =
    text.split('\n').find((l) => l.trim().startsWith(`${database} `) || l.trim().startsWith(`${database}=`)) ?? ''
  return {before: before.trim(), after: after.trim()}
}
