// One connection per runner to the PostgreSQL state backend. It carries the runner's unit locks (session advisory
// locks: the server drops them when the session ends, so they cannot go stale) and its journal appends. Its queries
// run one at a time (run()), so a lock query never lands inside an append's transaction. When the session dies
// (pg_terminate_backend, a network partition, a server restart) it is lost for good: the locks are gone, and every
// later append fails, so the runner stops before its next step.
import {randomBytes} from 'node:crypto'
import type pg from 'pg'
import {EXIT, MigrateError} from '../../errors.js'
import {clientConfig, type StateLocation, stateDbError} from './connect.js'
import {migrateSchema} from './schema.js'

const HEARTBEAT_MS = Number(process.env.MIGRATE_STATE_HEARTBEAT_MS ?? 5000)
const HEARTBEAT_TIMEOUT_MS = 15_000

/**
 * Columns that say which server session a statement ran on: its backend pid, and the token this runner set on its
 * session when it connected. Statements that rely on the session (unit locks, appends, the heartbeat) return them,
 * and the runner stops when they are not its own: a pooler in transaction or statement mode (PgBouncer, pgcat, RDS
 * Proxy…) hands the statements of one client to different server sessions, and several clients to one, which would
 * make session advisory locks mean nothing.
 */
export const GUARD_COLUMNS = `pg_backend_pid() AS guard_pid, current_setting('migrate.session', true) AS guard_token`

/**
 * SQL: is the bigint advisory lock `key` (an SQL expression) held now, by any session or by the server process `pid`
 * (an SQL expression). pg_locks shows a bigint key as classid (high 32 bits) and objid (low 32 bits).
 */
export function advisoryHeld(key: string, pid?: string): string {
  return `EXISTS (SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1
    AND k.classid = ((${key} >> 32) & 4294967295)::oid AND k.objid = (${key} & 4294967295)::oid${pid ? ` AND k.pid = ${pid}` : ''})`
}

/** A refusal of PgBouncer in statement mode ("… not allowed in statement pooling mode"). */
export function poolerRefusal(e: unknown): string | undefined {
  const message = (e as Error)?.message ?? ''
  return /pooling mode/i.test(message) ? message : undefined
}

export interface GuardRow {
  guard_pid: number
  guard_token: string | null
}

export class PgSession {
  private queue: Promise<unknown> = Promise.resolve()
  private lostError: MigrateError | undefined
  private closing = false
  private listeners: ((e: MigrateError) => void)[] = []
  /** The server process of this session (pg_backend_pid). */
  backendPid = 0
  /** When the session began, by the server's clock (barrier records are compared with it, not with ours). */
  startedAt = new Date(0)
  /** Set on the server session at connect (migrate.session): statements that rely on the session check it. */
  readonly token = randomBytes(12).toString('hex')
  /**
   * The key of an advisory lock this session holds for its whole life: records it writes (barrier arrivals) are live
   * while that lock is held, whichever server process serves it later.
   */
  readonly presenceKey = BigInt.asIntN(64, BigInt(`0x${this.token.slice(0, 16)}`)).toString()
  /** The unit lock keys this session took, with how many times (advisory locks stack). */
  readonly heldKeys = new Map<string, number>()

  private heartbeat: NodeJS.Timeout

  private constructor(
    readonly client: pg.Client,
    readonly loc: StateLocation,
  ) {
    client.on('error', (e) => this.lose(e.message))
    client.on('end', () => this.lose('the connection was closed'))
    // A partitioned connection says nothing until it is used: ask every few seconds, so a runner that can no longer
    // vouch for its locks stops its steps soon, not at its next append (which may be an hour away).
    this.heartbeat = setInterval(() => {
      this.run(async (c) => {
        const r = await c.query({
          text: `SELECT ${GUARD_COLUMNS}`,
          query_timeout: HEARTBEAT_TIMEOUT_MS,
        } as pg.QueryConfig)
        this.guard(r.rows[0])
      }).catch((e) => this.lose(`no answer to a heartbeat: ${(e as Error).message}`))
    }, HEARTBEAT_MS)
    this.heartbeat.unref()
  }

  private lose(why: string | MigrateError): void {
    if (this.closing || this.lostError) return
    clearInterval(this.heartbeat)
    this.lostError = typeof why === 'string' ? sessionLost(this.loc.shown, why) : why
    for (const l of this.listeners) l(this.lostError)
  }

  /**
   * Checks that a statement ran on this runner's own server session (see GUARD_COLUMNS); when it did not, the session
   * is lost for good (its locks cannot be vouched for) and the error is thrown.
   */
  guard(row: GuardRow | undefined): void {
    if (row && Number(row.guard_pid) === this.backendPid && row.guard_token === this.token) return
    const e = pooledSession(
      this.loc.shown,
      !row
        ? 'a statement did not say which server session it ran on'
        : Number(row.guard_pid) !== this.backendPid
          ? `a statement ran on server session ${row.guard_pid}, this runner's is ${this.backendPid}`
          : `this runner's settings on its server session ${this.backendPid} were replaced or reset (another client connected there, or a pooler reset it)`,
    )
    this.lose(e)
    throw this.lostError ?? e
  }

  static async connect(loc: StateLocation): Promise<PgSession> {
    const {default: pgm} = await import('pg')
    const client = new pgm.Client(clientConfig(loc.url!))
    try {
      await client.connect()
    } catch (e) {
      client.on('error', () => undefined)
      throw stateDbError(e, loc.shown, 'connecting')
    }
    const s = new PgSession(client, loc)
    try {
      await migrateSchema(client)
      // A new session holds no advisory lock: one that does was handed on by a pooler from another client. The
      // presence lock is taken in the same statement, so on the same server session as the token.
      const r = await client.query(
        `SELECT pg_backend_pid() AS p, now() AS t, set_config('migrate.session', $1, false) AS token, h.n AS held,
           CASE WHEN h.n = 0 THEN pg_try_advisory_lock($2::bigint) END AS presence
         FROM (SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) h`,
        [s.token, s.presenceKey],
      )
      s.backendPid = Number(r.rows[0].p)
      s.startedAt = r.rows[0].t
      if (Number(r.rows[0].held) > 0 || r.rows[0].presence !== true)
        throw pooledSession(
          loc.shown,
          Number(r.rows[0].held) > 0
            ? `the new server session ${s.backendPid} already holds ${r.rows[0].held} advisory lock(s) another client took`
            : `the new server session ${s.backendPid} could not take this runner's own lock`,
        )
    } catch (e) {
      await s.close()
      if (e instanceof MigrateError) throw e
      const refused = poolerRefusal(e)
      if (refused) throw pooledSession(loc.shown, refused)
      throw stateDbError(e, loc.shown, 'creating the state tables')
    }
    return s
  }

  /** Why the session is gone, or undefined while it lives. */
  get lost(): MigrateError | undefined {
    return this.lostError
  }

  onLost(fn: (e: MigrateError) => void): void {
    this.listeners.push(fn)
  }

  /** Runs fn with the connection, after every earlier run() settled. */
  run<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      if (this.lostError) throw this.lostError
      try {
        return await fn(this.client)
      } catch (e) {
        // PgBouncer in statement mode refuses transactions outright: say what it is, not only what it said.
        const refused = poolerRefusal(e)
        if (!this.lostError && refused) this.lose(pooledSession(this.loc.shown, refused))
        throw this.lostError ?? e
      }
    })
    this.queue = next.catch(() => undefined)
    return next
  }

  async close(): Promise<void> {
    if (this.closing) return
    clearInterval(this.heartbeat)
    await this.queue
    this.closing = true
    await this.client.end().catch(() => undefined)
  }
}

/** The backend's connection goes through a pooler that shares server sessions: refused, nothing further is run. */
export function pooledSession(shown: string, why: string): MigrateError {
  return new MigrateError(
    `the state backend ${shown} does not give this runner a server session of its own (${why}): a connection pooler in transaction or statement mode, or one that hands on sessions without resetting them, sits in front of PostgreSQL, and unit locks held on such sessions would not keep two runners off one unit. This runner runs no further step`,
    {
      code: 'STATE_POOLED',
      exitCode: EXIT.ENVIRONMENT,
      hint: 'Connect the state backend to PostgreSQL directly, or through PgBouncer with pool_mode = session and the default server_reset_query (DISCARD ALL) for this database; then run the same command again (it resumes from the journal)',
    },
  )
}

export function sessionLost(shown: string, why: string): MigrateError {
  return new MigrateError(
    `the session to the state backend ${shown} was lost (${why}): its unit locks are released, so this runner runs no further step`,
    {
      code: 'STATE_SESSION_LOST',
      exitCode: EXIT.INTERRUPTED,
      hint: 'Another runner may now take these units. Run the same command again once the backend is reachable: it resumes from the journal (a step that was running is interrupted, as after a crash)',
    },
  )
}
