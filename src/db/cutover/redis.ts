// Redis cutover behind HAProxy as one step, and its rollback (see ../cutover.ts): CLIENT PAUSE WRITE for exactly
// the window's bound, equal offsets, key counts, REPLICAOF NO ONE (the commit point), repoint, reverse replication.
import {assertVerified, repointStep, type CutoverCommon, estimateStep, refuse} from './shared.js'
import {MigrateError} from '../../errors.js'
import {hostPort, parseInfo, withRedis, withSharedConnections} from '../connect.js'
import {haproxyServerAddr} from '../haproxy.js'
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
} from '../redis.js'
import type {VerifyResult} from '../types.js'
import {
  WINDOW_DEFAULTS,
  estimateWindowMs,
  runSubSteps,
  within,
  type CutoverResult,
  type Log,
  type BlockProbe,
  type SubStep,
  type WindowLimits,
} from '../window.js'

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

/** What the window's sub-steps learn: the offset at which the target caught up, and the in-pause verification. */
export interface RedisRun {
  offset?: number
  verify?: VerifyResult
}

/** Redis cutover behind HAProxy: writers wait under CLIENT PAUSE WRITE, then reconnect to the promoted target. */
export async function redisCutover(o: RedisCutoverOptions, log: Log): Promise<CutoverResult> {
  const limits = o.limits ?? WINDOW_DEFAULTS
  const estimate = {ms: estimateWindowMs('redis', 0)}
  const run: RedisRun = {}
  const r = await withSharedConnections(async () => {
    const pre = [redisPrecheckStep(o, limits)]
    if (o.checkOnly) return runSubSteps([...pre, estimateStep(limits, estimate)], log, {limits, before: o.before})
    return runSubSteps(
      [
        ...pre,
        ...redisPauseSteps(o, limits, run, {
          paused: `CLIENT PAUSE ${limits.maxWindowMs} WRITE`,
          offset: (n) => `offset ${n}`,
        }),
        {
          name: 'promote-target',
          commit: true,
          run: async () => redisPromote(o.target, {passwordEnv: o.targetPasswordEnv}),
          undo: () =>
            redisReplicate(o.source, o.target, {sourceAddr: o.sourceAddr, targetPasswordEnv: o.targetPasswordEnv}),
        },
        repointStep(o.haproxy, o.haproxy.target, {back: o.haproxy.source, note: ', old sessions ended'}),
        redisReverseStep(o, run),
        {
          name: 'unpause-source',
          window: 'close',
          run: async () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv}),
        },
      ],
      log,
      {limits, before: o.before, probes: [redisPauseProbe(o, run)]},
    )
  })
  return {...r, verify: run.verify, estimateMs: estimate.ms}
}

/** pre-check: a stalled or broken replica link, a stopped replica, a busy script on the source: refused before pausing. */
function redisPrecheckStep(o: RedisCutoverOptions, limits: WindowLimits): SubStep {
  const sourceAddr = o.sourceAddr ? hostPort(`tcp://${o.sourceAddr}`, 6379) : hostPort(o.source, 6379)
  return {
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
          sourcePasswordEnv: o.sourcePasswordEnv,
          targetPasswordEnv: o.targetPasswordEnv,
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
  }
}

/** The ends of a Redis cutover's pause: the self-managed one's and the ElastiCache one's (target: its primary). */
export interface RedisPauseEnds {
  source: string
  target: string
  verify: 'counts' | 'off'
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

/**
 * pause-source-writes (opens the window; the pause lasts exactly the window's bound: waits inside are bounded by it,
 * and the commit point checks it) → wait-offsets-equal → verify (none when verify is off). Shared by the self-managed
 * and the ElastiCache cutover; `notes` word the first two sub-steps' notes as each always did.
 */
export function redisPauseSteps(
  o: RedisPauseEnds,
  limits: WindowLimits,
  run: RedisRun,
  notes: {paused?: string; offset: (offset: number) => string},
): SubStep[] {
  const pw = {sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}
  return [
    {
      name: 'pause-source-writes',
      window: 'open',
      run: async () => {
        await redisPause(o.source, limits.maxWindowMs, {
          passwordEnv: o.sourcePasswordEnv,
          waitMs: limits.pauseWaitMs,
        })
        return notes.paused
      },
      undo: () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv}),
    },
    {
      name: 'wait-offsets-equal',
      run: async (ctx) => {
        const timeoutMs = Math.min(o.timeoutMs, ctx.remainingMs())
        run.offset = (await redisWaitSync(o.source, o.target, {...pw, timeoutMs})).offset
        return notes.offset(run.offset)
      },
    },
    ...(o.verify === 'off' ? [] : [redisVerifyStep(o.source, o.target, pw, run)]),
  ]
}

/** The pause's probe before the commit point: the source still paused, its offset where the target caught up. */
export function redisPauseProbe(o: Pick<RedisPauseEnds, 'source' | 'sourcePasswordEnv'>, run: RedisRun): BlockProbe {
  return {
    name: 'source paused, offset unchanged',
    check: () => redisBlockInForce(o.source, run.offset!, o.sourcePasswordEnv),
  }
}

/** verify inside the pause: key counts per database equal on both sides (the ElastiCache cutover's too). */
export function redisVerifyStep(
  source: string,
  target: string,
  pw: {sourcePasswordEnv?: string; targetPasswordEnv?: string},
  run: {verify?: VerifyResult},
): SubStep {
  return {
    name: 'verify',
    run: async () => {
      run.verify = await redisVerify(source, target, pw)
      assertVerified(run.verify, 'key counts differ')
      return run.verify.tables.map((t) => `${t.table} ${t.sourceRows} keys`).join(', ') || 'no keys'
    },
  }
}

/** reverse-replication: the source becomes a replica of the promoted target, while still inside the pause. */
function redisReverseStep(o: RedisCutoverOptions, run: RedisRun): SubStep {
  return {
    name: 'reverse-replication',
    run: async (ctx) => {
      // Still inside the pause? A write that reached the source after the target caught up would be dropped by
      // the resync: stop here (the undo chain brings the clients and the primary role back to the source).
      if (ctx.untilDeadlineMs() <= 0)
        throw new MigrateError(`the pause ran out before the source became a replica`, {
          code: 'WRITE_BLOCK_LAPSED',
        })
      await redisBlockInForce(o.source, run.offset!, o.sourcePasswordEnv)
      return `source replicates from ${(await redisReplicate(o.target, o.source, {sourceAddr: o.targetAddr, targetPasswordEnv: o.sourcePasswordEnv})).master}`
    },
    undo: () => redisPromote(o.source, {passwordEnv: o.sourcePasswordEnv}),
  }
}

/** Fails back the same way, with the same guarantees: the target's pause bounds the wait, and is probed before the source is promoted. */
export async function redisCutoverRollback(o: RedisCutoverOptions, log: Log): Promise<CutoverResult> {
  const base = o.limits ?? WINDOW_DEFAULTS
  const limits = {...base, maxWindowMs: Math.max(base.maxWindowMs, o.pauseMs)}
  const run: FailbackRun = {replica: true}
  return withSharedConnections(() =>
    runSubSteps(
      [
        ...pauseTargetSteps(o, limits, run),
        {
          name: 'promote-source',
          commit: true,
          run: async () => {
            if (run.replica) await redisPromote(o.source, {passwordEnv: o.sourcePasswordEnv})
          },
          undo: () =>
            redisReplicate(o.target, o.source, {sourceAddr: o.targetAddr, targetPasswordEnv: o.sourcePasswordEnv}),
        },
        repointStep(o.haproxy, o.haproxy.source),
        {name: 'unpause-source', run: async () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv})},
        demoteTargetStep(o, run),
      ],
      log,
      {
        limits,
        probes: [
          {
            name: 'target paused, offset unchanged',
            check: async () =>
              void (run.offset !== undefined && (await redisBlockInForce(o.target, run.offset, o.targetPasswordEnv))),
          },
        ],
      },
    ),
  )
}

/** What the fail-back learns: whether the source replicates (else nothing to bring back), the offset it caught up to. */
interface FailbackRun {
  replica: boolean
  offset?: number
}

/** pause-target (opens the window, unless the source is primary already) → wait-source-caught-up. */
function pauseTargetSteps(o: RedisCutoverOptions, limits: WindowLimits, run: FailbackRun): SubStep[] {
  return [
    {
      name: 'pause-target',
      window: 'open',
      run: async () => {
        run.replica =
          (await withRedis(
            o.source,
            o.sourcePasswordEnv,
            async (r) => parseInfo(String(await r.info('replication'))).role,
          )) === 'slave'
        if (!run.replica) return 'the source is primary: nothing to bring back'
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
        if (!run.replica) return
        run.offset = (
          await redisWaitSync(o.target, o.source, {
            sourcePasswordEnv: o.targetPasswordEnv,
            targetPasswordEnv: o.sourcePasswordEnv,
            timeoutMs: Math.min(o.timeoutMs, ctx.remainingMs()),
          })
        ).offset
        return `source at the target's offset ${run.offset}`
      },
    },
  ]
}

/** demote-target (closes the window): the target replicates from the source again, once its pause is known to hold. */
function demoteTargetStep(o: RedisCutoverOptions, run: FailbackRun): SubStep {
  return {
    name: 'demote-target',
    window: 'close',
    run: async (ctx) => {
      if (run.offset !== undefined) {
        if (ctx.untilDeadlineMs() <= 0)
          throw new MigrateError('the pause on the target ran out before it became a replica', {
            code: 'WRITE_BLOCK_LAPSED',
          })
        await redisBlockInForce(o.target, run.offset, o.targetPasswordEnv)
      }
      return `target replicates from ${(await redisReplicate(o.source, o.target, {sourceAddr: o.sourceAddr, unpause: true, sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv})).master}`
    },
  }
}
