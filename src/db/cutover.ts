// The write-unavailability window of each engine as ONE step: pause/block → wait until the target has everything →
// sync → verify → promote → reverse replication → repoint clients → resume. Each of these is also its own
// `migrate db …` command, but a process start costs ~0.4 s of window per step on a small machine, so the template
// runs them in one process here. Sub-steps are logged with their timings (the executor keeps the output tail in the
// journal); a failing sub-step undoes the ones before it in reverse, so the step fails as a unit and the executor
// rolls back the earlier steps. The matching *CutoverRollback functions are the step's `rollback`: idempotent,
// they fail back without losing a write made on the target.
import {rmSync} from 'node:fs'
import {MigrateError} from '../errors.js'
import {parseInfo, sleep, withMysql, withPg, withRedis, withSharedConnections, myRows} from './connect.js'
import {haproxyRepoint} from './haproxy.js'
import {mariadbBlockWrites, mariadbFailback, mariadbPromote, mariadbReplicate, mariadbStopReplica, mariadbUnblockWrites, mariadbVerify, mariadbWaitGtid} from './mariadb.js'
import {pgbouncerPause, pgbouncerRepoint, pgbouncerResume} from './pgbouncer.js'
import {pgBlockWrites, pgFailback, pgSyncSequences, pgUnblockWrites, pgVerify, pgWaitLsn} from './postgres.js'
import {redisPause, redisPromote, redisReplicate, redisUnpause, redisVerify, redisWaitSync} from './redis.js'
import type {VerifyResult} from './types.js'

export interface SubStepResult {
  name: string
  ms: number
  note?: string
}

export interface CutoverResult {
  steps: SubStepResult[]
  /** From the first pause/block to the resume: the window in which writes wait or fail. */
  windowMs: number
  totalMs: number
  verify?: VerifyResult
}

export interface SubStep {
  name: string
  run: () => Promise<string | void>
  undo?: () => Promise<unknown>
  /** Opens (or closes) the write-unavailability window. */
  window?: 'open' | 'close'
}

export type Log = (line: string) => void

/** Set when SIGTERM/SIGINT arrives during a cutover: no new sub-step starts, the done ones are undone. */
const interrupt = new AbortController()

export async function runSubSteps(steps: SubStep[], log: Log): Promise<CutoverResult> {
  // The executor stops a step with SIGTERM (SIGKILL a few seconds later): undo instead of dying mid-window.
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping after the current sub-step`)
    interrupt.abort()
  }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  try {
    return await runSubStepsInner(steps, log)
  } finally {
    process.removeListener('SIGTERM', onSignal)
    process.removeListener('SIGINT', onSignal)
  }
}

async function runSubStepsInner(steps: SubStep[], log: Log): Promise<CutoverResult> {
  const t0 = performance.now()
  const done: SubStepResult[] = []
  let opened: number | undefined
  let closed: number | undefined
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]
    const st = performance.now()
    if (s.window === 'open') opened = st
    try {
      if (interrupt.signal.aborted) throw new MigrateError('interrupted', {code: 'INTERRUPTED'})
      const note = (await s.run()) ?? undefined
      const ms = Math.round(performance.now() - st)
      done.push({name: s.name, ms, note})
      log(`ok   ${s.name} (${ms} ms)${note ? `: ${note}` : ''}`)
      if (s.window === 'close') closed = performance.now()
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e)
      log(`FAIL ${s.name}: ${msg}`)
      const undone: string[] = []
      for (let j = i - 1; j >= 0; j--) {
        const u = steps[j].undo
        if (!u) continue
        try {
          await u()
          undone.push(steps[j].name)
          log(`undo ${steps[j].name}`)
        } catch (ue) {
          log(`undo ${steps[j].name} FAILED: ${ue instanceof Error ? ue.message : String(ue)}`)
        }
      }
      throw new MigrateError(`cutover stopped at ${s.name}: ${msg}`, {
        code: e instanceof MigrateError ? e.code : 'CUTOVER_FAILED',
        hint: undone.length ? `Undone in reverse: ${undone.join(', ')}; the source is primary again` : 'Nothing had changed yet',
        data: {steps: done, failed: s.name},
        cause: e,
      })
    }
  }
  const end = performance.now()
  return {steps: done, windowMs: Math.round((closed ?? end) - (opened ?? t0)), totalMs: Math.round(end - t0)}
}

async function pgIdent(url: string, pw: string | undefined, name: string): Promise<string> {
  return withPg(url, pw, async (c) => (await c.query('SELECT quote_ident($1) AS q', [name])).rows[0].q)
}

async function pgExec(url: string, pw: string | undefined, sql: string): Promise<void> {
  await withPg(url, pw, async (c) => {
    await c.query(sql)
  })
}

export interface PgCutoverOptions {
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
  pgbouncer: {admin: string; config: string; database: string; source: {host: string; port: number; dbname?: string}; target: {host: string; port: number; dbname?: string}; passwordEnv?: string}
  verify: 'checksums' | 'counts' | 'off'
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

/** PostgreSQL cutover behind PgBouncer: clients wait during the window, they see no error. */
export async function pgCutover(o: PgCutoverOptions, log: Log): Promise<CutoverResult> {
  const sp = o.sourcePasswordEnv
  const tp = o.targetPasswordEnv
  const pw = {sourcePasswordEnv: sp, targetPasswordEnv: tp}
  let verify: VerifyResult | undefined
  return withSharedConnections(async () => {
    // Connections are opened before the pause: inside it, only queries run.
    const [sub, rpub, rsub] = await Promise.all([pgIdent(o.target, tp, o.subscription), pgIdent(o.target, tp, o.reversePublication), pgIdent(o.source, sp, o.reverseSubscription)])
    const pub = await pgIdent(o.source, sp, o.publication)
    await withPg(o.pgbouncer.admin, o.pgbouncer.passwordEnv, async (c) => void (await c.query('SHOW VERSION')))
    const r = await runSubSteps(
      [
        {name: 'pause-clients', window: 'open', run: async () => pgbouncerPause(o.pgbouncer.admin, o.pgbouncer.database, {passwordEnv: o.pgbouncer.passwordEnv, timeoutMs: o.timeoutMs}), undo: () => pgbouncerResume(o.pgbouncer.admin, o.pgbouncer.database, {passwordEnv: o.pgbouncer.passwordEnv})},
        {
          name: 'block-source-writes',
          run: async () => {
            const b = await pgBlockWrites(o.source, o.roles, o.sourceState, {passwordEnv: sp})
            return `${b.revoked} grant(s) revoked, ${b.terminated} session(s) ended`
          },
          undo: () => pgUnblockWrites(o.source, o.sourceState, {passwordEnv: sp}),
        },
        {name: 'wait-target-lsn', run: async () => {
          const w = await pgWaitLsn(o.source, o.subscription, {passwordEnv: sp, timeoutMs: o.timeoutMs, signal: interrupt.signal})
          return `confirmed ${w.confirmed} ≥ ${w.lsn}`
        }},
        {name: 'sync-sequences', run: async () => `${(await pgSyncSequences(o.source, o.target, pw)).sequences.length} sequence(s)`},
        ...(o.verify === 'off'
          ? []
          : [{name: 'verify', run: async () => {
              verify = await pgVerify(o.source, o.target, {...pw, counts: o.verify === 'counts'})
              if (!verify.ok) throw new MigrateError(`${verify.mismatches} table(s) differ: ${verify.tables.filter((t) => !t.ok).map((t) => `${t.table} ${t.sourceRows}/${t.targetRows}`).join(', ')}`, {code: 'DB_VERIFY_MISMATCH'})
              return `${verify.tables.length} table(s) equal (${o.verify})`
            }} satisfies SubStep]),
        {
          // Detach without touching the source: the slot stays there until after the pause (and is the way back).
          name: 'stop-forward-replication',
          run: async () => {
            await pgExec(o.target, tp, `ALTER SUBSCRIPTION ${sub} DISABLE`)
            await pgExec(o.target, tp, `ALTER SUBSCRIPTION ${sub} SET (slot_name = NONE)`)
            await pgExec(o.target, tp, `DROP SUBSCRIPTION ${sub}`)
          },
          undo: async () =>
            withPg(o.target, tp, async (c) => {
              const conn = (await c.query('SELECT quote_literal($1) AS q, quote_literal($2) AS s', [o.sourceConninfo, o.subscription])).rows[0]
              await c.query(`CREATE SUBSCRIPTION ${sub} CONNECTION ${conn.q} PUBLICATION ${pub} WITH (create_slot = false, slot_name = ${conn.s}, copy_data = false)`)
            }),
        },
        {
          name: 'reverse-publication',
          run: async () => pgExec(o.target, tp, `CREATE PUBLICATION ${rpub} FOR ALL TABLES`),
          undo: async () => pgExec(o.target, tp, `DROP PUBLICATION IF EXISTS ${rpub}`),
        },
        {
          name: 'reverse-slot',
          run: async () =>
            withPg(o.target, tp, async (c) => `slot at ${(await c.query("SELECT lsn::text AS l FROM pg_create_logical_replication_slot($1, 'pgoutput')", [o.reverseSubscription])).rows[0].l}`),
          undo: async () => withPg(o.target, tp, async (c) => c.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [o.reverseSubscription])),
        },
        {
          name: 'reverse-subscription',
          run: async () =>
            withPg(o.source, sp, async (c) => {
              const q = (await c.query('SELECT quote_literal($1) AS conn, quote_literal($2) AS slot', [o.targetConninfo, o.reverseSubscription])).rows[0]
              await c.query(`CREATE SUBSCRIPTION ${rsub} CONNECTION ${q.conn} PUBLICATION ${rpub} WITH (create_slot = false, slot_name = ${q.slot}, copy_data = false)`)
            }),
          undo: async () =>
            withPg(o.source, sp, async (c) => {
              if ((await c.query('SELECT 1 FROM pg_subscription WHERE subname = $1', [o.reverseSubscription])).rowCount === 0) return
              await c.query(`ALTER SUBSCRIPTION ${rsub} DISABLE`)
              await c.query(`ALTER SUBSCRIPTION ${rsub} SET (slot_name = NONE)`)
              await c.query(`DROP SUBSCRIPTION ${rsub}`)
            }),
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
          run: async () => (await pgbouncerRepoint(o.pgbouncer.config, o.pgbouncer.admin, o.pgbouncer.database, o.pgbouncer.target, {passwordEnv: o.pgbouncer.passwordEnv})).after,
          undo: () => pgbouncerRepoint(o.pgbouncer.config, o.pgbouncer.admin, o.pgbouncer.database, o.pgbouncer.source, {passwordEnv: o.pgbouncer.passwordEnv}),
        },
        {name: 'resume-clients', window: 'close', run: async () => pgbouncerResume(o.pgbouncer.admin, o.pgbouncer.database, {passwordEnv: o.pgbouncer.passwordEnv})},
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
    )
    return {...r, verify}
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
  return withSharedConnections(() => runSubSteps(
    [
      {name: 'pause-clients', window: 'open', run: async () => pgbouncerPause(o.pgbouncer.admin, o.pgbouncer.database, {passwordEnv: o.pgbouncer.passwordEnv, timeoutMs: o.timeoutMs})},
      {
        name: 'fail-back',
        run: async () => {
          const exists = await withPg(o.source, sp, async (c) => (await c.query('SELECT 1 FROM pg_subscription WHERE subname = $1', [o.reverseSubscription])).rowCount! > 0)
          if (!exists) return 'no reverse subscription: nothing was written on the target'
          const f = await pgFailback(o.source, o.target, o.reverseSubscription, o.roles, o.targetState, {sourcePasswordEnv: sp, targetPasswordEnv: tp, timeoutMs: o.timeoutMs})
          return `target blocked, source caught up to ${f.lsn}, ${f.sequences} sequence(s) synced back`
        },
      },
      {name: 'drop-reverse-publication', run: async () => pgExec(o.target, tp, `DROP PUBLICATION IF EXISTS ${await pgIdent(o.target, tp, o.reversePublication)}`)},
      {name: 'repoint-clients', run: async () => (await pgbouncerRepoint(o.pgbouncer.config, o.pgbouncer.admin, o.pgbouncer.database, o.pgbouncer.source, {passwordEnv: o.pgbouncer.passwordEnv})).after},
      {name: 'unblock-source-writes', run: async () => {
        const u = await pgUnblockWrites(o.source, o.sourceState, {passwordEnv: sp})
        return u.roles.length ? `${u.granted} grant(s) restored` : 'nothing was blocked'
      }},
      {name: 'resume-clients', window: 'close', run: async () => pgbouncerResume(o.pgbouncer.admin, o.pgbouncer.database, {passwordEnv: o.pgbouncer.passwordEnv})},
    ],
    log,
  ))
}

/** Finalize: drop the reverse path (subscription on the source, its slot and publication on the target) and the forward publication. */
export async function pgFinalize(o: Pick<PgCutoverOptions, 'source' | 'target' | 'subscription' | 'reversePublication' | 'reverseSubscription' | 'sourcePasswordEnv' | 'targetPasswordEnv'> & {publication: string}, log: Log): Promise<CutoverResult> {
  const sp = o.sourcePasswordEnv
  const tp = o.targetPasswordEnv
  return runSubSteps(
    [
      {name: 'drop-reverse-subscription', run: async () => pgExec(o.source, sp, `DROP SUBSCRIPTION IF EXISTS ${await pgIdent(o.source, sp, o.reverseSubscription)}`)},
      {name: 'drop-reverse-publication', run: async () => pgExec(o.target, tp, `DROP PUBLICATION IF EXISTS ${await pgIdent(o.target, tp, o.reversePublication)}`)},
      {name: 'drop-forward-publication', run: async () => pgExec(o.source, sp, `DROP PUBLICATION IF EXISTS ${await pgIdent(o.source, sp, o.publication)}`)},
      {
        name: 'drop-leftover-slots',
        run: async () => {
          const n = await withPg(o.source, sp, async (c) => (await c.query('SELECT count(pg_drop_replication_slot(slot_name)) AS n FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [o.subscription])).rows[0].n)
          const m = await withPg(o.target, tp, async (c) => (await c.query('SELECT count(pg_drop_replication_slot(slot_name)) AS n FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [o.reverseSubscription])).rows[0].n)
          return `${Number(n) + Number(m)} slot(s) dropped`
        },
      },
    ],
    log,
  )
}

export interface MariadbCutoverOptions {
  source: string
  target: string
  users: string[]
  repl: {user: string; passwordEnv?: string}
  /** host:port of the target as the source reaches it (reverse replication). */
  targetAddr?: string
  haproxy: {api: string; server: string; source: {host: string; port: number}; target: {host: string; port: number}}
  verify: 'checksums' | 'off'
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

/** MariaDB cutover behind HAProxy: writes fail (read_only) during the window; clients retry. */
export async function mariadbCutover(o: MariadbCutoverOptions, log: Log): Promise<CutoverResult> {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  let verify: VerifyResult | undefined
  const r = await withSharedConnections(async () => {
   await Promise.all([withMysql(o.source, o.sourcePasswordEnv, (c) => c.query('SELECT 1')), withMysql(o.target, o.targetPasswordEnv, (c) => c.query('SELECT 1'))])
   return runSubSteps(
    [
      {name: 'block-source-writes', window: 'open', run: async () => `read_only on, ${(await mariadbBlockWrites(o.source, o.users, {passwordEnv: o.sourcePasswordEnv})).killed} connection(s) killed`, undo: () => mariadbUnblockWrites(o.source, {passwordEnv: o.sourcePasswordEnv})},
      {name: 'wait-target-gtid', run: async () => `target reached ${(await mariadbWaitGtid(o.source, o.target, {...pw, timeoutMs: o.timeoutMs})).gtid}`},
      ...(o.verify === 'off'
        ? []
        : [{name: 'verify', run: async () => {
            verify = await mariadbVerify(o.source, o.target, pw)
            if (!verify.ok) throw new MigrateError(`${verify.mismatches} table(s) differ: ${verify.tables.filter((t) => !t.ok).map((t) => `${t.table} ${t.sourceRows}/${t.targetRows}`).join(', ')}`, {code: 'DB_VERIFY_MISMATCH'})
            return `${verify.tables.length} table(s) equal (count + CHECKSUM TABLE)`
          }} satisfies SubStep]),
      {name: 'promote-target', run: async () => `gtid_binlog_pos ${(await mariadbPromote(o.target, {passwordEnv: o.targetPasswordEnv})).gtidBinlogPos}`, undo: () => withMysql(o.target, o.targetPasswordEnv, (c) => c.query('SET GLOBAL read_only = 1'))},
      {
        name: 'reverse-replication',
        run: async () => `source replicates from ${(await mariadbReplicate(o.target, o.source, {user: o.repl.user, passwordEnv: o.repl.passwordEnv, sourceAddr: o.targetAddr, fromOwnBinlog: true}, {targetPasswordEnv: o.sourcePasswordEnv})).master}`,
        undo: () => mariadbStopReplica(o.source, {passwordEnv: o.sourcePasswordEnv}),
      },
      {name: 'repoint-clients', window: 'close', run: async () => {
        await haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.target)
        return `${o.haproxy.server} → ${o.haproxy.target.host}:${o.haproxy.target.port}`
      }, undo: () => haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source)},
    ],
    log,
  )})
  return {...r, verify}
}

export async function mariadbCutoverRollback(o: MariadbCutoverOptions, log: Log): Promise<CutoverResult> {
  return withSharedConnections(() => runSubSteps(
    [
      {
        name: 'fail-back',
        window: 'open',
        run: async () => {
          const replicating = await withMysql(o.source, o.sourcePasswordEnv, async (c) => (await myRows(c, 'SHOW SLAVE STATUS')).length > 0)
          if (!replicating) return 'the source does not replicate from the target: nothing to bring back'
          const f = await mariadbFailback(o.source, o.target, o.users, {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv, timeoutMs: o.timeoutMs})
          return `target blocked, source caught up to ${f.gtid}`
        },
      },
      {name: 'repoint-clients', run: async () => {
        await haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source)
        return `${o.haproxy.server} → ${o.haproxy.source.host}:${o.haproxy.source.port}`
      }},
      {name: 'unblock-source-writes', window: 'close', run: async () => mariadbUnblockWrites(o.source, {passwordEnv: o.sourcePasswordEnv})},
    ],
    log,
  ))
}

export interface RedisCutoverOptions {
  source: string
  target: string
  /** host:port of the target as the source reaches it (reverse replication), and of the source as the target does. */
  targetAddr?: string
  sourceAddr?: string
  haproxy: {api: string; server: string; source: {host: string; port: number}; target: {host: string; port: number}}
  pauseMs: number
  verify: 'counts' | 'off'
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

/** Redis cutover behind HAProxy: writers wait under CLIENT PAUSE WRITE, then reconnect to the promoted target. */
export async function redisCutover(o: RedisCutoverOptions, log: Log): Promise<CutoverResult> {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  let verify: VerifyResult | undefined
  const r = await withSharedConnections(async () => {
   await Promise.all([withRedis(o.source, o.sourcePasswordEnv, (c) => c.ping()), withRedis(o.target, o.targetPasswordEnv, (c) => c.ping())])
   return runSubSteps(
    [
      {name: 'pause-source-writes', window: 'open', run: async () => redisPause(o.source, o.pauseMs, {passwordEnv: o.sourcePasswordEnv}), undo: () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv})},
      {name: 'wait-offsets-equal', run: async () => `offset ${(await redisWaitSync(o.source, o.target, {...pw, timeoutMs: o.timeoutMs})).offset}`},
      ...(o.verify === 'off'
        ? []
        : [{name: 'verify', run: async () => {
            verify = await redisVerify(o.source, o.target, pw)
            if (!verify.ok) throw new MigrateError(`key counts differ: ${verify.tables.filter((t) => !t.ok).map((t) => `${t.table} ${t.sourceRows}/${t.targetRows}`).join(', ')}`, {code: 'DB_VERIFY_MISMATCH'})
            return verify.tables.map((t) => `${t.table} ${t.sourceRows} keys`).join(', ') || 'no keys'
          }} satisfies SubStep]),
      {name: 'promote-target', run: async () => redisPromote(o.target, {passwordEnv: o.targetPasswordEnv}), undo: () => redisReplicate(o.source, o.target, {sourceAddr: o.sourceAddr, targetPasswordEnv: o.targetPasswordEnv})},
      {name: 'repoint-clients', run: async () => {
        await haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.target)
        return `${o.haproxy.server} → ${o.haproxy.target.host}:${o.haproxy.target.port}, old sessions ended`
      }, undo: () => haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source)},
      {name: 'reverse-replication', run: async () => `source replicates from ${(await redisReplicate(o.target, o.source, {sourceAddr: o.targetAddr, targetPasswordEnv: o.sourcePasswordEnv})).master}`, undo: () => redisPromote(o.source, {passwordEnv: o.sourcePasswordEnv})},
      {name: 'unpause-source', window: 'close', run: async () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv})},
    ],
    log,
  )})
  return {...r, verify}
}

export async function redisCutoverRollback(o: RedisCutoverOptions, log: Log): Promise<CutoverResult> {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  return withSharedConnections(() => runSubSteps(
    [
      {
        name: 'fail-back',
        window: 'open',
        run: async () => {
          const role = await withRedis(o.source, o.sourcePasswordEnv, async (r) => parseInfo(String(await r.info('replication'))).role)
          if (role !== 'slave') return 'the source is primary: nothing to bring back'
          await redisPause(o.target, o.pauseMs, {passwordEnv: o.targetPasswordEnv})
          const w = await redisWaitSync(o.target, o.source, {sourcePasswordEnv: o.targetPasswordEnv, targetPasswordEnv: o.sourcePasswordEnv, timeoutMs: o.timeoutMs})
          await redisPromote(o.source, {passwordEnv: o.sourcePasswordEnv})
          return `target paused, source caught up to offset ${w.offset} and promoted`
        },
      },
      {name: 'repoint-clients', run: async () => {
        await haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source)
        return `${o.haproxy.server} → ${o.haproxy.source.host}:${o.haproxy.source.port}`
      }},
      {name: 'unpause-source', window: 'close', run: async () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv})},
      {name: 'demote-target', run: async () => `target replicates from ${(await redisReplicate(o.source, o.target, {sourceAddr: o.sourceAddr, unpause: true, ...pw})).master}`},
    ],
    log,
  ))
}

/** Removes a file the block steps wrote, once the way back is gone (finalize). */
export function forgetState(file: string): void {
  rmSync(file, {force: true})
}
