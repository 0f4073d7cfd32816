// The PostgreSQL cutover's pre-checks, while clients still write: what would make it fail (or outlast its bound)
// once clients are paused is refused before.
import {readFileSync} from 'node:fs'
import {MigrateError} from '../../errors.js'
import {withPg} from '../connect.js'
import {pgbouncerDatabase, rewriteDatabaseEntry} from '../pgbouncer.js'
import {describeSessions, pgApplyHealth, pgOpenTransactions, pgTableBytes} from '../pg-health.js'
import {pgReverseBlockers, pgRoleBlockers, pgVerify, pgWaitLsn} from '../postgres.js'
import type {SubStep, WindowLimits} from '../window.js'
import {type CutoverCommon, type PgPlan, refuse} from './shared.js'
import {verifyBeforeStep} from './verify-plan.js'

export async function pgIdent(url: string, pw: string | undefined, name: string): Promise<string> {
  return withPg(url, pw, async (c) => (await c.query('SELECT quote_ident($1) AS q', [name])).rows[0].q)
}

export async function pgExec(url: string, pw: string | undefined, sql: string): Promise<void> {
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

/** What would make the PostgreSQL cutover fail (or outlast its bound) once clients are paused, checked before. */
export function pgPrecheckSteps(o: PgCutoverOptions, limits: WindowLimits, plan: PgPlan): SubStep[] {
  const errors: ApplyErrors = {}
  return [
    pgPrecheckStep(o, limits, errors),
    pgLagStep(o, limits, errors),
    verifyBeforeStep(
      {
        engine: 'postgres',
        label: 'PostgreSQL',
        block: 'pause',
        verify: o.verify,
        sizes: () =>
          Promise.all([pgTableBytes(o.source, o.sourcePasswordEnv), pgTableBytes(o.target, o.targetPasswordEnv)]),
        verifyAll: (counts) =>
          pgVerify(o.source, o.target, {
            sourcePasswordEnv: o.sourcePasswordEnv,
            targetPasswordEnv: o.targetPasswordEnv,
            counts,
          }),
      },
      limits,
      plan,
    ),
  ]
}

/** The apply worker's error counts the pre-check saw: the lag check names only errors that came after. */
interface ApplyErrors {
  before?: {apply: number; sync: number}
}

/** pre-check: no long transaction PAUSE would wait for, the way back can be made, PgBouncer and the apply worker ready. */
function pgPrecheckStep(o: PgCutoverOptions, limits: WindowLimits, errors: ApplyErrors): SubStep {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  return {
    name: 'pre-check',
    boundMs: limits.maxWindowMs,
    run: async () => {
      const problems: string[] = []
      // An application transaction already open longer than PAUSE may wait would hold every client: refuse before pausing.
      const long = (await pgOpenTransactions(o.source, o.sourcePasswordEnv, 10, o.roles)).filter(
        (x) => x.xactAgeS * 1000 > limits.pauseWaitMs,
      )
      if (long.length)
        problems.push(
          `transaction(s) open longer than --pause-wait (${limits.pauseWaitMs} ms), which PgBouncer's PAUSE would wait for: ${describeSessions(long)}`,
        )
      problems.push(...(await reversePathProblems(o)))
      problems.push(...(await pgbouncerProblems(o)))
      const h = await pgApplyHealth(o.source, o.target, o.subscription, pw)
      problems.push(...h.problems)
      if (problems.length) refuse('PostgreSQL', problems)
      errors.before = {apply: h.applyErrors, sync: h.syncErrors}
      return `target ready for the way back, roles blockable, PgBouncer entry ${o.pgbouncer.database}, apply worker ${h.workerPid} running, schema in step`
    },
  }
}

/** The target can carry the reverse path and has none left over, the roles are blockable, the forward slot exists. */
async function reversePathProblems(o: PgCutoverOptions): Promise<string[]> {
  const problems: string[] = []
  const [tgt, src] = await Promise.all([
    withPg(o.target, o.targetPasswordEnv, async (c) => {
      const f = await pgReverseBlockers(c)
      const left = (
        await c.query('SELECT pubname FROM pg_publication WHERE pubname = $1', [o.reversePublication])
      ).rows.map((r) => `publication ${r.pubname}`)
      left.push(
        ...(
          await c.query('SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1', [o.reverseSubscription])
        ).rows.map((r) => `slot ${r.slot_name}`),
      )
      return {f, left}
    }),
    withPg(o.source, o.sourcePasswordEnv, async (c) => {
      const f = await pgRoleBlockers(c, o.roles)
      const left = (
        await c.query('SELECT subname FROM pg_subscription WHERE subname = $1', [o.reverseSubscription])
      ).rows.map((r) => `subscription ${r.subname} on the source`)
      const slot = (await c.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [o.subscription])).rowCount
      return {f, left, slot}
    }),
  ])
  problems.push(...[...tgt.f, ...src.f].map((f) => `${f.code}: ${f.message}`))
  if (tgt.left.length || src.left.length)
    problems.push(
      `the reverse path exists already (${[...tgt.left, ...src.left].join(', ')}): an earlier cutover left it; roll that back first`,
    )
  if (!src.slot) problems.push(`the forward slot ${o.subscription} does not exist on the source`)
  return problems
}

/** PgBouncer has the database, not paused, and its config entry can be rewritten. */
async function pgbouncerProblems(o: PgCutoverOptions): Promise<string[]> {
  const problems: string[] = []
  const db = await pgbouncerDatabase(o.pgbouncer.admin, o.pgbouncer.database, {passwordEnv: o.pgbouncer.passwordEnv})
  if (!db) problems.push(`PgBouncer has no database ${o.pgbouncer.database}`)
  else if (db.paused) problems.push(`PgBouncer database ${o.pgbouncer.database} is paused already (another cutover?)`)
  try {
    rewriteDatabaseEntry(readFileSync(o.pgbouncer.config, 'utf8'), o.pgbouncer.database, o.pgbouncer.target)
  } catch (e) {
    problems.push(`${o.pgbouncer.config}: ${e instanceof Error ? e.message : String(e)}`)
  }
  return problems
}

/**
 * pre-check-lag: the same wait as inside the pause, while clients still write: a target that cannot catch up now
 * would not catch up inside the pause either (a stopped apply worker, a stalled link, a slow subscriber).
 */
function pgLagStep(o: PgCutoverOptions, limits: WindowLimits, errors: ApplyErrors): SubStep {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  const bound = limits.maxWindowMs - limits.marginMs
  return {
    name: 'pre-check-lag',
    boundMs: limits.maxWindowMs + limits.pauseWaitMs,
    run: async () => {
      try {
        const w = await pgWaitLsn(o.source, o.subscription, {passwordEnv: o.sourcePasswordEnv, timeoutMs: bound})
        const h = await pgApplyHealth(o.source, o.target, o.subscription, {...pw, errorsBefore: errors.before})
        if (h.problems.length) refuse('PostgreSQL', h.problems)
        return `target reached the source's ${w.lsn} in ${w.waitedMs} ms while clients write`
      } catch (e) {
        if (e instanceof MigrateError && e.code === 'PG_LSN_TIMEOUT') {
          const h = await pgApplyHealth(o.source, o.target, o.subscription, {...pw, errorsBefore: errors.before})
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
  }
}
