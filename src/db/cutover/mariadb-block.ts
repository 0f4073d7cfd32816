// What the self-managed MariaDB cutover and the one onto RDS for MariaDB share (one implementation, so that a bound
// fixed in one holds in the other): the write block on the source (read_only + kill, waiting at most --pause-wait),
// the wait until the target has the source's last GTID (bounded by the window), the verification inside the block,
// the block's probe before the commit point, the reverse replication (the way back), and the rollback's first
// question (does the source replicate from the target?).
import {myRows, withMysql} from '../connect.js'
import {
  mariadbBlockInForce,
  mariadbBlockWrites,
  mariadbReplicate,
  mariadbStopReplica,
  mariadbUnblockWrites,
  mariadbWaitGtid,
} from '../mariadb.js'
import type {BlockProbe, SubStep, WindowLimits} from '../window.js'

/** The two servers of a MariaDB cutover and what its block and reverse replication need. */
export interface MariadbEnds {
  source: string
  target: string
  /** The application's accounts (their connections are killed once read_only is on). */
  users: string[]
  repl: {user: string; passwordEnv?: string}
  /** host:port of the target as the source reaches it (reverse replication). */
  targetAddr?: string
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

/** What the block's sub-steps learn: the GTID the target caught up to (the probe compares the source's with it). */
export interface MariadbBlockRun {
  gtid?: string
}

/**
 * block-source-writes (opens the window) → wait-target-gtid → the in-block `verify` sub-step when given (none when
 * verify is off). `targetName` is how the notes name the target ('target', 'RDS').
 */
export function mariadbBlockSteps(
  o: MariadbEnds,
  limits: WindowLimits,
  run: MariadbBlockRun,
  spec: {targetName: string; verify?: SubStep},
): SubStep[] {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  return [
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
        run.gtid = (
          await mariadbWaitGtid(o.source, o.target, {...pw, timeoutMs: Math.min(o.timeoutMs, ctx.remainingMs())})
        ).gtid
        return `${spec.targetName} reached ${run.gtid}`
      },
    },
    ...(spec.verify ? [spec.verify] : []),
  ]
}

/** The block's probe before the commit point: read_only still on, no GTID written since the target caught up. */
export function mariadbBlockProbe(o: MariadbEnds, run: MariadbBlockRun, targetName: string): BlockProbe {
  return {
    name: `read_only on the source, no write since ${targetName} caught up`,
    check: () => mariadbBlockInForce(o.source, run.gtid, o.sourcePasswordEnv),
  }
}

/** reverse-replication: the source replicates from the promoted target, from its own binlog on (the way back). */
export function mariadbReverseStep(o: MariadbEnds): SubStep {
  return {
    name: 'reverse-replication',
    run: async () =>
      `source replicates from ${(await mariadbReplicate(o.target, o.source, {user: o.repl.user, passwordEnv: o.repl.passwordEnv, sourceAddr: o.targetAddr, fromOwnBinlog: true}, {targetPasswordEnv: o.sourcePasswordEnv})).master}`,
    undo: () => mariadbStopReplica(o.source, {passwordEnv: o.sourcePasswordEnv}),
  }
}

/** Whether the source replicates (from the target, after a cutover): a rollback with nothing to bring back says so. */
export async function sourceReplicates(o: Pick<MariadbEnds, 'source' | 'sourcePasswordEnv'>): Promise<boolean> {
  return withMysql(o.source, o.sourcePasswordEnv, async (c) => (await myRows(c, 'SHOW SLAVE STATUS')).length > 0)
}
