// Dropping a logical-replication subscription without an unbounded wait. DROP SUBSCRIPTION stops the subscription's
// apply worker and waits until it has exited, and with a slot it also connects to the publisher to drop the slot
// there: a stopped or stuck worker (or an unreachable publisher) makes it wait without end, with locks held. Here:
// - the drop runs with slot_name = NONE (no call to the publisher) in ONE transaction whose statement_timeout and
//   lock_timeout come from the caller's budget, so it either finishes in time or changes nothing;
// - where a rollback must finish anyway, the subscription is left disabled without slot (a stuck worker exits when
//   it next looks at it) and reported with the command that drops it;
// - the slot on the publisher is dropped separately, after ending the walsender that may still hold it.
import type pg from 'pg'
import {MigrateError} from '../errors.js'
import {pgConnect, redactUrl, withPg} from './connect.js'
import {within} from './window.js'

interface SubState {
  oid: number
  ident: string
  slot: string | null
  enabled: boolean
  workers: string
}

async function subState(c: pg.Client, name: string): Promise<SubState | undefined> {
  const r = (
    await c.query(
      `SELECT s.oid::int AS oid, quote_ident(s.subname) AS ident, s.subslotname::text AS slot, s.subenabled AS enabled,
              coalesce(string_agg(w.pid || coalesce(' (' || a.wait_event_type || ' ' || a.wait_event || ')', ''), ', '), '') AS workers
         FROM pg_subscription s LEFT JOIN pg_stat_subscription w ON w.subid = s.oid AND w.pid IS NOT NULL
         LEFT JOIN pg_stat_activity a ON a.pid = w.pid
        WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        GROUP BY 1, 2, 3, 4`,
      [name],
    )
  ).rows[0]
  return r ? {oid: r.oid, ident: r.ident, slot: r.slot, enabled: r.enabled, workers: r.workers} : undefined
}

/**
 * Runs `sqls` in one transaction, each statement (and lock wait) bounded by what is left of budgetMs. Once `given`
 * is aborted (the caller gave up waiting), nothing more is sent: in particular never the COMMIT.
 */
async function boundedTransaction(c: pg.Client, sqls: string[], budgetMs: number, given?: AbortSignal): Promise<void> {
  const deadline = performance.now() + budgetMs
  const send = async (sql: string) => {
    if (given?.aborted) throw new MigrateError('given up', {code: 'INTERRUPTED'})
    await c.query(sql)
  }
  await c.query('BEGIN')
  try {
    for (const sql of sqls) {
      const left = Math.max(1, Math.floor(deadline - performance.now()))
      await send(`SET LOCAL statement_timeout = ${left}`)
      await send(`SET LOCAL lock_timeout = ${left}`)
      await send(sql)
    }
    await send('COMMIT')
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {})
    throw e
  }
}

/** pg_cancel_backend from a connection of its own (the busy one cannot send anything); best effort. */
async function cancelBackend(url: string, passwordEnv: string | undefined, pid: number): Promise<void> {
  const c = await pgConnect(url, passwordEnv, {timeoutMs: 2000}).catch(() => undefined)
  await c?.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {})
  await c?.end().catch(() => {})
}

const timedOut = (e: unknown) => ['57014', '55P03'].includes((e as {code?: string})?.code ?? '')

export interface DropResult {
  /** false: there was no such subscription. */
  existed: boolean
  /** The slot the subscription used on the publisher (not dropped here). */
  slot: string | null
  /** Its oid: the initial copy's table-sync slots on the publisher are named pg_<oid>_sync_… */
  oid?: number
}

/**
 * Drops the subscription within budgetMs, or changes nothing: DISABLE, SET (slot_name = NONE), DROP in one
 * transaction bounded by statement_timeout/lock_timeout (and on the client side, a little later). The slot on the
 * publisher is kept: the caller drops it (pgDropSlot) or re-attaches to it.
 */
export async function pgDropSubscriptionWithin(
  url: string,
  passwordEnv: string | undefined,
  name: string,
  budgetMs: number,
  signal?: AbortSignal,
): Promise<DropResult> {
  return withPg(url, passwordEnv, async (c) => {
    const st = await subState(c, name)
    if (!st) return {existed: false, slot: null}
    const sqls = [
      ...(st.enabled ? [`ALTER SUBSCRIPTION ${st.ident} DISABLE`] : []),
      ...(st.slot !== null ? [`ALTER SUBSCRIPTION ${st.ident} SET (slot_name = NONE)`] : []),
      `DROP SUBSCRIPTION ${st.ident}`,
    ]
    const me: number = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p
    const given = new AbortController()
    try {
      await within(
        budgetMs + 500,
        `DROP SUBSCRIPTION ${name}`,
        boundedTransaction(c, sqls, budgetMs, given.signal),
        'PG_DROP_TIMEOUT',
        signal,
      )
    } catch (e) {
      if (e instanceof MigrateError && ['PG_DROP_TIMEOUT', 'INTERRUPTED'].includes(e.code)) {
        // Given up on the client side: nothing more is sent, and the server's statement is cancelled now.
        given.abort()
        await cancelBackend(url, passwordEnv, me)
      }
      if (!timedOut(e) && !(e instanceof MigrateError && e.code === 'PG_DROP_TIMEOUT')) throw e
      throw new MigrateError(
        `DROP SUBSCRIPTION ${name} on ${redactUrl(url)} did not finish within ${Math.round(budgetMs)} ms and was rolled back (the subscription is as it was): ${st.workers ? `its apply worker ${st.workers} does not stop` : 'it waited for a lock on the subscription'}`,
        {
          code: 'PG_DROP_TIMEOUT',
          hint: `DROP SUBSCRIPTION waits until the subscription's apply worker has exited: look at that process on the subscriber (pg_stat_subscription, pg_stat_activity, its log: stopped, stuck in I/O?), then run the step again`,
          cause: e,
        },
      )
    }
    return {existed: true, slot: st.slot, oid: st.oid}
  })
}

/**
 * Drops the slot on the publisher within budgetMs: ends the walsender that still holds it (a subscriber's worker
 * that stopped answering keeps it), then drops it. Returns what was done, or what is left with the command to drop it.
 */
export async function pgDropSlot(
  url: string,
  passwordEnv: string | undefined,
  slot: string,
  budgetMs: number,
): Promise<{dropped: boolean; note: string}> {
  const lit = `'${slot.replace(/'/g, "''")}'`
  const left = `slot ${slot} is left on ${redactUrl(url)} and pins WAL there: drop it with SELECT pg_drop_replication_slot(${lit})`
  try {
    return await withPg(url, passwordEnv, async (c) =>
      within(
        budgetMs,
        `dropping slot ${slot}`,
        (async () => {
          const deadline = performance.now() + budgetMs
          for (;;) {
            const r = (await c.query('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]))
              .rows[0]
            if (!r) return {dropped: false, note: `no slot ${slot} on ${redactUrl(url)}`}
            if (r.active_pid === null) {
              await c.query('SELECT pg_drop_replication_slot($1)', [slot])
              return {dropped: true, note: `slot ${slot} dropped`}
            }
            await c.query('SELECT pg_terminate_backend($1)', [r.active_pid])
            if (performance.now() > deadline) return {dropped: false, note: `${left} (still in use)`}
            await new Promise((res) => setTimeout(res, 50))
          }
        })(),
      ),
    )
  } catch (e) {
    return {dropped: false, note: `${left} (${e instanceof Error ? e.message : String(e)})`}
  }
}

/**
 * The way out that must finish (a rollback, finalize): drop the subscription within budgetMs; when its worker does not
 * stop, leave it disabled and without slot (the worker exits when it next looks) and say so; then drop its slot on
 * the publisher. Returns one line per thing done or left over, with the command for what is left.
 */
export async function pgUnsubscribe(
  url: string,
  passwordEnv: string | undefined,
  name: string,
  opts: {budgetMs: number; publisher?: string; publisherPasswordEnv?: string},
): Promise<{dropped: boolean; notes: string[]}> {
  const notes: string[] = []
  let slot: string | null = null
  let oid: number | undefined
  let dropped = false
  try {
    const r = await pgDropSubscriptionWithin(url, passwordEnv, name, opts.budgetMs)
    if (!r.existed) return {dropped: false, notes: [`no subscription ${name} on ${redactUrl(url)}`]}
    slot = r.slot
    oid = r.oid
    dropped = true
    notes.push(`subscription ${name} dropped`)
  } catch (e) {
    if (!(e instanceof MigrateError && e.code === 'PG_DROP_TIMEOUT')) throw e
    // No wait here: ALTER SUBSCRIPTION only changes the catalog (lock_timeout bounds the lock it takes).
    slot = await withPg(url, passwordEnv, async (c) => {
      const st = await subState(c, name)
      if (!st) return null
      oid = st.oid
      const sqls = [
        ...(st.enabled ? [`ALTER SUBSCRIPTION ${st.ident} DISABLE`] : []),
        ...(st.slot !== null ? [`ALTER SUBSCRIPTION ${st.ident} SET (slot_name = NONE)`] : []),
      ]
      if (sqls.length) await boundedTransaction(c, sqls, opts.budgetMs)
      return st.slot
    })
    notes.push(
      `${e.message}; it is left disabled and without slot (replication through it has stopped): drop it with DROP SUBSCRIPTION ${name} on ${redactUrl(url)} once that worker is gone`,
    )
  }
  if (slot && opts.publisher) {
    notes.push((await pgDropSlot(opts.publisher, opts.publisherPasswordEnv, slot, opts.budgetMs)).note)
    // An initial copy that was still running left table-sync slots too (DROP without slot_name does not drop them).
    const sync = await withPg(opts.publisher, opts.publisherPasswordEnv, async (c) =>
      (
        await c.query('SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE $1', [`pg\\_${oid}\\_sync\\_%`])
      ).rows.map((r) => r.slot_name as string),
    ).catch(() => [] as string[])
    for (const t of sync)
      notes.push((await pgDropSlot(opts.publisher, opts.publisherPasswordEnv, t, opts.budgetMs)).note)
  } else if (slot)
    notes.push(
      `slot ${slot} on the publisher was not dropped: drop it there with SELECT pg_drop_replication_slot('${slot.replace(/'/g, "''")}')`,
    )
  return {dropped, notes}
}

/**
 * Puts a subscription back as it was before a drop that may or may not have happened: re-created on its kept slot
 * (no copy) when gone; re-attached to the slot and enabled when left disabled without one.
 */
export async function pgEnsureSubscription(
  url: string,
  passwordEnv: string | undefined,
  s: {name: string; conninfo: string; publication: string},
): Promise<string> {
  return withPg(url, passwordEnv, async (c) => {
    const q = (
      await c.query(
        'SELECT quote_ident($1) AS s, quote_literal($2) AS c, quote_ident($3) AS p, quote_literal($1) AS l',
        [s.name, s.conninfo, s.publication],
      )
    ).rows[0]
    const st = await subState(c, s.name)
    if (!st) {
      await c.query(
        `CREATE SUBSCRIPTION ${q.s} CONNECTION ${q.c} PUBLICATION ${q.p} WITH (create_slot = false, slot_name = ${q.l}, copy_data = false)`,
      )
      return `subscription ${s.name} re-created on its slot`
    }
    if (st.slot === null) await c.query(`ALTER SUBSCRIPTION ${q.s} SET (slot_name = ${q.l})`)
    if (!st.enabled) await c.query(`ALTER SUBSCRIPTION ${q.s} ENABLE`)
    return st.slot === null || !st.enabled ? `subscription ${s.name} enabled again` : `subscription ${s.name} in place`
  })
}
