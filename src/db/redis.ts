// Redis REPLICAOF and cutover helpers: pre-flight (version for CLIENT PAUSE WRITE, persistence, memory, cluster
// mode), replication start, the wait for link up and equal offsets, promotion, key-count verification, fail-back.
import type {Redis} from 'ioredis'
import {MigrateError} from '../errors.js'
import {hostPort, parseInfo, redactUrl, redisConnect, sleep, withRedis} from './connect.js'
import {WINDOW_DEFAULTS, estimateWindowMs, within, type WindowLimits} from './window.js'
import type {PgOpts} from './pg-catalog.js'
import {compare} from './verify-compare.js'
import {windowFinding} from './window-finding.js'
import {summarize, type Finding, type PreflightResult, type VerifyResult} from './types.js'

export type RedisOpts = PgOpts

async function info(r: Redis, section: string): Promise<Record<string, string>> {
  return parseInfo(String(await r.info(section)))
}

function keyspace(i: Record<string, string>): Map<string, number> {
  const out = new Map<string, number>()
  for (const [k, v] of Object.entries(i)) if (/^db\d+$/.test(k)) out.set(k, Number(/keys=(\d+)/.exec(v)?.[1] ?? 0))
  return out
}

function versionAtLeast(v: string, want: [number, number]): boolean {
  const [a, b] = v.split('.').map(Number)
  return a > want[0] || (a === want[0] && b >= want[1])
}

/** What breaks a REPLICAOF move (and its cutover), found before anything changes. */
export async function redisPreflight(
  source: string,
  target: string | undefined,
  opts: RedisOpts & {limits?: WindowLimits} = {},
): Promise<PreflightResult> {
  const findings: Finding[] = []
  const src = await withRedis(source, opts.sourcePasswordEnv, async (r) => {
    const s = await info(r, 'server')
    const m = await info(r, 'memory')
    findings.push(...(await sourceFindings(r, s, m, opts.limits ?? WINDOW_DEFAULTS)))
    return {version: s.redis_version, used: Number(m.used_memory ?? 0)}
  })
  if (target)
    findings.push(...(await withRedis(target, opts.targetPasswordEnv, (r) => targetFindings(r, src.version, src.used))))
  return summarize('redis', redactUrl(source), target ? redactUrl(target) : undefined, src.version, findings)
}

/** The source: CLIENT PAUSE WRITE, not a cluster, persistence, size, eviction, the window, a password. */
async function sourceFindings(
  r: Redis,
  s: Record<string, string>,
  m: Record<string, string>,
  limits: WindowLimits,
): Promise<Finding[]> {
  const findings: Finding[] = []
  const p = await info(r, 'persistence')
  const cl = await info(r, 'cluster')
  const ks = keyspace(await info(r, 'keyspace'))
  const version = s.redis_version
  if (!versionAtLeast(version, [6, 2]))
    findings.push({
      severity: 'blocker',
      code: 'REDIS_VERSION',
      message: `Redis ${version} lacks CLIENT PAUSE WRITE (6.2+)`,
      hint: 'Upgrade the source, or accept a CLIENT PAUSE ALL at cutover',
    })
  if (cl.cluster_enabled === '1')
    findings.push({
      severity: 'blocker',
      code: 'REDIS_CLUSTER',
      message: 'the source runs in cluster mode; REPLICAOF moves one node',
      hint: 'Migrate each shard, or use the target service’s online migration',
    })
  const rdb = p.rdb_last_save_time && (await r.config('GET', 'save').catch(() => ['save', '']))
  const aof = p.aof_enabled === '1'
  const save = Array.isArray(rdb) ? String(rdb[1] ?? '') : ''
  findings.push({
    severity: aof || save ? 'info' : 'warning',
    code: 'REDIS_PERSISTENCE',
    message: `persistence: ${aof ? 'AOF' : 'no AOF'}, RDB snapshots ${save ? `"${save}"` : 'off'}`,
    hint:
      aof || save
        ? undefined
        : 'A restart loses everything; the replica’s full sync still works (diskless or a temporary RDB)',
  })
  findings.push({
    severity: 'info',
    code: 'REDIS_SIZE',
    message: `${[...ks.values()].reduce((a, b) => a + b, 0)} key(s) in ${ks.size} database(s), ${m.used_memory_human} used`,
  })
  if (m.maxmemory_policy && m.maxmemory_policy !== 'noeviction' && Number(m.maxmemory) > 0)
    findings.push({
      severity: 'warning',
      code: 'REDIS_EVICTION',
      message: `maxmemory-policy ${m.maxmemory_policy}: keys evicted on the source during the move make the key counts differ`,
    })
  findings.push(
    windowFinding(
      'REDIS',
      estimateWindowMs('redis', 0),
      limits,
      'key counts only inside the pause; CLIENT PAUSE lasts at most the bound',
    ),
  )
  const auth = await r.config('GET', 'requirepass').catch(() => ['requirepass', ''])
  if (Array.isArray(auth) && auth[1])
    findings.push({
      severity: 'info',
      code: 'REDIS_AUTH',
      message:
        'the source requires a password: the target needs masterauth (migrate db redis-replicate --password-env)',
    })
  return findings
}

/** The target: empty, memory for the source's data, a version that loads the source's RDB. */
async function targetFindings(r: Redis, version: string, used: number): Promise<Finding[]> {
  const findings: Finding[] = []
  const s = await info(r, 'server')
  const m = await info(r, 'memory')
  const ks = keyspace(await info(r, 'keyspace'))
  const n = [...ks.values()].reduce((a, b) => a + b, 0)
  if (n > 0)
    findings.push({
      severity: 'warning',
      code: 'REDIS_TARGET_NOT_EMPTY',
      message: `the target holds ${n} key(s); REPLICAOF discards them`,
    })
  if (Number(m.maxmemory) > 0 && Number(m.maxmemory) < used * 1.2)
    findings.push({
      severity: 'blocker',
      code: 'REDIS_TARGET_MEMORY',
      message: `target maxmemory ${m.maxmemory_human} is too small for the source's ${(used / 1048576).toFixed(1)} MiB`,
    })
  if (!versionAtLeast(s.redis_version, [version.split('.').map(Number)[0], 0]))
    findings.push({
      severity: 'blocker',
      code: 'REDIS_TARGET_OLDER',
      message: `target ${s.redis_version} is older than source ${version}; a replica cannot load a newer RDB`,
    })
  return findings
}

/** Key counts per logical database on both sides. */
export async function redisVerify(source: string, target: string, opts: RedisOpts = {}): Promise<VerifyResult> {
  const t0 = Date.now()
  const measure = async (r: Redis) => new Map([...keyspace(await info(r, 'keyspace'))].map(([k, v]) => [k, {rows: v}]))
  const [a, b] = await Promise.all([
    withRedis(source, opts.sourcePasswordEnv, measure),
    withRedis(target, opts.targetPasswordEnv, measure),
  ])
  return compare('redis', source, target, a, b, t0)
}

/** REPLICAOF the source (addr as the target reaches it); masterauth from passwordEnv when the source needs one. */
export async function redisReplicate(
  source: string,
  target: string,
  opts: RedisOpts & {sourceAddr?: string; masterauthEnv?: string; unpause?: boolean} = {},
): Promise<{master: string}> {
  const addr = opts.sourceAddr ? hostPort(`tcp://${opts.sourceAddr}`, 6379) : hostPort(source, 6379)
  await withRedis(target, opts.targetPasswordEnv, async (r) => {
    if (opts.masterauthEnv) await r.config('SET', 'masterauth', process.env[opts.masterauthEnv] ?? '')
    await r.call('REPLICAOF', addr.host, String(addr.port))
    if (opts.unpause) await r.call('CLIENT', 'UNPAUSE')
  })
  return {master: `${addr.host}:${addr.port}`}
}

/** REPLICAOF NO ONE: the replica becomes a primary and accepts writes. */
export async function redisPromote(url: string, opts: {passwordEnv?: string} = {}): Promise<void> {
  await withRedis(url, opts.passwordEnv, async (r) => {
    await r.call('REPLICAOF', 'NO', 'ONE')
  })
}

/**
 * CLIENT PAUSE ms WRITE: writers wait (no error), readers go on, replication offsets stop moving. The pause lapses
 * by itself after `ms`: a cutover passes its window's bound here and never promotes after it (see window.ts).
 * With waitMs, a server that does not take the pause in time (a busy Lua script or function answers BUSY to every
 * command) fails fast with what holds it, and a pause that arrives late is lifted again.
 */
export async function redisPause(
  url: string,
  ms: number,
  opts: {passwordEnv?: string; waitMs?: number} = {},
): Promise<void> {
  await withRedis(url, opts.passwordEnv, async (r) => {
    try {
      await within(
        opts.waitMs ?? 10_000,
        `CLIENT PAUSE on ${redactUrl(url)}`,
        r.call('CLIENT', 'PAUSE', String(Math.round(ms)), 'WRITE'),
        'REDIS_PAUSE_TIMEOUT',
      )
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e)
      if (/^BUSY/.test(msg))
        throw new MigrateError(
          `${redactUrl(url)} is running a Lua script or function (BUSY) and takes no command, so writes cannot be paused; nothing changed`,
          {
            code: 'REDIS_PAUSE_BLOCKED',
            hint: 'Wait for the script to end, or SCRIPT KILL / FUNCTION KILL it, then run the cutover again',
          },
        )
      if (e instanceof MigrateError && e.code === 'REDIS_PAUSE_TIMEOUT') {
        const u = await redisConnect(url, opts.passwordEnv, {timeoutMs: 2000}).catch(() => undefined)
        await u?.call('CLIENT', 'UNPAUSE').catch(() => {})
        u?.disconnect()
      }
      throw e
    }
  })
}

/** The primary's replication offset (it does not move while writes are paused: pings to replicas pause too). */
export async function redisOffset(url: string, passwordEnv?: string): Promise<number> {
  return withRedis(url, passwordEnv, async (r) => Number((await info(r, 'replication')).master_repl_offset))
}

/** The write block's probe: no write reached the source since the target caught up at `offset`. */
export async function redisBlockInForce(url: string, offset: number, passwordEnv?: string): Promise<void> {
  const now = await redisOffset(url, passwordEnv)
  if (now !== offset)
    throw new MigrateError(
      `the source took writes after the target caught up (offset ${now}, the target has ${offset}): the pause is no longer in force`,
      {code: 'WRITE_BLOCK_LAPSED', hint: 'Someone ran CLIENT UNPAUSE, or the pause expired; nothing was promoted'},
    )
}

/** Clients inside MULTI or blocked (BLPOP, WAIT, …) on the server: their next write waits out the pause. */
export async function redisWaitingClients(url: string, passwordEnv?: string): Promise<string[]> {
  return withRedis(url, passwordEnv, async (r) => {
    const list = String(await r.call('CLIENT', 'LIST'))
    return list
      .split('\n')
      .filter((l) => /flags=\S*[xb]/.test(l))
      .map((l) => {
        const f = Object.fromEntries(
          l
            .trim()
            .split(' ')
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        )
        return `client ${f.id} ${f.addr}${f.name ? ` (${f.name})` : ''} ${/x/.test(f.flags) ? `in MULTI (${f.multi} queued)` : `blocked in ${f.cmd}`} for ${f.age} s`
      })
  })
}

export async function redisUnpause(url: string, opts: {passwordEnv?: string} = {}): Promise<void> {
  await withRedis(url, opts.passwordEnv, async (r) => {
    await r.call('CLIENT', 'UNPAUSE')
  })
}

/** Lag in bytes between the primary's offset and the replica's, and the link state; null when `target` is no replica. */
export async function redisLag(
  source: string,
  target: string,
  opts: RedisOpts = {},
): Promise<{lagBytes: number; linkUp: boolean; syncing: boolean} | null> {
  const t = await withRedis(target, opts.targetPasswordEnv, (r) => info(r, 'replication'))
  if (t.role !== 'slave') return null
  const s = await withRedis(source, opts.sourcePasswordEnv, (r) => info(r, 'replication'))
  const lag = Number(s.master_repl_offset) - Number(t.slave_repl_offset)
  return {lagBytes: Math.max(0, lag), linkUp: t.master_link_status === 'up', syncing: t.master_sync_in_progress === '1'}
}

/** Waits until the replica's link is up and its offset equals the primary's (run while writes are paused). */
export async function redisWaitSync(
  source: string,
  target: string,
  opts: RedisOpts & {timeoutMs?: number} = {},
): Promise<{offset: number; waitedMs: number}> {
  const t0 = Date.now()
  const deadline = t0 + (opts.timeoutMs ?? 60_000)
  for (;;) {
    const l = await redisLag(source, target, opts)
    if (!l)
      throw new MigrateError(`${redactUrl(target)} is not a replica`, {
        code: 'REDIS_NOT_REPLICA',
        hint: 'Run migrate db redis-replicate first',
      })
    if (l.linkUp && !l.syncing && l.lagBytes === 0) {
      const s = await withRedis(source, opts.sourcePasswordEnv, (r) => info(r, 'replication'))
      return {offset: Number(s.master_repl_offset), waitedMs: Date.now() - t0}
    }
    if (Date.now() > deadline)
      throw new MigrateError(
        `replica ${redactUrl(target)} still ${l.lagBytes} bytes behind (link ${l.linkUp ? 'up' : 'down'}) after ${Date.now() - t0} ms`,
        {code: 'REDIS_SYNC_TIMEOUT', hint: 'Check INFO replication on both and the target’s log'},
      )
    await sleep(10)
  }
}

/**
 * Fail back after cutover (the source replicates from the target): pause writes on the target, wait until the
 * source has every byte, promote the source. Repointing clients and demoting the target are their steps' rollbacks.
 */
export async function redisFailback(
  source: string,
  target: string,
  opts: RedisOpts & {pauseMs?: number; timeoutMs?: number} = {},
): Promise<{offset: number}> {
  const pauseMs = opts.pauseMs ?? 30_000
  const t0 = performance.now()
  await redisPause(target, pauseMs, {passwordEnv: opts.targetPasswordEnv})
  // Never promote once the pause may have lapsed: the wait ends a second before it, and the offset is probed.
  const {offset} = await redisWaitSync(target, source, {
    sourcePasswordEnv: opts.targetPasswordEnv,
    targetPasswordEnv: opts.sourcePasswordEnv,
    timeoutMs: Math.min(opts.timeoutMs ?? 60_000, pauseMs - 1000),
  })
  if (performance.now() - t0 > pauseMs - 1000)
    throw new MigrateError(`the pause on ${redactUrl(target)} is about to lapse (${pauseMs} ms): not promoting`, {
      code: 'WRITE_BLOCK_LAPSED',
      hint: 'Run the fail-back again with a longer --pause-for',
    })
  await redisBlockInForce(target, offset, opts.targetPasswordEnv)
  await redisPromote(source, {passwordEnv: opts.sourcePasswordEnv})
  return {offset}
}

/**
 * Before pausing: the target replicates from the source, its link is up, and it reaches the source's offset of
 * now within timeoutMs while writes go on (a stalled link or a stopped replica fails here, not inside the pause).
 */
export async function redisCatchUp(
  source: string,
  target: string,
  opts: RedisOpts & {timeoutMs: number; sourceAddr?: {host: string; port: number}},
): Promise<{offset: number; waitedMs: number}> {
  const t0 = Date.now()
  const deadline = t0 + opts.timeoutMs
  const left = () => Math.max(1, deadline - Date.now())
  // Bounded inside withRedis: a connection whose command timed out is closed, never reused.
  const offset = await withRedis(source, opts.sourcePasswordEnv, async (r) =>
    Number(
      (await within(left(), `INFO on the source ${redactUrl(source)}`, info(r, 'replication'), 'REDIS_LAG_TIMEOUT'))
        .master_repl_offset,
    ),
  )
  for (;;) {
    const t = await withRedis(target, opts.targetPasswordEnv, (r) =>
      within(
        left(),
        `INFO on the target ${redactUrl(target)} (a stopped or overloaded replica)`,
        info(r, 'replication'),
        'REDIS_LAG_TIMEOUT',
      ),
    )
    if (t.role !== 'slave')
      throw new MigrateError(`${redactUrl(target)} is not a replica (role ${t.role})`, {
        code: 'REDIS_NOT_REPLICA',
        hint: 'Run migrate db redis-replicate first',
      })
    if (opts.sourceAddr && Number(t.master_port) !== opts.sourceAddr.port)
      throw new MigrateError(
        `${redactUrl(target)} replicates from ${t.master_host}:${t.master_port}, not from the source ${opts.sourceAddr.host}:${opts.sourceAddr.port}`,
        {code: 'REDIS_WRONG_MASTER', hint: 'Check --source / --source-addr'},
      )
    if (t.master_link_status === 'up' && t.master_sync_in_progress !== '1' && Number(t.slave_repl_offset) >= offset)
      return {offset, waitedMs: Date.now() - t0}
    if (Date.now() > deadline)
      throw new MigrateError(
        `the target did not reach the source's offset ${offset} within ${opts.timeoutMs} ms while writes go on (link ${t.master_link_status}, at ${t.slave_repl_offset}, last I/O ${t.master_last_io_seconds_ago} s ago)`,
        {
          code: 'REDIS_LAG_TIMEOUT',
          hint: 'The replica link is down or stalled: check INFO replication on the target and its log',
        },
      )
    await sleep(20)
  }
}
