// The cutover onto RDS for MariaDB as one step (one process, so the window holds queries, not process starts):
// block writes on the source (ours: read_only + kill) → MASTER_GTID_WAIT on RDS → verify → promote RDS
// (rds_stop_replication + rds_reset_external_master) → give back any writes an earlier fail-back locked on RDS →
// the source replicates from RDS (the way back) → repoint HAProxy. Its rollback fails back without losing a write
// made on RDS: lock the app accounts on RDS and rds_kill their sessions, wait until the source has RDS's last GTID,
// stop the reverse replication, repoint, unblock the source.
import {assertVerified, repointStep} from '../cutover/shared.js'
import {
  type MariadbBlockRun,
  mariadbBlockProbe,
  mariadbBlockSteps,
  mariadbReverseStep,
  sourceReplicates,
} from '../cutover/mariadb-block.js'
import {withMysql, withSharedConnections} from '../connect.js'
import {runSubSteps, type CutoverResult, type Log, type SubStep} from '../cutover.js'
import {mariadbStopReplica, mariadbUnblockWrites, mariadbVerify, mariadbWaitGtid} from '../mariadb.js'
import type {VerifyResult} from '../types.js'
import {WINDOW_DEFAULTS, type WindowLimits} from '../window.js'
import {rdsMariadbReplicate, rdsMariadbResetReplica} from './rds-mariadb.js'
import {rdsMariadbBlockWrites, rdsMariadbUnblockWrites, unlockReplicatedLocks} from './rds-mariadb-block.js'

export interface RdsMariadbCutoverOptions {
  source: string
  /** The RDS endpoint as the master user. */
  target: string
  users: string[]
  /** Replication user on RDS for the way back, and on the source (for re-attaching RDS on undo). */
  repl: {user: string; passwordEnv?: string}
  /** host:port of RDS as the source reaches it, and of the source as RDS reaches it. */
  targetAddr: string
  sourceAddr: string
  ssl: boolean
  haproxy: {api: string; server: string; source: {host: string; port: number}; target: {host: string; port: number}}
  /** Where the fail-back records the RDS accounts it locked. */
  targetState: string
  verify: 'checksums' | 'off'
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
  /** The window's budget (waits inside it are bounded by it; the block is probed before promoting); a hook before each sub-step. */
  limits?: WindowLimits
  before?: (step: string) => Promise<void> | void
}

export async function rdsMariadbCutover(o: RdsMariadbCutoverOptions, log: Log): Promise<CutoverResult> {
  const run: MariadbBlockRun & {verify?: VerifyResult; slavePos?: string} = {}
  const limits = o.limits ?? WINDOW_DEFAULTS
  const verify: SubStep = {
    name: 'verify',
    run: async () => {
      run.verify = await mariadbVerify(o.source, o.target, {
        sourcePasswordEnv: o.sourcePasswordEnv,
        targetPasswordEnv: o.targetPasswordEnv,
      })
      assertVerified(run.verify)
      return `${run.verify.tables.length} table(s) equal (count + CHECKSUM TABLE)`
    },
  }
  const r = await withSharedConnections(async () => {
    await Promise.all([
      withMysql(o.source, o.sourcePasswordEnv, (c) => c.query('SELECT 1')),
      withMysql(o.target, o.targetPasswordEnv, (c) => c.query('SELECT 1')),
    ])
    return runSubSteps(
      [
        ...mariadbBlockSteps(o, limits, run, {targetName: 'RDS', verify: o.verify === 'off' ? undefined : verify}),
        rdsPromoteStep(o, run),
        {
          name: 'unblock-target-writes',
          run: async () => {
            const u = await rdsMariadbUnblockWrites(o.target, o.targetState, {passwordEnv: o.targetPasswordEnv})
            return u.unlocked ? `${u.unlocked} account(s) unlocked from an earlier fail-back` : 'nothing was blocked'
          },
        },
        mariadbReverseStep(o),
        repointStep(o.haproxy, o.haproxy.target, {back: o.haproxy.source, window: 'close'}),
      ],
      log,
      {limits, before: o.before, probes: [mariadbBlockProbe(o, run, 'RDS')]},
    )
  })
  return {...r, verify: run.verify}
}

/** promote-target: the commit point, bounded by what is left of the window; given up on midway, it is undone as well. */
function rdsPromoteStep(o: RdsMariadbCutoverOptions, run: MariadbBlockRun & {slavePos?: string}): SubStep {
  return {
    name: 'promote-target',
    commit: true,
    run: async () => {
      run.slavePos = (await rdsMariadbResetReplica(o.target, o.targetPasswordEnv)).gtidSlavePos
      return `rds_stop_replication + rds_reset_external_master at ${run.slavePos}`
    },
    undo: () =>
      rdsMariadbReplicate(o.target, {
        sourceAddr: o.sourceAddr,
        replUser: o.repl.user,
        replPasswordEnv: o.repl.passwordEnv,
        gtid: run.slavePos || run.gtid!,
        ssl: o.ssl,
        targetPasswordEnv: o.targetPasswordEnv,
      }),
  }
}

/** Undoes rdsMariadbCutover from wherever it got (idempotent). */
export async function rdsMariadbCutoverRollback(o: RdsMariadbCutoverOptions, log: Log): Promise<CutoverResult> {
  return withSharedConnections(() =>
    runSubSteps(
      [
        {
          name: 'fail-back',
          window: 'open',
          run: async () => {
            if (!(await sourceReplicates(o))) return 'the source does not replicate from RDS: nothing to bring back'
            const b = await rdsMariadbBlockWrites(o.target, o.users, o.targetState, {passwordEnv: o.targetPasswordEnv})
            const {gtid} = await mariadbWaitGtid(o.target, o.source, {
              sourcePasswordEnv: o.targetPasswordEnv,
              targetPasswordEnv: o.sourcePasswordEnv,
              timeoutMs: o.timeoutMs,
            })
            await mariadbStopReplica(o.source, {passwordEnv: o.sourcePasswordEnv})
            return `RDS blocked (${b.locked} account(s) locked, ${b.killed} session(s) ended with rds_kill), source caught up to ${gtid}`
          },
        },
        repointStep(o.haproxy, o.haproxy.source),
        {
          name: 'unblock-source-writes',
          window: 'close',
          run: async () => {
            const u = await unlockReplicatedLocks(o.source, o.targetState, {passwordEnv: o.sourcePasswordEnv})
            await mariadbUnblockWrites(o.source, {passwordEnv: o.sourcePasswordEnv})
            return `read_only off${u.unlocked ? `, ${u.unlocked} account lock(s) that came through the reverse replication lifted` : ''}`
          },
        },
      ],
      log,
    ),
  )
}
