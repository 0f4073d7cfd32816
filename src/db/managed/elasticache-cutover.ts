// The cutover onto ElastiCache as one step: pause writes on the source (ours, CLIENT PAUSE WRITE) → the ElastiCache
// primary has every byte (INFO replication offsets) → key counts equal → CompleteMigration and wait for `available`
// → repoint HAProxy → unpause. The rollback holds clients off in HAProxy (server in maintenance, sessions ended),
// copies the keys back from ElastiCache to the source (there is no reverse replication out of ElastiCache), and
// repoints to the source.
import {repointStep} from '../cutover/shared.js'
import {type RedisRun, redisPauseProbe, redisPauseSteps} from '../cutover/redis.js'
import {MigrateError} from '../../errors.js'
import {withRedis, withSharedConnections} from '../connect.js'
import {runSubSteps, type CutoverResult, type Log, type SubStep} from '../cutover.js'
import {haproxyCommand, haproxyRepoint} from '../haproxy.js'
import {redisUnpause} from '../redis.js'
import {WINDOW_DEFAULTS, type WindowLimits} from '../window.js'
import {
  copyKeysBack,
  describeGroup,
  elasticacheComplete,
  elasticacheStart,
  primaryUrl,
  type ElastiCacheTarget,
} from './elasticache.js'

export interface ElastiCacheCutoverOptions {
  source: string
  /** host:port of the source as the group reaches it (to restart the migration if the cutover is undone). */
  sourceAddr: {host: string; port: number}
  group: ElastiCacheTarget
  /** The primary endpoint as HAProxy reaches it (default: the one DescribeReplicationGroups reports). */
  haproxyTarget?: {host: string; port: number}
  haproxy: {api: string; server: string; source: {host: string; port: number}}
  /** CLIENT PAUSE length: the window's bound (every wait inside it is bounded by what is left of it). */
  pauseMs: number
  verify: 'counts' | 'off'
  timeoutMs: number
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
  /** The window's other limits (maxWindowMs is pauseMs); a hook before each sub-step. */
  limits?: Omit<WindowLimits, 'maxWindowMs'>
  before?: (step: string) => Promise<void> | void
}

export async function elasticacheCutover(o: ElastiCacheCutoverOptions, log: Log): Promise<CutoverResult> {
  const g = await describeGroup(o.group)
  if (g.status !== 'migrating')
    throw new MigrateError(`${g.id} is ${g.status}, not migrating: nothing to cut over`, {
      code: 'ELASTICACHE_NOT_MIGRATING',
      hint: 'Run the replicate step (StartMigration) first',
    })
  const target = primaryUrl(g)
  const limits: WindowLimits = {...WINDOW_DEFAULTS, ...o.limits, maxWindowMs: o.pauseMs}
  const run: RedisRun = {}
  // The source still paused and its offset where the group caught up: no write can have reached it since.
  const probe = redisPauseProbe(o, run)
  const blockHolds = probe.check
  const r = await withSharedConnections(async () => {
    await Promise.all([
      withRedis(o.source, o.sourcePasswordEnv, (c) => c.ping()),
      withRedis(target, o.targetPasswordEnv, (c) => c.ping()),
    ])
    return runSubSteps(
      [
        ...redisPauseSteps({...o, target}, limits, run, {offset: (n) => `ElastiCache at offset ${n}`}),
        ...completeSteps(o, g.primary, blockHolds),
      ],
      log,
      {limits, before: o.before, probes: [probe]},
    )
  })
  return {...r, verify: run.verify}
}

/** complete-migration (the commit point) → repoint-clients (still paused?) → unpause-source (closes the window). */
function completeSteps(
  o: ElastiCacheCutoverOptions,
  primary: {host: string; port: number},
  blockHolds: () => Promise<void>,
): SubStep[] {
  const to = o.haproxyTarget ?? primary
  return [
    {
      // The commit point: once the group stops replicating, a write that reaches the source is not on it.
      name: 'complete-migration',
      commit: true,
      run: async (ctx) =>
        `CompleteMigration: ${(await elasticacheComplete(o.group, {timeoutMs: Math.min(o.timeoutMs, ctx.remainingMs())})).status}`,
      // The group takes the source's data again from scratch: a new StartMigration.
      undo: () => elasticacheStart(o.group, o.sourceAddr),
    },
    {
      name: 'repoint-clients',
      run: async (ctx) => {
        await haproxyRepoint(o.haproxy.api, o.haproxy.server, to)
        // Still paused? A write that reached the source after CompleteMigration is on the source only: undo.
        if (ctx.untilDeadlineMs() <= 0)
          throw new MigrateError('the pause ran out before clients were repointed', {code: 'WRITE_BLOCK_LAPSED'})
        await blockHolds()
        return `${o.haproxy.server} → ${to.host}:${to.port}, old sessions ended`
      },
      undo: () => haproxyRepoint(o.haproxy.api, o.haproxy.server, o.haproxy.source),
    },
    {
      name: 'unpause-source',
      window: 'close',
      run: async () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv}),
    },
  ]
}

/** Opens a rollback's window: the clients' HAProxy server in maintenance and its sessions ended (nothing reaches either side). */
export function holdClientsStep(h: {api: string; server: string}): SubStep {
  const [be, srv] = h.server.split('/')
  return {
    name: 'hold-clients',
    window: 'open',
    run: async () => {
      await haproxyCommand(h.api, `set server ${be}/${srv} state maint`)
      await haproxyCommand(h.api, `shutdown sessions server ${be}/${srv}`)
      return 'HAProxy server in maintenance, sessions ended'
    },
  }
}

/** Undoes elasticacheCutover from wherever it got: hold clients, copy the keys back, repoint to the source. */
export async function elasticacheCutoverRollback(o: ElastiCacheCutoverOptions, log: Log): Promise<CutoverResult> {
  return runSubSteps(
    [
      holdClientsStep(o.haproxy),
      {
        name: 'copy-back',
        run: async () => {
          const g = await describeGroup(o.group)
          if (g.status === 'migrating') return 'the migration never completed: ElastiCache took no writes'
          const {keys} = await copyKeysBack(primaryUrl(g), o.source, {
            fromPasswordEnv: o.targetPasswordEnv,
            toPasswordEnv: o.sourcePasswordEnv,
          })
          return `${keys} key(s) copied back from ElastiCache (deletions made there after cutover are not)`
        },
      },
      repointStep(o.haproxy, o.haproxy.source),
      {
        name: 'unpause-source',
        window: 'close',
        run: async () => redisUnpause(o.source, {passwordEnv: o.sourcePasswordEnv}),
      },
    ],
    log,
  )
}
