// The write-unavailability window of each engine as ONE step: pre-checks (while clients still write) → pause/block
// → wait until the target has everything → sync → in-pause verification of what changed → promote → reverse
// replication → repoint clients → resume. Each of these is also its own `migrate db …` command, but a process start
// costs ~0.4 s of window per step on a small machine, so the template runs them in one process here. The budget
// (window.ts) bounds every wait inside the window, and the write block is probed right before the commit point; a
// failing sub-step undoes the ones before it in reverse, so the step fails as a unit and the executor rolls back
// the earlier steps. The matching *CutoverRollback functions are the step's `rollback`: idempotent, they fail back
// without losing a write made on the target.
import {readFileSync, rmSync} from 'node:fs'
import {MigrateError} from '../errors.js'
import {hostPort, parseInfo, sleep, withMysql, withPg, withRedis, withSharedConnections, myRows} from './connect.js'
import {haproxyRepoint, haproxyServerAddr} from './haproxy.js'
import {
  describeMariaSessions,
  mariadbBlockInForce,
  mariadbBlockWrites,
  mariadbFailback,
  mariadbOpenTransactions,
  mariadbPromote,
  mariadbReplicate,
  mariadbStopReplica,
  mariadbTables,
  mariadbUnblockWrites,
  mariadbVerify,
  mariadbWaitGtid,
  vars,
} from './mariadb.js'
import {
  pgbouncerDatabase,
  pgbouncerPause,
  pgbouncerRepoint,
  pgbouncerResume,
  rewriteDatabaseEntry,
} from './pgbouncer.js'
import {describeSessions, pgApplyHealth, pgOpenTransactions, pgTableBytes} from './pg-health.js'
import {
  pgBlockInForce,
  pgBlockWrites,
  pgFailback,
  pgReverseBlockers,
  pgRoleBlockers,
  pgSyncSequences,
  pgUnblockWrites,
  pgVerify,
  pgWaitLsn,
} from './postgres.js'
import {
  redisBlockInForce,
  redisCatchUp,
  redisPause,
  redisPromote,
  redisReplicate,
  redisUnpause,
  redisVerify,
  redisWaitSync,
  redisWaitingClients,
} from './redis.js'
import type {VerifyResult} from './types.js'
import {
  WINDOW_DEFAULTS,
  estimateLine,
  estimateWindowMs,
  runSubSteps,
  within,
  type BlockProbe,
  type CutoverResult,
  type Log,
  type SubStep,
  type WindowLimits,
} from './window.js'
import {publicationSql} from './managed/rds-postgres.js'
import {pgDropSlot, pgDropSubscriptionWithin, pgEnsureSubscription, pgUnsubscribe} from './pg-subscription.js'

/** Undoing the reverse path drops a subscription and a slot that were just made: bounded all the same. */
const UNDO_DROP_MS = 5000

export type {CutoverResult, Log, SubStep, SubStepResult, WindowLimits} from './window.js'
export {runSubSteps} from './window.js'
export {WINDOW_DEFAULTS} from './window.js'

/** Options every engine's cutover shares: the window's budget, and a hook before each sub-step. */
export interface CutoverCommon {
  limits?: WindowLimits
  /** Only the pre-checks: nothing changes; prints the window estimate (the template's gate states it). */
  checkOnly?: boolean
  before?: (step: string) => Promise<void> | void
}

/** A pre-check failed: the cutover is refused before any client is paused. */
function refuse(engine: string, problems: string[], code = 'CUTOVER_REFUSED'): never {
  throw new MigrateError(`${engine} cutover refused before pausing anyone: ${problems.join('; ')}`, {
    code,
    hint: 'Fix what is named above and run the step again; nothing was changed',
  })
}

/** Tables the verification before the pause could not show equal (they are being written): re-checked inside it. */
function changing(v: VerifyResult): string[] {
  return v.tables.filter((t) => !t.ok).map((t) => t.table)
}

/** The last sub-step of --check: the estimate line (the template captures it for its gate). */
function estimateStep(limits: WindowLimits, estimate: {ms: number}): SubStep {
  return {name: 'estimate', run: async () => estimateLine(estimate.ms, limits)}
}

/** Pre-check sizes: bytes of `tables` on the larger side. */
function hotBytes(tables: string[], a: Map<string, number>, b: Map<string, number>): number {
  return Math.max(
    tables.reduce((n, t) => n + (a.get(t) ?? 0), 0),
    tables.reduce((n, t) => n + (b.get(t) ?? 0), 0),
  )
}

/** In-pause checksums only for changing tables this small; larger ones are counted. */
const IN_PAUSE_CHECKSUM_BYTES = 8 * 1048576

async function pgIdent(url: string, pw: string | undefined, name: string): Promise<string> {
  return withPg(url, pw, async (c) => (await c.query('SELECT quote_ident($1) AS q', [name])).rows[0].q)
}

async function pgExec(url: string, pw: string | undefined, sql: string): Promise<void> {
  await withPg(url, pw, async (c) => {
    await c.query(sql)
  })
}

export interface PgCutoverOptions extends CutoverCommon {
  source: string
  target: string
  /** Publication on the source and subscription (and slot) of the forward path, on the target. */
  publication: string
  subscription: string
  /** libpq connection string the target uses to reach the source (to re-attach the forward path on undo). */
  sourceConninfo: string
  /** Reverse path: publication on the target, subscription on the source. */
  reversePublication: string
  reverseSubscription: string
  /** libpq connection string the source uses to reach the target (reverse replication). */
  targetConninfo: string
  roles: string[]
  /** Where the write block records what it revoked on the source / on the target (fail-back). */
  sourceState: string
  targetState: string
  pgbouncer: {
    admin: string
    config: string
    database: string
    source: {host: string; port: number; dbname?: string}
    target: {host: string; port: number; dbname?: string}
    passwordEnv?: string
  }
  /** checksums / counts: every table is compared BEFORE the pause; inside it only the tables still changing. */
  verify: 'checksums' | 'counts' | 'off'
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

interface PgPlan {
  /** Tables to re-verify inside the pause, and those of them small enough for a checksum there. */
  recheck: string[]
  recheckSums: string[]
  estimate: {ms: number}
}

/** What would make the PostgreSQL cutover fail (or outlast its bound) once clients are paused, checked before. */
function pgPrecheckSteps(o: PgCutoverOptions, limits: WindowLimits, plan: PgPlan): SubStep[] {
  const sp = o.sourcePasswordEnv
  const tp = o.targetPasswordEnv
  const pw = {sourcePasswordEnv: sp, targetPasswordEnv: tp}
  const bound = limits.maxWindowMs - limits.marginMs
  let errorsBefore: {apply: number; sync: number} | undefined
  return [
    {
      name: 'pre-check',
      boundMs: limits.maxWindowMs,
      run: async () => {
        const problems: string[] = []
        // An application transaction already open longer than PAUSE may wait would hold every client: refuse before pausing.
        const long = (await pgOpenTransactions(o.source, sp, 10, o.roles)).filter(
          (x) => x.xactAgeS * 1000 > limits.pauseWaitMs,
        )
        if (long.length)
          problems.push(
            `transaction(s) open longer than --pause-wait (${limits.pauseWaitMs} ms), which PgBouncer's PAUSE would wait for: ${describeSessions(long)}`,
          )
        const [tgt, src] = await Promise.all([
          withPg(o.target, tp, async (c) => {
            const f = await pgReverseBlockers(c)
            const left = (
              await c.query('SELECT pubname FROM pg_publication WHERE pubname = $1', [o.reversePublication])
            ).rows.map((r) => `publication ${r.pubname}`)
            left.push(
              ...(
                await c.query('SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1', [
                  o.reverseSubscription,
                ])
              ).rows.map((r) => `slot ${r.slot_name}`),
            )
            return {f, left}
          }),
          withPg(o.source, sp, async (c) => {
            const f = await pgRoleBlockers(c, o.roles)
            const left = (
              await c.query('SELECT subname FROM pg_subscription WHERE subname = $1', [o.reverseSubscription])
            ).rows.map((r) => `subscription ${r.subname} on the source`)
            const slot = (await c.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [o.subscription]))
              .rowCount
            return {f, left, slot}
          }),
        ])
        problems.push(...[...tgt.f, ...src.f].map((f) => `${f.code}: ${f.message}`))
        if (tgt.left.length || src.left.length)
          problems.push(
            `the reverse path exists already (${[...tgt.left, ...src.left].join(', ')}): an earlier cutover left it; roll that back first`,
          )
        if (!src.slot) problems.push(`the forward slot ${o.subscription} does not exist on the source`)
        const db = await pgbouncerDatabase(o.pgbouncer.admin, o.pgbouncer.database, {
          passwordEnv: o.pgbouncer.passwordEnv,
        })
        if (!db) problems.push(`PgBouncer has no database ${o.pgbouncer.database}`)
        else if (db.paused)
          problems.push(`PgBouncer database ${o.pgbouncer.database} is paused already (another cutover?)`)
        try {
          rewriteDatabaseEntry(readFileSync(o.pgbouncer.config, 'utf8'), o.pgbouncer.database, o.pgbouncer.target)
        } catch (e) {
          problems.push(`${o.pgbouncer.config}: ${e instanceof Error ? e.message : String(e)}`)
        }
        const h = await pgApplyHealth(o.source, o.target, o.subscription, pw)
        problems.push(...h.problems)
        if (problems.length) refuse('PostgreSQL', problems)
        errorsBefore = {apply: h.applyErrors, sync: h.syncErrors}
        return `target ready for the way back, roles blockable, PgBouncer entry ${o.pgbouncer.database}, apply worker ${h.workerPid} running, schema in step`
      },
    },
    {
      // The same wait as inside the pause, while clients still write: a target that cannot catch up now would not
      // catch up inside the pause either (a stopped apply worker, a stalled link, a slow subscriber).
      name: 'pre-check-lag',
      boundMs: limits.maxWindowMs + limits.pauseWaitMs,
      run: async () => {
        try {
          const w = await pgWaitLsn(o.source, o.subscription, {passwordEnv: sp, timeoutMs: bound})
          const h = await pgApplyHealth(o.source, o.target, o.subscription, {...pw, errorsBefore})
          if (h.problems.length) refuse('PostgreSQL', h.problems)
          return `target reached the source's ${w.lsn} in ${w.waitedMs} ms while clients write`
        } catch (e) {
          if (e instanceof MigrateError && e.code === 'PG_LSN_TIMEOUT') {
            const h = await pgApplyHealth(o.source, o.target, o.subscription, {...pw, errorsBefore})
            refuse(
              'PostgreSQL',
              [
                `the target did not catch up within ${bound} ms while clients still write, so it would not inside the pause (${e.message})`,
                ...h.problems,
              ],
              'PG_LAG_REFUSED',
            )
          }
          throw e
        }
      },
    },
    {
      name: 'verify-before-pause',
      run: async () => {
        const [a, b] = await Promise.all([pgTableBytes(o.source, sp), pgTableBytes(o.target, tp)])
        if (o.verify === 'off') {
          plan.estimate.ms = estimateWindowMs('postgres', 0)
          return 'verify: off'
        }
        const v = await pgVerify(o.source, o.target, {...pw, counts: o.verify === 'counts'})
        plan.recheck = changing(v)
        plan.recheckSums =
          o.verify === 'checksums'
            ? plan.recheck.filter((t) => Math.max(a.get(t) ?? 0, b.get(t) ?? 0) <= IN_PAUSE_CHECKSUM_BYTES)
            : []
        plan.estimate.ms = estimateWindowMs('postgres', hotBytes(plan.recheck, a, b))
        if (plan.estimate.ms > limits.maxWindowMs)
          refuse(
            'PostgreSQL',
            [
              `the window would take about ${plan.estimate.ms} ms (re-verifying ${plan.recheck.join(', ')} inside it), more than the ${limits.maxWindowMs} ms bound`,
            ],
            'CUTOVER_OVER_BOUND',
          )
        return `${v.tables.length - plan.recheck.length} table(s) equal (${o.verify}, ${v.durationMs} ms, outside the pause); ${plan.recheck.length ? `${plan.recheck.join(', ')} still changing: re-checked inside the pause` : 'none changing'}`
      },
    },
  ]
}

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
                  if (!verify.ok)
                    throw new MigrateError(
                      `${verify.mismatches} table(s) differ: ${verify.tables
                        .filter((t) => !t.ok)
                        .map((t) => `${t.table} ${t.sourceRows}/${t.targetRows}`)
                        .join(', ')}`,
                      {code: 'DB_VERIFY_MISMATCH'},
                    )
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
          // After the window, best effort: the forward slot no longer has a subscriber; finalize drops it if this cannot.
          name: 'drop-forward-slot',
          run: async () => {
            try {
              return await dropSlotWhenIdle(o.source, sp, o.subscription, 5000)
            } catch (e) {
              return `left for finalize: ${e instanceof Error ? e.message : String(e)}`
            }
          },
        },
      ],
      log,
      {limits, probes, before: o.before},
    )
    return {...r, verify, estimateMs: plan.estimate.ms}
  })
}

async function dropSlotWhenIdle(url: string, pw: string | undefined, slot: string, waitMs: number): Promise<string> {
  const deadline = Date.now() + waitMs
  return withPg(url, pw, async (c) => {
    for (;;) {
      const r = (await c.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0]
      if (!r) return 'no slot'
      if (!r.active) {
        await c.query('SELECT pg_drop_replication_slot($1)', [slot])
        return `slot ${slot} dropped`
      }
      if (Date.now() > deadline) return `slot ${slot} still in use; finalize drops it`
      await sleep(50)
    }
  })
}

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

export interface MariadbCutoverOptions extends CutoverCommon {
  source: string
  target: string
  users: string[]
  repl: {user: string; passwordEnv?: string}
  /** host:port of the target as the source reaches it (reverse replication). */
  targetAddr?: string
  haproxy: {api: string; server: string; source: {host: string; port: number}; target: {host: string; port: number}}
  /** checksums / counts: every table is compared BEFORE the block; inside it only the tables still changing. */
  verify: 'checksums' | 'counts' | 'off'
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

function mariadbPrecheckSteps(o: MariadbCutoverOptions, limits: WindowLimits, plan: PgPlan): SubStep[] {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  const bound = limits.maxWindowMs - limits.marginMs
  return [
    {
      name: 'pre-check',
      boundMs: limits.maxWindowMs,
      run: async () => {
        const problems: string[] = []
        // Connections open here, bounded with the step: inside the block, only queries run.
        await Promise.all([
          withMysql(o.source, o.sourcePasswordEnv, (c) => c.query('SELECT 1')),
          withMysql(o.target, o.targetPasswordEnv, (c) => c.query('SELECT 1')),
        ])
        const srcPort = hostPort(o.source, 3306).port
        // A statement already running longer than read_only may wait for would make the block fail: refuse now.
        const long = await withMysql(o.source, o.sourcePasswordEnv, async (c) =>
          (await mariadbOpenTransactions(c, 10)).filter(
            (x) => x.command === 'Query' && x.timeS * 1000 > limits.pauseWaitMs,
          ),
        )
        if (long.length)
          problems.push(
            `statement(s) running longer than --pause-wait (${limits.pauseWaitMs} ms), which read_only would wait for: ${describeMariaSessions(long)}`,
          )
        await withMysql(o.target, o.targetPasswordEnv, async (c) => {
          const s = (await myRows(c, 'SHOW SLAVE STATUS'))[0]
          if (!s) problems.push('the target is not a replica')
          else {
            if (s.Slave_IO_Running !== 'Yes' || s.Slave_SQL_Running !== 'Yes')
              problems.push(
                `the target's replica threads are IO ${s.Slave_IO_Running}, SQL ${s.Slave_SQL_Running}${s.Last_IO_Error || s.Last_SQL_Error ? `: ${s.Last_IO_Error || s.Last_SQL_Error}` : ''}`,
              )
            if (Number(s.Master_Port) !== srcPort && Number(s.Master_Port) !== o.haproxy.source.port)
              problems.push(`the target replicates from ${s.Master_Host}:${s.Master_Port}, not from the source`)
          }
          const v = await vars(c, ['log_bin', 'log_slave_updates'])
          if (v.log_bin !== '1' || v.log_slave_updates !== '1')
            problems.push(
              'MARIADB_TARGET_BINLOG: the target does not log (log_bin + log_slave_updates), so the reverse replication the cutover sets up would fail',
            )
          const repl = await myRows(c, 'SELECT COUNT(*) AS n FROM mysql.user WHERE User = ?', [o.repl.user])
          if (Number(repl[0].n) === 0)
            problems.push(
              `replication user ${o.repl.user} does not exist on the target: the source could not replicate back from it`,
            )
        })
        await withMysql(o.source, o.sourcePasswordEnv, async (c) => {
          const bypass = await myRows(
            c,
            "SELECT GRANTEE AS g FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'READ ONLY ADMIN'",
          )
          const apps = bypass.map((r) => String(r.g)).filter((g) => o.users.some((u) => g.startsWith(`'${u}'@`)))
          if (apps.length)
            problems.push(
              `application account(s) ${apps.join(', ')} hold READ ONLY ADMIN: read_only cannot block their writes`,
            )
        })
        if (problems.length) refuse('MariaDB', problems)
        return 'target replicates from the source with both threads running, logs for the way back, repl user present'
      },
    },
    {
      name: 'pre-check-lag',
      boundMs: limits.maxWindowMs + limits.pauseWaitMs,
      run: async () => {
        try {
          const w = await mariadbWaitGtid(o.source, o.target, {...pw, timeoutMs: bound})
          return `target reached ${w.gtid} in ${w.waitedMs} ms while clients write`
        } catch (e) {
          if (e instanceof MigrateError && e.code === 'MARIADB_GTID_TIMEOUT')
            refuse(
              'MariaDB',
              [
                `the target did not catch up within ${bound} ms while clients still write, so it would not inside the block (${e.message})`,
              ],
              'MARIADB_LAG_REFUSED',
            )
          throw e
        }
      },
    },
    {
      name: 'verify-before-block',
      run: async () => {
        const sizes = async (url: string, env?: string) =>
          withMysql(url, env, async (c) => new Map((await mariadbTables(c)).map((t) => [`${t.s}.${t.t}`, t.bytes])))
        const [a, b] = await Promise.all([sizes(o.source, o.sourcePasswordEnv), sizes(o.target, o.targetPasswordEnv)])
        if (o.verify === 'off') {
          plan.estimate.ms = estimateWindowMs('mariadb', 0)
          return 'verify: off'
        }
        const v = await mariadbVerify(o.source, o.target, {...pw, counts: o.verify === 'counts'})
        plan.recheck = changing(v)
        plan.recheckSums =
          o.verify === 'checksums'
            ? plan.recheck.filter((t) => Math.max(a.get(t) ?? 0, b.get(t) ?? 0) <= IN_PAUSE_CHECKSUM_BYTES)
            : []
        plan.estimate.ms = estimateWindowMs('mariadb', hotBytes(plan.recheck, a, b))
        if (plan.estimate.ms > limits.maxWindowMs)
          refuse(
            'MariaDB',
            [
              `the window would take about ${plan.estimate.ms} ms (re-verifying ${plan.recheck.join(', ')} inside it), more than the ${limits.maxWindowMs} ms bound`,
            ],
            'CUTOVER_OVER_BOUND',
          )
        return `${v.tables.length - plan.recheck.length} table(s) equal (${o.verify}, ${v.durationMs} ms, outside the block); ${plan.recheck.length ? `${plan.recheck.join(', ')} still changing: re-checked inside the block` : 'none changing'}`
      },
    },
  ]
}

/** MariaDB cutover behind HAProxy: writes fail (read_only) during the window; clients retry. */
export async function mariadbCutover(o: MariadbCutoverOptions, log: Log): Promise<CutoverResult> {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  const limits = o.limits ?? WINDOW_DEFAULTS
  const plan: PgPlan = {recheck: [], recheckSums: [], estimate: {ms: 0}}
  let verify: VerifyResult | undefined
  let gtid: string | undefined
  const r = await withSharedConnections(async () => {
    const pre = mariadbPrecheckSteps(o, limits, plan)
    if (o.checkOnly) return runSubSteps([...pre, estimateStep(limits, plan.estimate)], log, {limits, before: o.before})
    return runSubSteps(
      [
        ...pre,
        {
          name: 'block-source-writes',
          window: 'open',
          run: async () =>
            `read_only on, ${(await mariadbBlockWrites(o.source, o.users, {passwordEnv: o.sourcePasswordEnv, timeoutMs: limits.pauseWaitMs})).killed} connection(s) killed`,
          undo: () => mariadbUnblockWrites(o.source, {passwordEnv: o.sourcePasswordEnv}),
        },
        {
          name: 'wait-target-gtid',
          run: async (ctx) => {
            gtid = (
              await mariadbWaitGtid(o.source, o.target, {...pw, timeoutMs: Math.min(o.timeoutMs, ctx.remainingMs())})
            ).gtid
            return `target reached ${gtid}`
          },
        },
        ...(o.verify === 'off'
          ? []
          : [
              {
                name: 'verify',
                run: async () => {
                  if (plan.recheck.length === 0)
                    return "every table was equal before the block; the target has the source's last GTID"
                  verify = await mariadbVerify(o.source, o.target, {
                    ...pw,
                    counts: true,
                    tables: plan.recheck,
                    checksumTables: plan.recheckSums,
                  })
                  if (!verify.ok)
                    throw new MigrateError(
                      `${verify.mismatches} table(s) differ: ${verify.tables
                        .filter((t) => !t.ok)
                        .map((t) => `${t.table} ${t.sourceRows}/${t.targetRows}`)
                        .join(', ')}`,
                      {code: 'DB_VERIFY_MISMATCH'},
                    )
                  return `${verify.tables.length} changing table(s) equal (${plan.recheckSums.length} with CHECKSUM TABLE, the rest counted)`
                },
              } satisfies SubStep,
            ]),
        {
          name: 'promote-target',
          commit: true,
          run: async () =>
            `gtid_binlog_pos ${(await mariadbPromote(o.target, {passwordEnv: o.targetPasswordEnv})).gtidBinlogPos}`,
          // Also the undo of a promotion that was given up on midway: read-only again, replicating again if it can.
          undo: () =>
            withMysql(o.target, o.targetPasswordEnv, async (c) => {
              await c.query('SET GLOBAL read_only = 1')
              if ((await myRows(c, 'SHOW SLAVE STATUS')).length) await c.query('START SLAVE')
            }),
        },
        {
          name: 'reverse-replication',
          run: async () =>
            `source replicates from ${(await mariadbReplicate(o.target, o.source, {user: o.repl.user, passwordEnv: o.repl.passwordEnv, sourceAddr: o.targetAddr, fromOwnBinlog: true}, {targetPasswordEnv: o.sourcePasswordEnv})).master}`,
          undo: () => mariadbStopReplica(o.source, {passwordEnv: o.sourcePasswordEnv}),
        },
        {
          name: 'repoint-clients',
          window: 'close',
          run: async () => {
            await haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.target)
            return `${o.haproxy.server} → ${o.haproxy.target.host}:${o.haproxy.target.port}`
          },
          undo: () => haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source),
        },
      ],
      log,
      {
        limits,
        before: o.before,
        probes: [
          {
            name: 'read_only on the source, no write since the target caught up',
            check: () => mariadbBlockInForce(o.source, gtid, o.sourcePasswordEnv),
          },
        ],
      },
    )
  })
  return {...r, verify, estimateMs: plan.estimate.ms}
}

export async function mariadbCutoverRollback(o: MariadbCutoverOptions, log: Log): Promise<CutoverResult> {
  return withSharedConnections(() =>
    runSubSteps(
      [
        {
          name: 'fail-back',
          window: 'open',
          run: async () => {
            const replicating = await withMysql(
              o.source,
              o.sourcePasswordEnv,
              async (c) => (await myRows(c, 'SHOW SLAVE STATUS')).length > 0,
            )
            if (!replicating) return 'the source does not replicate from the target: nothing to bring back'
            const f = await mariadbFailback(o.source, o.target, o.users, {
              sourcePasswordEnv: o.sourcePasswordEnv,
              targetPasswordEnv: o.targetPasswordEnv,
              timeoutMs: o.timeoutMs,
            })
            return `target blocked, source caught up to ${f.gtid}`
          },
        },
        {
          name: 'repoint-clients',
          run: async () => {
            await haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source)
            return `${o.haproxy.server} → ${o.haproxy.source.host}:${o.haproxy.source.port}`
          },
        },
        {
          name: 'unblock-source-writes',
          window: 'close',
          run: async () => mariadbUnblockWrites(o.source, {passwordEnv: o.sourcePasswordEnv}),
        },
      ],
      log,
    ),
  )
}

export interface RedisCutoverOptions extends CutoverCommon {
  source: string
  target: string
  /** host:port of the target as the source reaches it (reverse replication), and of the source as the target does. */
  targetAddr?: string
  sourceAddr?: string
  haproxy: {api: string; server: string; source: {host: string; port: number}; target: {host: string; port: number}}
  /** CLIENT PAUSE of a fail-back (--rollback); the cutover pauses for exactly limits.maxWindowMs. */
  pauseMs: number
  verify: 'counts' | 'off'
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

/** Redis cutover behind HAProxy: writers wait under CLIENT PAUSE WRITE, then reconnect to the promoted target. */
export async function redisCutover(o: RedisCutoverOptions, log: Log): Promise<CutoverResult> {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  const limits = o.limits ?? WINDOW_DEFAULTS
  const estimate = {ms: estimateWindowMs('redis', 0)}
  let verify: VerifyResult | undefined
  let offset: number | undefined
  const sourceAddr = o.sourceAddr ? hostPort(`tcp://${o.sourceAddr}`, 6379) : hostPort(o.source, 6379)
  const r = await withSharedConnections(async () => {
    const pre: SubStep[] = [
      {
        // A stalled or broken replica link, a stopped replica, a busy script on the source: refused before pausing.
        name: 'pre-check',
        boundMs: limits.maxWindowMs + limits.pauseWaitMs,
        run: async () => {
          const busy = await withRedis(o.source, o.sourcePasswordEnv, (c) =>
            within(limits.pauseWaitMs, `PING ${o.source}`, c.ping(), 'REDIS_PAUSE_TIMEOUT'),
          ).catch((e) => e as Error)
          if (busy instanceof Error)
            refuse(
              'Redis',
              [
                /\bBUSY\b/.test(busy.message)
                  ? 'the source is running a Lua script or function (BUSY): CLIENT PAUSE would not be taken; wait for it or SCRIPT KILL / FUNCTION KILL it'
                  : busy.message,
              ],
              'REDIS_PAUSE_BLOCKED',
            )
          const [addr] = await Promise.all([haproxyServerAddr(o.haproxy.api, o.haproxy.server)])
          if (addr.port !== o.haproxy.source.port)
            refuse('Redis', [
              `HAProxy ${o.haproxy.server} points at ${addr.host}:${addr.port}, not at the source ${o.haproxy.source.host}:${o.haproxy.source.port}`,
            ])
          try {
            const w = await redisCatchUp(o.source, o.target, {
              ...pw,
              timeoutMs: limits.maxWindowMs - limits.marginMs,
              sourceAddr,
            })
            const waiting = await redisWaitingClients(o.source, o.sourcePasswordEnv)
            return `target at the source's offset ${w.offset} after ${w.waitedMs} ms while clients write${waiting.length ? `; their next write waits out the pause: ${waiting.join('; ')}` : ''}`
          } catch (e) {
            if (e instanceof MigrateError && /REDIS_(LAG_TIMEOUT|NOT_REPLICA|WRONG_MASTER)/.test(e.code))
              refuse('Redis', [e.message], e.code === 'REDIS_LAG_TIMEOUT' ? 'REDIS_LAG_REFUSED' : e.code)
            throw e
          }
        },
      },
    ]
    if (o.checkOnly) return runSubSteps([...pre, estimateStep(limits, estimate)], log, {limits, before: o.before})
    return runSubSteps(
      [
        ...pre,
        // The pause lasts exactly the window's bound: waits inside are bounded by it, and the commit point checks it.
        {
          name: 'pause-source-writes',
          window: 'open',
          run: async () => {
            await redisPause(o.source, limits.maxWindowMs, {
              passwordEnv: o.sourcePasswordEnv,
              waitMs: limits.pauseWaitMs,
            })
            return `CLIENT PAUSE ${limits.maxWindowMs} WRITE`
          },
          undo: () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv}),
        },
        {
          name: 'wait-offsets-equal',
          run: async (ctx) => {
            offset = (
              await redisWaitSync(o.source, o.target, {...pw, timeoutMs: Math.min(o.timeoutMs, ctx.remainingMs())})
            ).offset
            return `offset ${offset}`
          },
        },
        ...(o.verify === 'off'
          ? []
          : [
              {
                name: 'verify',
                run: async () => {
                  verify = await redisVerify(o.source, o.target, pw)
                  if (!verify.ok)
                    throw new MigrateError(
                      `key counts differ: ${verify.tables
                        .filter((t) => !t.ok)
                        .map((t) => `${t.table} ${t.sourceRows}/${t.targetRows}`)
                        .join(', ')}`,
                      {code: 'DB_VERIFY_MISMATCH'},
                    )
                  return verify.tables.map((t) => `${t.table} ${t.sourceRows} keys`).join(', ') || 'no keys'
                },
              } satisfies SubStep,
            ]),
        {
          name: 'promote-target',
          commit: true,
          run: async () => redisPromote(o.target, {passwordEnv: o.targetPasswordEnv}),
          undo: () =>
            redisReplicate(o.source, o.target, {sourceAddr: o.sourceAddr, targetPasswordEnv: o.targetPasswordEnv}),
        },
        {
          name: 'repoint-clients',
          run: async () => {
            await haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.target)
            return `${o.haproxy.server} → ${o.haproxy.target.host}:${o.haproxy.target.port}, old sessions ended`
          },
          undo: () => haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source),
        },
        {
          name: 'reverse-replication',
          run: async (ctx) => {
            // Still inside the pause? A write that reached the source after the target caught up would be dropped by
            // the resync: stop here (the undo chain brings the clients and the primary role back to the source).
            if (ctx.untilDeadlineMs() <= 0)
              throw new MigrateError(`the pause ran out before the source became a replica`, {
                code: 'WRITE_BLOCK_LAPSED',
              })
            await redisBlockInForce(o.source, offset!, o.sourcePasswordEnv)
            return `source replicates from ${(await redisReplicate(o.target, o.source, {sourceAddr: o.targetAddr, targetPasswordEnv: o.sourcePasswordEnv})).master}`
          },
          undo: () => redisPromote(o.source, {passwordEnv: o.sourcePasswordEnv}),
        },
        {
          name: 'unpause-source',
          window: 'close',
          run: async () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv}),
        },
      ],
      log,
      {
        limits,
        before: o.before,
        probes: [
          {
            name: 'source paused, offset unchanged',
            check: () => redisBlockInForce(o.source, offset!, o.sourcePasswordEnv),
          },
        ],
      },
    )
  })
  return {...r, verify, estimateMs: estimate.ms}
}

/** Fails back the same way, with the same guarantees: the target's pause bounds the wait, and is probed before the source is promoted. */
export async function redisCutoverRollback(o: RedisCutoverOptions, log: Log): Promise<CutoverResult> {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  const base = o.limits ?? WINDOW_DEFAULTS
  const limits = {...base, maxWindowMs: Math.max(base.maxWindowMs, o.pauseMs)}
  let offset: number | undefined
  let replica = true
  return withSharedConnections(() =>
    runSubSteps(
      [
        {
          name: 'pause-target',
          window: 'open',
          run: async () => {
            replica =
              (await withRedis(
                o.source,
                o.sourcePasswordEnv,
                async (r) => parseInfo(String(await r.info('replication'))).role,
              )) === 'slave'
            if (!replica) return 'the source is primary: nothing to bring back'
            await redisPause(o.target, limits.maxWindowMs, {
              passwordEnv: o.targetPasswordEnv,
              waitMs: limits.pauseWaitMs,
            })
            return `CLIENT PAUSE ${limits.maxWindowMs} WRITE on the target`
          },
          undo: () => redisUnpause(o.target, {passwordEnv: o.targetPasswordEnv}),
        },
        {
          name: 'wait-source-caught-up',
          run: async (ctx) => {
            if (!replica) return
            offset = (
              await redisWaitSync(o.target, o.source, {
                sourcePasswordEnv: o.targetPasswordEnv,
                targetPasswordEnv: o.sourcePasswordEnv,
                timeoutMs: Math.min(o.timeoutMs, ctx.remainingMs()),
              })
            ).offset
            return `source at the target's offset ${offset}`
          },
        },
        {
          name: 'promote-source',
          commit: true,
          run: async () => {
            if (replica) await redisPromote(o.source, {passwordEnv: o.sourcePasswordEnv})
          },
          undo: () =>
            redisReplicate(o.target, o.source, {sourceAddr: o.targetAddr, targetPasswordEnv: o.sourcePasswordEnv}),
        },
        {
          name: 'repoint-clients',
          run: async () => {
            await haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source)
            return `${o.haproxy.server} → ${o.haproxy.source.host}:${o.haproxy.source.port}`
          },
        },
        {name: 'unpause-source', run: async () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv})},
        {
          name: 'demote-target',
          window: 'close',
          run: async (ctx) => {
            if (offset !== undefined) {
              if (ctx.untilDeadlineMs() <= 0)
                throw new MigrateError('the pause on the target ran out before it became a replica', {
                  code: 'WRITE_BLOCK_LAPSED',
                })
              await redisBlockInForce(o.target, offset, o.targetPasswordEnv)
            }
            return `target replicates from ${(await redisReplicate(o.source, o.target, {sourceAddr: o.sourceAddr, unpause: true, ...pw})).master}`
          },
        },
      ],
      log,
      {
        limits,
        probes: [
          {
            name: 'target paused, offset unchanged',
            check: async () =>
              void (offset !== undefined && (await redisBlockInForce(o.target, offset, o.targetPasswordEnv))),
          },
        ],
      },
    ),
  )
}

/** Removes a file the block steps wrote, once the way back is gone (finalize). */
export function forgetState(file: string): void {
  rmSync(file, {force: true})
}
