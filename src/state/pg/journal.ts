// The journal in PostgreSQL: the same events, hash chain and head as the journal file, one chain per plan id, in
// migrate_state.events. Appends are group-committed like the file's: the events queued meanwhile go in one call of
// migrate_state.append (which chains them under the head row's lock, committed asynchronously so the lock is held
// for microseconds), then a synchronous commit of this runner's own row makes them durable: WAL is flushed in order,
// so that flush covers the events. append() resolves only then: a step's "started" is durable before the step runs.
// Runners on other machines append to the same chain at once; each event gets its place when it is committed.
import type pg from 'pg'
import {isMigrateError, MigrateError} from '../../errors.js'
import type {JournalEvent} from '../../schema/state.js'
import {type Actor, type ChainInput, eventBody, type JournalHead, type NewEvent, parseEventLine} from '../chain.js'
import {nextTurn} from '../journal.js'
import {SCHEMA} from './schema.js'
import {GUARD_COLUMNS, type GuardRow, type PgSession} from './session.js'

/** Reads a plan's events and head. */
export async function readPgJournal(
  s: PgSession,
  planId: string,
): Promise<{input: ChainInput; head: JournalHead | undefined}> {
  return s.run(async (c) => {
    // One snapshot for both: runners append meanwhile, and events read before the head would miss its last ones.
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    let rows: pg.QueryResult<{line: string}>
    let h: pg.QueryResult<{head_seq: string; head_hash: string}>
    try {
      rows = await c.query(`SELECT line FROM ${SCHEMA}.events WHERE plan_id = $1 ORDER BY seq`, [planId])
      h = await c.query(`SELECT head_seq, head_hash FROM ${SCHEMA}.plans WHERE plan_id = $1`, [planId])
    } finally {
      await c.query('COMMIT').catch(() => undefined)
    }
    const input: ChainInput = {events: [], lines: [], raw: [], torn: false, bad: []}
    rows.rows.forEach((r, i) => {
      const p = parseEventLine(r.line)
      if (!p.ok) input.bad.push({line: i + 1, reason: p.reason})
      else {
        input.events.push(p.event)
        input.lines.push(i + 1)
        input.raw.push(p.raw)
      }
    })
    const row = h.rows[0]
    const head = row && Number(row.head_seq) >= 0 ? {seq: Number(row.head_seq), hash: row.head_hash} : undefined
    return {input, head}
  })
}

interface Pending {
  body: string
  event: Omit<JournalEvent, 'seq' | 'prev' | 'hash'>
  resolve: (e: JournalEvent) => void
  reject: (e: unknown) => void
}

/**
 * One round trip: the events chained and committed asynchronously (the head row's lock is held for microseconds,
 * not for a WAL flush), then this runner's own row committed synchronously: WAL is flushed in order, so once that
 * commit returns the events are durable too. (A simple query of several statements: literals escaped by the driver.)
 * It appends only on this runner's own server session, and ends by saying which session it ran on: a pooler that
 * moved it elsewhere stops the runner with nothing appended (this runner's unit locks are not on that session).
 */
async function appendBatch(
  s: PgSession,
  c: pg.Client,
  planId: string,
  bodies: string[],
): Promise<{seq: string; prev: string; hash: string}[]> {
  // On another client's server session the events are not appended at all (an empty array), then refused below.
  const mine = `pg_backend_pid() = ${s.backendPid} AND current_setting('migrate.session', true) = ${c.escapeLiteral(s.token)}`
  const results = (await c.query(
    appendSql((x) => c.escapeLiteral(x), planId, bodies, mine),
  )) as unknown as pg.QueryResult[]
  s.guard(results[4].rows[0] as GuardRow)
  return results[1].rows as {seq: string; prev: string; hash: string}[]
}

/**
 * The text of one append (see appendBatch): `bodies` appended to the plan's chain where `mine` (an SQL condition) holds,
 * made durable, then the session's guard columns. Also what `npm run bench` replays with pgbench.
 */
export function appendSql(literal: (s: string) => string, planId: string, bodies: string[], mine: string): string {
  const plan = literal(planId)
  const arr = `CASE WHEN ${mine} THEN ARRAY[${bodies.map((b) => literal(b)).join(',')}]::text[] ELSE '{}' END`
  return `BEGIN; SELECT seq, prev, hash FROM ${SCHEMA}.append(${plan}, ${arr}); COMMIT;
    INSERT INTO ${SCHEMA}.runners (plan_id, backend_pid, acked_seq)
      SELECT ${plan}, pg_backend_pid(), (SELECT head_seq FROM ${SCHEMA}.plans WHERE plan_id = ${plan}) WHERE ${mine}
      ON CONFLICT (plan_id, backend_pid) DO UPDATE SET acked_seq = excluded.acked_seq, at = now();
    SELECT ${GUARD_COLUMNS};`
}

export class PgJournal {
  private queue: Pending[] = []
  private flushing: Promise<void> | null = null
  private failed: unknown = null
  /** Called synchronously with each event as it is appended (its seq and hash are given at commit: -1 and ''). */
  onAppend?: (e: JournalEvent) => void

  constructor(
    private readonly session: PgSession,
    readonly planId: string,
    readonly file: string,
    readonly runId: string,
    readonly redact: (s: string) => string,
    readonly actor: Actor,
  ) {}

  append(e: NewEvent): Promise<JournalEvent> {
    if (this.failed) return Promise.reject(this.failed)
    const lost = this.session.lost
    if (lost) return Promise.reject(lost)
    const event = eventBody(e, this.runId, this.actor, this.redact)
    this.onAppend?.({seq: -1, ...event, prev: '', hash: ''} as JournalEvent)
    return new Promise<JournalEvent>((resolve, reject) => {
      this.queue.push({body: JSON.stringify(event).slice(1, -1), event, resolve, reject})
      // Group commit: the appends made in this turn of the event loop go in one round trip and one WAL flush.
      if (!this.flushing) this.flushing = nextTurn().then(() => this.flush())
    })
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      try {
        const rows = await this.session.run((c) =>
          appendBatch(
            this.session,
            c,
            this.planId,
            batch.map((b) => b.body),
          ),
        )
        batch.forEach((b, i) => {
          const {seq, prev, hash} = rows[i]
          b.resolve({seq: Number(seq), ...b.event, prev, hash} as JournalEvent)
        })
      } catch (error) {
        this.failed = isMigrateError(error)
          ? error
          : new MigrateError(`cannot write the journal to ${this.file}: ${(error as Error).message}`, {
              code: 'JOURNAL_WRITE_FAILED',
              hint: 'Check the state backend (is it up, is the disk full?); nothing further was run',
              cause: error,
            })
        for (const b of [...batch, ...this.queue]) b.reject(this.failed)
        this.queue = []
      }
    }
    this.flushing = null
  }

  async drain(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  async close(): Promise<void> {
    await this.drain()
  }
}

/**
 * Appends events as they were written elsewhere (`migrate state push`): the same lines, seqs and hashes, continuing
 * the plan's chain only where it ends now (its head must be `fromSeq - 1` with `prevHash`), all or none.
 */
export async function importPgEvents(
  s: PgSession,
  planId: string,
  events: {seq: number; line: string; hash: string; prev: string}[],
): Promise<void> {
  await s.run(async (c) => {
    await c.query('BEGIN')
    try {
      await c.query(`INSERT INTO ${SCHEMA}.plans (plan_id) VALUES ($1) ON CONFLICT DO NOTHING`, [planId])
      const h = await c.query(`SELECT head_seq, head_hash FROM ${SCHEMA}.plans WHERE plan_id = $1 FOR UPDATE`, [planId])
      const first = events[0]
      if (Number(h.rows[0].head_seq) !== first.seq - 1 || h.rows[0].head_hash !== first.prev)
        throw new MigrateError(
          `the chain of plan ${planId} in ${s.loc.shown} moved on meanwhile (its head is event ${h.rows[0].head_seq})`,
          {code: 'STATE_DIVERGED', hint: 'Another runner appended meanwhile: run `migrate state push` again'},
        )
      for (const e of events)
        await c.query(`INSERT INTO ${SCHEMA}.events (plan_id, seq, line, hash) VALUES ($1, $2, $3, $4)`, [
          planId,
          e.seq,
          e.line,
          e.hash,
        ])
      const last = events[events.length - 1]
      await c.query(`UPDATE ${SCHEMA}.plans SET head_seq = $2, head_hash = $3 WHERE plan_id = $1`, [
        planId,
        last.seq,
        last.hash,
      ])
      await c.query('COMMIT')
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw e
    }
  })
}
