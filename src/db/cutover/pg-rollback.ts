// The PostgreSQL cutover's rollback (fail back through the reverse path: nothing written on the target is lost) and
// finalize (the way back is dropped).
import {withPg, withSharedConnections} from '../connect.js'
import {pgbouncerPause, pgbouncerRepoint, pgbouncerResume} from '../pgbouncer.js'
import {pgFailback, pgUnblockWrites} from '../postgres.js'
import {runSubSteps, type CutoverResult, type Log} from '../window.js'
import {pgUnsubscribe} from '../pg-subscription.js'

import {type PgCutoverOptions, pgExec, pgIdent} from './pg-precheck.js'

/** Undoes pgCutover from wherever it got: pause, fail back through the reverse path, repoint to the source, unblock, resume. */
export async function pgCutoverRollback(o: PgCutoverOptions, log: Log): Promise<CutoverResult> {
  const sp = o.sourcePasswordEnv
  const tp = o.targetPasswordEnv
  return withSharedConnections(() =>
    runSubSteps(
      [
        {
          name: 'pause-clients',
          window: 'open',
          run: async () =>
            pgbouncerPause(o.pgbouncer.admin, o.pgbouncer.database, {
              passwordEnv: o.pgbouncer.passwordEnv,
              timeoutMs: o.timeoutMs,
            }),
        },
        {
          name: 'fail-back',
          run: async () => {
            const exists = await withPg(
              o.source,
              sp,
              async (c) =>
                (await c.query('SELECT 1 FROM pg_subscription WHERE subname = $1', [o.reverseSubscription])).rowCount! >
                0,
            )
            if (!exists) return 'no reverse subscription: nothing was written on the target'
            const f = await pgFailback(o.source, o.target, o.reverseSubscription, o.roles, o.targetState, {
              sourcePasswordEnv: sp,
              targetPasswordEnv: tp,
              timeoutMs: o.timeoutMs,
            })
            return `target blocked, source caught up to ${f.lsn}, ${f.sequences} sequence(s) synced back; ${f.notes.join('; ')}`
          },
        },
        {
          name: 'drop-reverse-publication',
          run: async () =>
            pgExec(o.target, tp, `DROP PUBLICATION IF EXISTS ${await pgIdent(o.target, tp, o.reversePublication)}`),
        },
        {
          name: 'repoint-clients',
          run: async () =>
            (
              await pgbouncerRepoint(o.pgbouncer.config, o.pgbouncer.admin, o.pgbouncer.database, o.pgbouncer.source, {
                passwordEnv: o.pgbouncer.passwordEnv,
              })
            ).after,
        },
        {
          name: 'unblock-source-writes',
          run: async () => {
            const u = await pgUnblockWrites(o.source, o.sourceState, {passwordEnv: sp})
            return u.roles.length ? `${u.granted} grant(s) restored` : 'nothing was blocked'
          },
        },
        {
          name: 'resume-clients',
          window: 'close',
          run: async () =>
            pgbouncerResume(o.pgbouncer.admin, o.pgbouncer.database, {passwordEnv: o.pgbouncer.passwordEnv}),
        },
      ],
      log,
    ),
  )
}

/** Finalize: drop the reverse path (subscription on the source, its slot and publication on the target) and the forward publication. */
export async function pgFinalize(
  o: Pick<
    PgCutoverOptions,
    | 'source'
    | 'target'
    | 'subscription'
    | 'reversePublication'
    | 'reverseSubscription'
    | 'sourcePasswordEnv'
    | 'targetPasswordEnv'
  > & {publication: string},
  log: Log,
): Promise<CutoverResult> {
  const sp = o.sourcePasswordEnv
  const tp = o.targetPasswordEnv
  return runSubSteps(
    [
      {
        name: 'drop-reverse-subscription',
        run: async () =>
          (
            await pgUnsubscribe(o.source, sp, o.reverseSubscription, {
              budgetMs: 10_000,
              publisher: o.target,
              publisherPasswordEnv: tp,
            })
          ).notes.join('; '),
      },
      {
        name: 'drop-reverse-publication',
        run: async () =>
          pgExec(o.target, tp, `DROP PUBLICATION IF EXISTS ${await pgIdent(o.target, tp, o.reversePublication)}`),
      },
      {
        name: 'drop-forward-publication',
        run: async () =>
          pgExec(o.source, sp, `DROP PUBLICATION IF EXISTS ${await pgIdent(o.source, sp, o.publication)}`),
      },
      {
        name: 'drop-leftover-slots',
        run: async () => {
          const n = await withPg(
            o.source,
            sp,
            async (c) =>
              (
                await c.query(
                  'SELECT count(pg_drop_replication_slot(slot_name)) AS n FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
                  [o.subscription],
                )
              ).rows[0].n,
          )
          const m = await withPg(
            o.target,
            tp,
            async (c) =>
              (
                await c.query(
                  'SELECT count(pg_drop_replication_slot(slot_name)) AS n FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
                  [o.reverseSubscription],
                )
              ).rows[0].n,
          )
          return `${Number(n) + Number(m)} slot(s) dropped`
        },
      },
    ],
    log,
  )
}
