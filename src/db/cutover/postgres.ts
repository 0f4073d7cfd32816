// PostgreSQL cutover behind PgBouncer as one step (see ../cutover.ts): pre-checks (pg-precheck.ts) → PAUSE →
// block the roles → wait for the LSN → sequences → re-verify what changed → drop the forward subscription (the
// commit point, bounded by the window) → reverse path → repoint → RESUME.
import {assertVerified, type PgPlan, estimateStep} from './shared.js'
import {MigrateError} from '../../errors.js'
import {withPg, withSharedConnections} from '../connect.js'
import {pgbouncerDatabase, pgbouncerPause, pgbouncerRepoint, pgbouncerResume} from '../pgbouncer.js'
import {describeSessions, pgOpenTransactions} from '../pg-health.js'
import {pgBlockInForce, pgBlockWrites, pgSyncSequences, pgUnblockWrites, pgVerify, pgWaitLsn} from '../postgres.js'
import type {VerifyResult} from '../types.js'
import {WINDOW_DEFAULTS, runSubSteps, type BlockProbe, type CutoverResult, type Log, type SubStep} from '../window.js'
import {publicationSql} from '../managed/rds-postgres.js'
import {pgDropSlot, pgDropSubscriptionWithin, pgEnsureSubscription} from '../pg-subscription.js'

import {type PgCutoverOptions, pgExec, pgIdent, pgPrecheckSteps} from './pg-precheck.js'

/** Undoing the reverse path drops a subscription and a slot that were just made: bounded all the same. */
export const UNDO_DROP_MS = 5000
/** PostgreSQL cutover behind PgBouncer: clients wait during the window, they see no error. */
export async function pgCutover(o: PgCutoverOptions, log: Log): Promise<CutoverResult> {
  const sp = o.sourcePasswordEnv
  const tp = o.targetPasswordEnv
  const pw = {sourcePasswordEnv: sp, targetPasswordEnv: tp}
  const limits = o.limits ?? WINDOW_DEFAULTS
  const bouncer = {passwordEnv: o.pgbouncer.passwordEnv}
  const plan: PgPlan = {recheck: [], recheckSums: [], estimate: {ms: 0}}
  let verify: VerifyResult | undefined
  return withSharedConnections(async () => {
    // Connections are opened before the pause: inside it, only queries run.
    const [rpub, rsub] = await Promise.all([
      pgIdent(o.target, tp, o.reversePublication),
      pgIdent(o.source, sp, o.reverseSubscription),
    ])
    // FOR ALL TABLES needs a superuser; a managed target's owner publishes the tables it owns.
    const reversePublication = await withPg(o.target, tp, (c) => publicationSql(c, o.reversePublication))
    await withPg(o.pgbouncer.admin, o.pgbouncer.passwordEnv, async (c) => void (await c.query('SHOW VERSION')))
    const pre = pgPrecheckSteps(o, limits, plan)
    if (o.checkOnly)
      return {
        ...(await runSubSteps([...pre, estimateStep(limits, plan.estimate)], log, {limits, before: o.before})),
        estimateMs: plan.estimate.ms,
      }
    const probes: BlockProbe[] = [
      {
        name: 'PgBouncer paused',
        check: async () => {
          const db = await pgbouncerDatabase(o.pgbouncer.admin, o.pgbouncer.database, bouncer)
          if (!db?.paused)
            throw new MigrateError(`PgBouncer database ${o.pgbouncer.database} is no longer paused`, {
              code: 'WRITE_BLOCK_LAPSED',
              hint: 'Someone ran RESUME during the cutover; nothing was promoted',
            })
        },
      },
      {name: 'roles blocked on the source', check: () => pgBlockInForce(o.source, o.roles, sp)},
    ]
    const r = await runSubSteps(
      [
        ...pre,
        {
          name: 'pause-clients',
          window: 'open',
          run: async () => {
            try {
              await pgbouncerPause(o.pgbouncer.admin, o.pgbouncer.database, {...bouncer, timeoutMs: limits.pauseWaitMs})
            } catch (e) {
              if (!(e instanceof MigrateError && e.code === 'PGBOUNCER_TIMEOUT')) throw e
              const blockers = await pgOpenTransactions(o.source, sp).catch(() => [])
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
              passwordEnv: sp,
              timeoutMs: Math.min(limits.pauseWaitMs, ctx.remainingMs()),
            })
            return `${b.revoked} grant(s) revoked, ${b.terminated} session(s) ended`
          },
          undo: () => pgUnblockWrites(o.source, o.sourceState, {passwordEnv: sp}),
        },
        {
          name: 'wait-target-lsn',
          run: async (ctx) => {
            const w = await pgWaitLsn(o.source, o.subscription, {
              passwordEnv: sp,
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
        ...(o.verify === 'off'
          ? []
          : [
              {
                name: 'verify',
                run: async () => {
                  if (plan.recheck.length === 0)
                    return "every table was equal before the pause; the target confirmed the source's last WAL position"
                  verify = await pgVerify(o.source, o.target, {
                    ...pw,
                    counts: true,
                    tables: plan.recheck,
                    checksumTables: plan.recheckSums,
                  })
                  assertVerified(verify)
                  return `${verify.tables.length} changing table(s) equal (${plan.recheckSums.length} with checksums, the rest counted)`
                },
              } satisfies SubStep,
            ]),
        {
          // The commit point: once the forward subscription is gone, a write that reached the source is lost. Its
          // DROP waits for the apply worker to exit: bounded by the window (one transaction, or nothing changes).
          name: 'stop-forward-replication',
          commit: true,
          run: async (ctx) => {
            const d = await pgDropSubscriptionWithin(
              o.target,
              tp,
              o.subscription,
              Math.max(1, ctx.remainingMs() - 200),
              ctx.signal,
            )
            return d.existed
              ? `subscription ${o.subscription} dropped, its slot kept for after the window`
              : 'no subscription'
          },
          undo: () =>
            pgEnsureSubscription(o.target, tp, {
              name: o.subscription,
              conninfo: o.sourceConninfo,
              publication: o.publication,
            }),
        },
        {
          name: 'reverse-publication',
          run: async () => pgExec(o.target, tp, reversePublication),
          undo: async () => pgExec(o.target, tp, `DROP PUBLICATION IF EXISTS ${rpub}`),
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
                `CREATE SUBSCRIPTION ${rsub} CONNECTION ${q.conn} PUBLICATION ${rpub} WITH (create_slot = false, slot_name = ${q.slot}, copy_data = false)`,
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
        {
          name: 'repoint-clients',
          run: async () =>
            (
              await pgbouncerRepoint(
                o.pgbouncer.config,
                o.pgbouncer.admin,
                o.pgbouncer.database,
                o.pgbouncer.target,
                bouncer,
              )
            ).after,
          undo: () =>
            pgbouncerRepoint(o.pgbouncer.config, o.pgbouncer.admin, o.pgbouncer.database, o.pgbouncer.source, bouncer),
        },
        {
          name: 'resume-clients',
          window: 'close',
          run: async () => pgbouncerResume(o.pgbouncer.admin, o.pgbouncer.database, bouncer),
        },
        {
          // After the window: the forward slot no longer has a subscriber (its walsender is ended); else it is reported.
          name: 'drop-forward-slot',
          run: async () => (await pgDropSlot(o.source, sp, o.subscription, 5000)).note,
        },
      ],
      log,
      {limits, probes, before: o.before},
    )
    return {...r, verify, estimateMs: plan.estimate.ms}
  })
}
