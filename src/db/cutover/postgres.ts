// PostgreSQL cutover behind PgBouncer as one step (see ../cutover.ts): pre-checks (pg-precheck.ts) → PAUSE →
// block the roles → wait for the LSN → sequences → re-verify what changed → drop the forward subscription (the
// commit point, bounded by the window) → reverse path → repoint → RESUME.
import {type PgPlan, estimateStep} from './shared.js'
import {MigrateError} from '../../errors.js'
import {withPg, withSharedConnections} from '../connect.js'
import {pgbouncerDatabase, pgbouncerPause, pgbouncerRepoint, pgbouncerResume} from '../pgbouncer.js'
import {describeSessions, pgOpenTransactions} from '../pg-health.js'
import {pgBlockInForce, pgBlockWrites, pgSyncSequences, pgUnblockWrites, pgVerify, pgWaitLsn} from '../postgres.js'
import type {VerifyResult} from '../types.js'
import {
  WINDOW_DEFAULTS,
  runSubSteps,
  type BlockProbe,
  type CutoverResult,
  type Log,
  type SubStep,
  type WindowLimits,
} from '../window.js'
import {publicationSql} from '../managed/rds-postgres.js'
import {pgDropSlot, pgDropSubscriptionWithin, pgEnsureSubscription} from '../pg-subscription.js'

import {type PgCutoverOptions, pgExec, pgIdent, pgPrecheckSteps} from './pg-precheck.js'
import {recheckStep} from './verify-plan.js'

/** Undoing the reverse path drops a subscription and a slot that were just made: bounded all the same. */
export const UNDO_DROP_MS = 5000
/** PostgreSQL cutover behind PgBouncer: clients wait during the window, they see no error. */
export async function pgCutover(o: PgCutoverOptions, log: Log): Promise<CutoverResult> {
  const limits = o.limits ?? WINDOW_DEFAULTS
  const plan: PgPlan = {recheck: [], recheckSums: [], estimate: {ms: 0}}
  const run: {verify?: VerifyResult} = {}
  return withSharedConnections(async () => {
    // Connections are opened before the pause: inside it, only queries run.
    const reverse = await reverseNames(o)
    await withPg(o.pgbouncer.admin, o.pgbouncer.passwordEnv, async (c) => void (await c.query('SHOW VERSION')))
    const pre = pgPrecheckSteps(o, limits, plan)
    if (o.checkOnly)
      return {
        ...(await runSubSteps([...pre, estimateStep(limits, plan.estimate)], log, {limits, before: o.before})),
        estimateMs: plan.estimate.ms,
      }
    const r = await runSubSteps(
      [
        ...pre,
        ...pauseSteps(o, limits),
        ...catchUpSteps(o, plan, run),
        stopForwardStep(o),
        ...reverseSteps(o, reverse),
        ...repointSteps(o),
      ],
      log,
      {limits, probes: blockProbes(o), before: o.before},
    )
    return {...r, verify: run.verify, estimateMs: plan.estimate.ms}
  })
}

/** The reverse path's quoted names, and the publication's SQL (made before the pause). */
interface ReverseNames {
  rpub: string
  rsub: string
  publication: string
}

async function reverseNames(o: PgCutoverOptions): Promise<ReverseNames> {
  const [rpub, rsub] = await Promise.all([
    pgIdent(o.target, o.targetPasswordEnv, o.reversePublication),
    pgIdent(o.source, o.sourcePasswordEnv, o.reverseSubscription),
  ])
  // FOR ALL TABLES needs a superuser; a managed target's owner publishes the tables it owns.
  const publication = await withPg(o.target, o.targetPasswordEnv, (c) => publicationSql(c, o.reversePublication))
  return {rpub, rsub, publication}
}

/** The write block's probes before the commit point: PgBouncer still paused, the roles still blocked. */
function blockProbes(o: PgCutoverOptions): BlockProbe[] {
  return [
    {
      name: 'PgBouncer paused',
      check: async () => {
        const db = await pgbouncerDatabase(o.pgbouncer.admin, o.pgbouncer.database, {
          passwordEnv: o.pgbouncer.passwordEnv,
        })
        if (!db?.paused)
          throw new MigrateError(`PgBouncer database ${o.pgbouncer.database} is no longer paused`, {
            code: 'WRITE_BLOCK_LAPSED',
            hint: 'Someone ran RESUME during the cutover; nothing was promoted',
          })
      },
    },
    {name: 'roles blocked on the source', check: () => pgBlockInForce(o.source, o.roles, o.sourcePasswordEnv)},
  ]
}

/** pause-clients (opens the window, within --pause-wait) → block-source-writes. */
function pauseSteps(o: PgCutoverOptions, limits: WindowLimits): SubStep[] {
  const bouncer = {passwordEnv: o.pgbouncer.passwordEnv}
  return [
    {
      name: 'pause-clients',
      window: 'open',
      run: async () => {
        try {
          await pgbouncerPause(o.pgbouncer.admin, o.pgbouncer.database, {...bouncer, timeoutMs: limits.pauseWaitMs})
        } catch (e) {
          if (!(e instanceof MigrateError && e.code === 'PGBOUNCER_TIMEOUT')) throw e
          const blockers = await pgOpenTransactions(o.source, o.sourcePasswordEnv).catch(() => [])
          throw new MigrateError(
            `PgBouncer could not pause ${o.pgbouncer.database} within ${limits.pauseWaitMs} ms and was resumed; nothing changed. ${blockers.length ? `Open transactions on the source: ${describeSessions(blockers)}` : 'No open transaction is visible on the source'}`,
            {
              code: 'PGBOUNCER_PAUSE_TIMEOUT',
              hint: 'PAUSE waits for every open transaction to end: let these finish (or end them with pg_terminate_backend), then run the cutover again; --pause-wait bounds this wait',
              data: {blockers},
            },
          )
        }
      },
      undo: () => pgbouncerResume(o.pgbouncer.admin, o.pgbouncer.database, bouncer),
    },
    {
      name: 'block-source-writes',
      run: async (ctx) => {
        const b = await pgBlockWrites(o.source, o.roles, o.sourceState, {
          passwordEnv: o.sourcePasswordEnv,
          timeoutMs: Math.min(limits.pauseWaitMs, ctx.remainingMs()),
        })
        return `${b.revoked} grant(s) revoked, ${b.terminated} session(s) ended`
      },
      undo: () => pgUnblockWrites(o.source, o.sourceState, {passwordEnv: o.sourcePasswordEnv}),
    },
  ]
}

/** wait-target-lsn → sync-sequences → verify (what was still changing before the pause; none when verify is off). */
function catchUpSteps(o: PgCutoverOptions, plan: PgPlan, run: {verify?: VerifyResult}): SubStep[] {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  const verify = recheckStep(
    {
      allEqual: "every table was equal before the pause; the target confirmed the source's last WAL position",
      sums: 'checksums',
      verifyOnly: (tables, checksumTables) =>
        pgVerify(o.source, o.target, {...pw, counts: true, tables, checksumTables}),
      done: (v) => {
        run.verify = v
      },
    },
    plan,
  )
  return [
    {
      name: 'wait-target-lsn',
      run: async (ctx) => {
        const w = await pgWaitLsn(o.source, o.subscription, {
          passwordEnv: o.sourcePasswordEnv,
          timeoutMs: Math.min(o.timeoutMs, ctx.remainingMs()),
          signal: ctx.signal,
        })
        return `confirmed ${w.confirmed} ≥ ${w.lsn}`
      },
    },
    {
      name: 'sync-sequences',
      run: async () => `${(await pgSyncSequences(o.source, o.target, pw)).sequences.length} sequence(s)`,
    },
    ...(o.verify === 'off' ? [] : [verify]),
  ]
}

/**
 * stop-forward-replication, the commit point: once the forward subscription is gone, a write that reached the source
 * is lost. Its DROP waits for the apply worker to exit: bounded by the window (one transaction, or nothing changes).
 */
function stopForwardStep(o: PgCutoverOptions): SubStep {
  return {
    name: 'stop-forward-replication',
    commit: true,
    run: async (ctx) => {
      const d = await pgDropSubscriptionWithin(
        o.target,
        o.targetPasswordEnv,
        o.subscription,
        Math.max(1, ctx.remainingMs() - 200),
        ctx.signal,
      )
      return d.existed
        ? `subscription ${o.subscription} dropped, its slot kept for after the window`
        : 'no subscription'
    },
    undo: () =>
      pgEnsureSubscription(o.target, o.targetPasswordEnv, {
        name: o.subscription,
        conninfo: o.sourceConninfo,
        publication: o.publication,
      }),
  }
}

/** reverse-publication → reverse-slot → reverse-subscription (the way back) → unblock-target-writes. */
function reverseSteps(o: PgCutoverOptions, n: ReverseNames): SubStep[] {
  const sp = o.sourcePasswordEnv
  const tp = o.targetPasswordEnv
  return [
    {
      name: 'reverse-publication',
      run: async () => pgExec(o.target, tp, n.publication),
      undo: async () => pgExec(o.target, tp, `DROP PUBLICATION IF EXISTS ${n.rpub}`),
    },
    {
      name: 'reverse-slot',
      run: async () =>
        withPg(
          o.target,
          tp,
          async (c) =>
            `slot at ${(await c.query("SELECT lsn::text AS l FROM pg_create_logical_replication_slot($1, 'pgoutput')", [o.reverseSubscription])).rows[0].l}`,
        ),
      undo: () => pgDropSlot(o.target, tp, o.reverseSubscription, UNDO_DROP_MS),
    },
    {
      name: 'reverse-subscription',
      run: async () =>
        withPg(o.source, sp, async (c) => {
          const q = (
            await c.query('SELECT quote_literal($1) AS conn, quote_literal($2) AS slot', [
              o.targetConninfo,
              o.reverseSubscription,
            ])
          ).rows[0]
          await c.query(
            `CREATE SUBSCRIPTION ${n.rsub} CONNECTION ${q.conn} PUBLICATION ${n.rpub} WITH (create_slot = false, slot_name = ${q.slot}, copy_data = false)`,
          )
        }),
      undo: () => pgDropSubscriptionWithin(o.source, sp, o.reverseSubscription, UNDO_DROP_MS),
    },
    {
      // A earlier rolled-back cutover left the target blocked (fail-back); it takes writes again from now on.
      name: 'unblock-target-writes',
      run: async () => {
        const u = await pgUnblockWrites(o.target, o.targetState, {passwordEnv: tp})
        return u.roles.length ? `${u.granted} grant(s) restored from an earlier fail-back` : 'nothing was blocked'
      },
    },
  ]
}

/** repoint-clients → resume-clients (closes the window) → drop-forward-slot (after it). */
function repointSteps(o: PgCutoverOptions): SubStep[] {
  const b = o.pgbouncer
  const bouncer = {passwordEnv: b.passwordEnv}
  return [
    {
      name: 'repoint-clients',
      run: async () => (await pgbouncerRepoint(b.config, b.admin, b.database, b.target, bouncer)).after,
      undo: () => pgbouncerRepoint(b.config, b.admin, b.database, b.source, bouncer),
    },
    {
      name: 'resume-clients',
      window: 'close',
      run: async () => pgbouncerResume(b.admin, b.database, bouncer),
    },
    {
      // After the window: the forward slot no longer has a subscriber (its walsender is ended); else it is reported.
      name: 'drop-forward-slot',
      run: async () => (await pgDropSlot(o.source, o.sourcePasswordEnv, o.subscription, 5000)).note,
    },
  ]
}
