// One connection per runner to the PostgreSQL state backend. It carries the runner's unit locks (session advisory
// locks: the server drops them when the session ends, so they cannot go stale) and its journal appends. Its queries
// run one at a time (run()), so a lock query never lands inside an append's transaction. When the session dies
// (pg_terminate_backend, a network partition, a server restart) it is lost for good: the locks are gone, and every
// later append fails, so the runner stops before its next step.
import type pg from 'pg'
import {EXIT, MigrateError} from '../../errors.js'
import {clientConfig, type StateLocation, stateDbError} from './connect.js'
import {migrateSchema} from './schema.js'

const HEARTBEAT_MS = Number(process.env.MIGRATE_STATE_HEARTBEAT_MS ?? 5000)
const HEARTBEAT_TIMEOUT_MS = 15_000

export class PgSession {
  private queue: Promise<unknown> = Promise.resolve()
  private lostError: MigrateError | undefined
  private closing = false
  private listeners: ((e: MigrateError) => void)[] = []
  /** The server process of this session (pg_backend_pid). */
  backendPid = 0
  /** When the session began, by the server's clock (barrier records are compared with it, not with ours). */
  startedAt = new Date(0)

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
      this.run((c) => c.query({text: 'SELECT 1', query_timeout: HEARTBEAT_TIMEOUT_MS} as pg.QueryConfig)).catch((e) =>
        this.lose(`no answer to a heartbeat: ${(e as Error).message}`),
      )
    }, HEARTBEAT_MS)
    this.heartbeat.unref()
  }

  private lose(why: string): void {
    if (this.closing || this.lostError) return
    clearInterval(this.heartbeat)
    this.lostError = sessionLost(this.loc.shown, why)
    for (const l of this.listeners) l(this.lostError)
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
      const r = await client.query('SELECT pg_backend_pid() AS p, now() AS t')
      s.backendPid = Number(r.rows[0].p)
      s.startedAt = r.rows[0].t
    } catch (e) {
      await s.close()
      throw e instanceof MigrateError ? e : stateDbError(e, loc.shown, 'creating the state tables')
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
