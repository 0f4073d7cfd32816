// MariaDB cutover behind HAProxy as one step, and its rollback (see ../cutover.ts): read_only + kill on the source,
// MASTER_GTID_WAIT, re-verify what changed, promote (the commit point), reverse replication, repoint.
import type mysql from 'mysql2/promise'
import {type CutoverCommon, type PgPlan, estimateStep, refuse, repointStep} from './shared.js'
import {MigrateError} from '../../errors.js'
import {hostPort, myRows, withMysql, withSharedConnections} from '../connect.js'
import {
  describeMariaSessions,
  mariadbFailback,
  mariadbOpenTransactions,
  mariadbPromote,
  mariadbTables,
  mariadbUnblockWrites,
  mariadbVerify,
  mariadbWaitGtid,
  vars,
} from '../mariadb.js'
import type {VerifyResult} from '../types.js'
import {WINDOW_DEFAULTS, runSubSteps, type CutoverResult, type Log, type SubStep, type WindowLimits} from '../window.js'
import {
  type MariadbBlockRun,
  mariadbBlockProbe,
  mariadbBlockSteps,
  mariadbReverseStep,
  sourceReplicates,
} from './mariadb-block.js'
import {recheckStep, verifyBeforeStep} from './verify-plan.js'

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

/** What would make the MariaDB cutover fail once writes are blocked, checked while clients still write. */
export function mariadbPrecheckSteps(o: MariadbCutoverOptions, limits: WindowLimits, plan: PgPlan): SubStep[] {
  const sizes = (url: string, env?: string) =>
    withMysql(url, env, async (c) => new Map((await mariadbTables(c)).map((t) => [`${t.s}.${t.t}`, t.bytes])))
  return [
    mariadbPrecheckStep(o, limits),
    mariadbLagStep(o, limits),
    verifyBeforeStep(
      {
        engine: 'mariadb',
        label: 'MariaDB',
        block: 'block',
        verify: o.verify,
        sizes: () => Promise.all([sizes(o.source, o.sourcePasswordEnv), sizes(o.target, o.targetPasswordEnv)]),
        verifyAll: (counts) =>
          mariadbVerify(o.source, o.target, {
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

/** pre-check: connections open, no long statement read_only would wait for, the target replicates and can lead. */
function mariadbPrecheckStep(o: MariadbCutoverOptions, limits: WindowLimits): SubStep {
  return {
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
      await withMysql(o.target, o.targetPasswordEnv, async (c) =>
        problems.push(...(await targetProblems(c, o, srcPort))),
      )
      await withMysql(o.source, o.sourcePasswordEnv, async (c) => problems.push(...(await bypassProblems(c, o.users))))
      if (problems.length) refuse('MariaDB', problems)
      return 'target replicates from the source with both threads running, logs for the way back, repl user present'
    },
  }
}

/** The target replicates from the source with both threads running, logs for the way back, has the repl user. */
async function targetProblems(c: mysql.Connection, o: MariadbCutoverOptions, srcPort: number): Promise<string[]> {
  const problems: string[] = []
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
  return problems
}

/** Application accounts on the source that read_only cannot block (READ ONLY ADMIN). */
async function bypassProblems(c: mysql.Connection, users: string[]): Promise<string[]> {
  const bypass = await myRows(
    c,
    "SELECT GRANTEE AS g FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'READ ONLY ADMIN'",
  )
  const apps = bypass.map((r) => String(r.g)).filter((g) => users.some((u) => g.startsWith(`'${u}'@`)))
  return apps.length
    ? [`application account(s) ${apps.join(', ')} hold READ ONLY ADMIN: read_only cannot block their writes`]
    : []
}

/** pre-check-lag: the same wait as inside the block, while clients still write. */
function mariadbLagStep(o: MariadbCutoverOptions, limits: WindowLimits): SubStep {
  const bound = limits.maxWindowMs - limits.marginMs
  return {
    name: 'pre-check-lag',
    boundMs: limits.maxWindowMs + limits.pauseWaitMs,
    run: async () => {
      try {
        const w = await mariadbWaitGtid(o.source, o.target, {
          sourcePasswordEnv: o.sourcePasswordEnv,
          targetPasswordEnv: o.targetPasswordEnv,
          timeoutMs: bound,
        })
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
  }
}

/** MariaDB cutover behind HAProxy: writes fail (read_only) during the window; clients retry. */
export async function mariadbCutover(o: MariadbCutoverOptions, log: Log): Promise<CutoverResult> {
  const limits = o.limits ?? WINDOW_DEFAULTS
  const plan: PgPlan = {recheck: [], recheckSums: [], estimate: {ms: 0}}
  const run: MariadbBlockRun & {verify?: VerifyResult} = {}
  const r = await withSharedConnections(async () => {
    const pre = mariadbPrecheckSteps(o, limits, plan)
    if (o.checkOnly) return runSubSteps([...pre, estimateStep(limits, plan.estimate)], log, {limits, before: o.before})
    const verify = recheckStep(
      {
        allEqual: "every table was equal before the block; the target has the source's last GTID",
        sums: 'CHECKSUM TABLE',
        verifyOnly: (tables, checksumTables) =>
          mariadbVerify(o.source, o.target, {
            sourcePasswordEnv: o.sourcePasswordEnv,
            targetPasswordEnv: o.targetPasswordEnv,
            counts: true,
            tables,
            checksumTables,
          }),
        done: (v) => {
          run.verify = v
        },
      },
      plan,
    )
    return runSubSteps(
      [
        ...pre,
        ...mariadbBlockSteps(o, limits, run, {
          targetName: 'target',
          verify: o.verify === 'off' ? undefined : verify,
        }),
        mariadbPromoteStep(o),
        mariadbReverseStep(o),
        repointStep(o.haproxy, o.haproxy.target, {back: o.haproxy.source, window: 'close'}),
      ],
      log,
      {limits, before: o.before, probes: [mariadbBlockProbe(o, run, 'target')]},
    )
  })
  return {...r, verify: run.verify, estimateMs: plan.estimate.ms}
}

/** promote-target: the commit point. */
function mariadbPromoteStep(o: MariadbCutoverOptions): SubStep {
  return {
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
  }
}

export async function mariadbCutoverRollback(o: MariadbCutoverOptions, log: Log): Promise<CutoverResult> {
  return withSharedConnections(() =>
    runSubSteps(
      [
        {
          name: 'fail-back',
          window: 'open',
          run: async () => {
            if (!(await sourceReplicates(o)))
              return 'the source does not replicate from the target: nothing to bring back'
            const f = await mariadbFailback(o.source, o.target, o.users, {
              sourcePasswordEnv: o.sourcePasswordEnv,
              targetPasswordEnv: o.targetPasswordEnv,
              timeoutMs: o.timeoutMs,
            })
            return `target blocked, source caught up to ${f.gtid}`
          },
        },
        repointStep(o.haproxy, o.haproxy.source),
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
