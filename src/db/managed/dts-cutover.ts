// The cutover onto ApsaraDB RDS / Tair through DTS as one step. The write block stays on the source, which we own
// (MySQL family: read_only + the application's sessions killed; Redis: CLIENT PAUSE WRITE); then DTS must have
// applied everything up to the block: DescribeDtsJobDetail's delay within the bound AND the data itself equal
// (CHECKSUM TABLE per table, or key counts), polled, since nothing changes on the source any more; then the DTS job is
// suspended (nothing more is applied), the reverse task is created (MySQL family: it collects the target's changes
// from here on), and HAProxy sends the clients to the target. The source stays write-blocked: it is the way back.
// The rollback holds the clients in HAProxy, lets the reverse task write the target's changes into the source until
// both are equal (Redis: copies every key back, as DTS offers no reverse task migrate relies on there), stops the
// reverse task, repoints to the source and lifts the block.
import {MigrateError} from '../../errors.js'
import {sleep, withSharedConnections} from '../connect.js'
import {runSubSteps, type CutoverResult, type Log, type SubStep} from '../cutover.js'
import {haproxyRepoint} from '../haproxy.js'
import {mariadbBlockWrites, mariadbUnblockWrites, mariadbVerify} from '../mariadb.js'
import {redisPause, redisUnpause, redisVerify} from '../redis.js'
import type {VerifyResult} from '../types.js'
import {type DtsEngine, type DtsTarget, dtsCall, dtsDescribe, dtsWaitFor, waitDtsJob} from './dts.js'
import {dtsCreateReverse, dtsResume, dtsSuspend} from './dts-job.js'
import {copyKeysBack} from './elasticache.js'
import {holdClientsStep} from './elasticache-cutover.js'

type Addr = {host: string; port: number}

export interface DtsCutoverOptions {
  engine: DtsEngine
  /** The source as we reach it (admin), and the target instance as its master/application account. */
  source: string
  target: string
  dts: DtsTarget
  jobId: string
  /** MySQL family: the application accounts whose sessions are ended on the source at the block. */
  users: string[]
  haproxy: {api: string; server: string; source: Addr; target: Addr}
  maxDelayMs: number
  pauseMs: number
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

const mysqlFamily = (o: DtsCutoverOptions) => o.engine !== 'Redis'

/** Verifies source against target until equal (the source is blocked, so equal stays equal) or the deadline. */
async function untilEqual(o: DtsCutoverOptions, from: 'source' | 'target', timeoutMs: number): Promise<VerifyResult> {
  const pw = {
    sourcePasswordEnv: from === 'source' ? o.sourcePasswordEnv : o.targetPasswordEnv,
    targetPasswordEnv: from === 'source' ? o.targetPasswordEnv : o.sourcePasswordEnv,
  }
  const [a, b] = from === 'source' ? [o.source, o.target] : [o.target, o.source]
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = mysqlFamily(o) ? await mariadbVerify(a, b, pw) : await redisVerify(a, b, pw)
    if (v.ok) return v
    if (Date.now() > deadline)
      throw new MigrateError(
        `the ${from === 'source' ? 'target' : 'source'} still differs after ${timeoutMs} ms: ${v.tables
          .filter((t) => !t.ok)
          .map((t) => `${t.table} ${t.sourceRows}/${t.targetRows}`)
          .join(', ')}`,
        {code: 'DB_VERIFY_MISMATCH', hint: 'DTS did not apply everything: look at the job (migrate db dts-check)'},
      )
    await sleep(100)
  }
}

function describeVerify(v: VerifyResult): string {
  return `${v.tables.length} ${v.engine === 'redis' ? 'keyspace(s)' : 'table(s)'} equal (${v.tables
    .map((t) => `${t.table} ${t.sourceRows}`)
    .join(', ')})`
}

function blockStep(o: DtsCutoverOptions): SubStep {
  if (!mysqlFamily(o))
    return {
      name: 'pause-source-writes',
      window: 'open',
      run: async () => redisPause(o.source, o.pauseMs, {passwordEnv: o.sourcePasswordEnv}),
      undo: () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv}),
    }
  return {
    name: 'block-source-writes',
    window: 'open',
    run: async () =>
      `read_only on, ${(await mariadbBlockWrites(o.source, o.users, {passwordEnv: o.sourcePasswordEnv})).killed} session(s) ended`,
    undo: () => mariadbUnblockWrites(o.source, {passwordEnv: o.sourcePasswordEnv}),
  }
}

export async function dtsCutover(o: DtsCutoverOptions, log: Log): Promise<CutoverResult> {
  let verify: VerifyResult | undefined
  const first = await dtsDescribe(o.dts, o.jobId)
  if (first.status !== 'Migrating')
    throw new MigrateError(`DTS job ${o.jobId} is ${first.status}, not Migrating: nothing to cut over`, {
      code: 'DTS_WRONG_STATE',
      hint: 'Run the replicate step first (it configures and starts the job), and wait-caught-up',
    })
  const steps: SubStep[] = [
    blockStep(o),
    {
      name: 'wait-dts-applied',
      run: async () => {
        // A Redis pause lifts itself: every wait inside it ends a second before it does.
        const budget = mysqlFamily(o) ? o.timeoutMs : Math.max(500, o.pauseMs - 1000)
        const t0 = Date.now()
        const s = await waitDtsJob(o.dts, o.jobId, o.maxDelayMs, budget)
        verify = await untilEqual(o, 'source', Math.max(0, budget - (Date.now() - t0)))
        return `DTS delay ${s.delayMs} ms; ${describeVerify(verify)}`
      },
    },
    {
      name: 'suspend-dts-job',
      run: async () => `job ${o.jobId} ${await dtsSuspend(o.dts, o.jobId)}`,
      undo: () => dtsResume(o.dts, o.jobId),
    },
  ]
  if (mysqlFamily(o)) {
    let reverse = ''
    steps.push({
      name: 'create-reverse-task',
      run: async () => {
        reverse = await dtsCreateReverse(o.dts, o.jobId)
        return `reverse task ${reverse} collects the target's changes (it writes them only on a rollback)`
      },
      undo: async () => {
        if (reverse) await dtsCall(o.dts, 'StopDtsJob', {DtsJobId: reverse})
      },
    })
  }
  steps.push({
    name: 'repoint-clients',
    window: 'close',
    run: async () => {
      await haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.target)
      return `${o.haproxy.server} → ${o.haproxy.target.host}:${o.haproxy.target.port}; the source stays write-blocked`
    },
    undo: () => haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source),
  })
  const r = await withSharedConnections(() => runSubSteps(steps, log))
  return {...r, verify}
}

/** Brings the target's writes back to the source: the reverse task (MySQL family) or a copy of every key (Redis). */
async function bringBack(o: DtsCutoverOptions): Promise<string> {
  const fwd = await dtsDescribe(o.dts, o.jobId)
  if (fwd.status === 'Migrating') return 'the job was never suspended: the target took no client writes'
  if (!mysqlFamily(o)) {
    const {keys} = await copyKeysBack(o.target, o.source, {
      fromPasswordEnv: o.targetPasswordEnv,
      toPasswordEnv: o.sourcePasswordEnv,
    })
    return `${keys} key(s) copied back (keys deleted on the target after cutover are not deleted on the source)`
  }
  if (!fwd.reverseJobId) return 'no reverse task: the clients never reached the target'
  const rev = await dtsDescribe(o.dts, fwd.reverseJobId)
  if (rev.status === 'Finished') return `reverse task ${rev.id} already finished`
  if (rev.incremental.status === 'NotStarted') await dtsCall(o.dts, 'StartReverseWriter', {DtsJobId: rev.id})
  await dtsWaitFor(o.dts, rev.id, (s) => s.incremental.status !== 'NotStarted' && s.delayMs <= o.maxDelayMs, {
    timeoutMs: o.timeoutMs,
    what: 'the reverse task caught up',
  })
  const v = await untilEqual(o, 'target', o.timeoutMs)
  await dtsCall(o.dts, 'StopDtsJob', {DtsJobId: rev.id})
  return `reverse task ${rev.id} wrote the target's changes back and stopped; ${describeVerify(v)}`
}

/** Undoes dtsCutover from wherever it got: hold clients, bring the target's writes back, repoint, lift the block. */
export async function dtsCutoverRollback(o: DtsCutoverOptions, log: Log): Promise<CutoverResult> {
  return runSubSteps(
    [
      holdClientsStep(o.haproxy),
      {name: 'bring-writes-back', run: () => bringBack(o)},
      {
        name: 'repoint-clients',
        run: async () => {
          await haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source)
          return `${o.haproxy.server} → ${o.haproxy.source.host}:${o.haproxy.source.port}`
        },
      },
      {
        name: 'unblock-source',
        window: 'close',
        run: async () =>
          mysqlFamily(o)
            ? mariadbUnblockWrites(o.source, {passwordEnv: o.sourcePasswordEnv})
            : redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv}),
      },
    ],
    log,
  )
}
