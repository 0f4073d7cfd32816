// PostgreSQL logical replication and cutover helpers: what a single psql call cannot do without a shell pipe.
// Pre-flight (replica identity, sequences, large objects, wal_level, leftover slots), a real write block
// (REVOKE + NOLOGIN + ending the role's sessions, recorded so it can be undone exactly), the wait until a slot has
// confirmed the source's current WAL position, sequence sync, row-count/checksum verification, and fail-back.
// The pre-flight is in pg-preflight.ts, the write block in pg-block.ts (re-exported here for the commands).
import type pg from 'pg'
import {MigrateError} from '../errors.js'
import {redactUrl, sleep, withPg} from './connect.js'
import {pgBlockWrites} from './pg-block.js'
import {type PgOpts, USER_TABLES} from './pg-catalog.js'
import type {VerifyResult} from './types.js'
import {pgUnsubscribe} from './pg-subscription.js'
import {compare} from './verify-compare.js'

export type {PgOpts} from './pg-catalog.js'
export {pgBlockInForce, pgBlockWrites, pgUnblockWrites} from './pg-block.js'
export {pgPreflight, pgReverseBlockers, pgRoleBlockers} from './pg-preflight.js'

/** Row counts and an order-independent checksum of every user table on both sides. */
export async function pgVerify(
  source: string,
  target: string,
  opts: PgOpts & {counts?: boolean; tables?: string[]; checksumTables?: string[]} = {},
): Promise<VerifyResult> {
  const t0 = Date.now()
  const only = opts.tables ? new Set(opts.tables) : undefined
  const sums = opts.checksumTables ? new Set(opts.checksumTables) : undefined
  const measure = async (c: pg.Client): Promise<Map<string, {rows: number; sum?: string}>> => {
    const out = new Map<string, {rows: number; sum?: string}>()
    for (const t of (await c.query(USER_TABLES)).rows) {
      const key = `${t.schema}.${t.name}`
      if (only && !only.has(key)) continue
      const sql =
        opts.counts && !sums?.has(key)
          ? `SELECT count(*) AS n FROM ${t.qname}`
          : `SELECT count(*) AS n, coalesce(sum(('x' || substr(md5(r::text), 1, 16))::bit(64)::bigint::numeric), 0)::text AS s FROM ${t.qname} r`
      const r = (await c.query(sql)).rows[0]
      out.set(key, {rows: Number(r.n), sum: r.s})
    }
    return out
  }
  const [src, dst] = await Promise.all([
    withPg(source, opts.sourcePasswordEnv, measure),
    withPg(target, opts.targetPasswordEnv, measure),
  ])
  return compare('postgres', source, target, src, dst, t0)
}

/** Sets every sequence on the target to its value on the source (logical replication does not carry them). */
export async function pgSyncSequences(
  source: string,
  target: string,
  opts: PgOpts = {},
): Promise<{sequences: {name: string; value: string | null}[]}> {
  const seqs = await withPg(
    source,
    opts.sourcePasswordEnv,
    async (c) =>
      (
        await c.query(
          `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS last, start_value::text AS start FROM pg_sequences ORDER BY 1`,
        )
      ).rows,
  )
  await withPg(target, opts.targetPasswordEnv, async (c) => {
    await c.query('BEGIN')
    for (const s of seqs)
      await c.query('SELECT setval($1::regclass, $2::bigint, $3)', [s.name, s.last ?? s.start, s.last !== null])
    await c.query('COMMIT')
  })
  return {sequences: seqs.map((s) => ({name: s.name, value: s.last}))}
}

/** Notes the source's current WAL position, then waits until `slot` has confirmed it (the subscriber applied everything). */
export async function pgWaitLsn(
  source: string,
  slot: string,
  opts: {passwordEnv?: string; timeoutMs?: number; signal?: AbortSignal} = {},
): Promise<{lsn: string; confirmed: string; waitedMs: number}> {
  const t0 = Date.now()
  return withPg(source, opts.passwordEnv, async (c) => {
    const lsn = (await c.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l
    const deadline = t0 + (opts.timeoutMs ?? 60_000)
    for (;;) {
      const r = (
        await c.query(
          'SELECT confirmed_flush_lsn::text AS f, confirmed_flush_lsn >= $2::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $1',
          [slot, lsn],
        )
      ).rows[0]
      if (!r)
        throw new MigrateError(`replication slot ${slot} does not exist on ${redactUrl(source)}`, {
          code: 'PG_SLOT_MISSING',
          hint: 'Check the subscription name (the slot is named after it) and that the subscription was created',
        })
      if (r.done) return {lsn, confirmed: r.f, waitedMs: Date.now() - t0}
      if (opts.signal?.aborted)
        throw new MigrateError(`interrupted while slot ${slot} was at ${r.f ?? 'nothing'} and the source at ${lsn}`, {
          code: 'INTERRUPTED',
        })
      if (Date.now() > deadline)
        throw new MigrateError(
          `slot ${slot} confirmed ${r.f ?? 'nothing'} but the source is at ${lsn} after ${Date.now() - t0} ms`,
          {
            code: 'PG_LSN_TIMEOUT',
            hint: 'Check the subscription on the target (pg_stat_subscription) and its log; raise --timeout',
          },
        )
      await sleep(10, opts.signal)
    }
  })
}

/** Replication lag of a slot, in bytes of WAL the subscriber has not confirmed; null when the slot is missing. */
export async function pgSlotLag(
  source: string,
  slot: string,
  passwordEnv?: string,
): Promise<{lagBytes: number; active: boolean} | null> {
  return withPg(source, passwordEnv, async (c) => {
    const r = (
      await c.query(
        'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag, active FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      )
    ).rows[0]
    return r ? {lagBytes: Number(r.lag ?? Number.MAX_SAFE_INTEGER), active: r.active} : null
  })
}

/**
 * Fail back after cutover, while clients are paused: block writes on the target, wait until the reverse subscription
 * (on the source, slot on the target) has applied everything, sync sequences target → source, drop the reverse
 * subscription. Afterwards the source holds every write made on the target.
 */
export async function pgFailback(
  source: string,
  target: string,
  subscription: string,
  roles: string[],
  stateFile: string,
  opts: PgOpts & {timeoutMs?: number; dropBudgetMs?: number} = {},
): Promise<{blocked: number; lsn: string; sequences: number; notes: string[]}> {
  const blocked = await pgBlockWrites(target, roles, stateFile, {passwordEnv: opts.targetPasswordEnv})
  const w = await pgWaitLsn(target, subscription, {passwordEnv: opts.targetPasswordEnv, timeoutMs: opts.timeoutMs})
  const seq = await pgSyncSequences(target, source, {
    sourcePasswordEnv: opts.targetPasswordEnv,
    targetPasswordEnv: opts.sourcePasswordEnv,
  })
  // Its DROP waits for the source's apply worker: bounded, and what a worker that does not stop leaves is reported.
  const u = await pgUnsubscribe(source, opts.sourcePasswordEnv, subscription, {
    budgetMs: opts.dropBudgetMs ?? 5000,
    publisher: target,
    publisherPasswordEnv: opts.targetPasswordEnv,
  })
  return {blocked: blocked.revoked, lsn: w.lsn, sequences: seq.sequences.length, notes: u.notes}
}
