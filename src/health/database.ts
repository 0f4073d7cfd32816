// Database health checks (sql, redis, replication-lag) with the real drivers (pg, mysql2, ioredis). A check returns
// a result and never throws: a refused connection, a wrong answer or an abort are all `failed` with one line that
// names the server (password redacted).
import {MigrateError} from '../errors.js'
import type {HealthCheck} from '../schema/template.js'
import type {CheckResult} from './types.js'
import {engineOfUrl, myRows, pgConnect, mysqlConnect, parseInfo, redactUrl, redisConnect} from '../db/connect.js'
import {pgSlotLag} from '../db/postgres.js'
import {pgApplyHealthCheck} from '../db/pg-health.js'
import {mariadbLag} from '../db/mariadb.js'
import {redisLag} from '../db/redis.js'

type Of<T extends HealthCheck['type']> = Extract<HealthCheck, {type: T}>

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e)
  return m.split('\n')[0]
}

/** Runs fn; an abort or a thrown error become a failed result. */
async function attempt(signal: AbortSignal, fn: () => Promise<Omit<CheckResult, 'durationMs'>>): Promise<CheckResult> {
  const t0 = Date.now()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<Omit<CheckResult, 'durationMs'>>((resolve) => {
    onAbort = () => resolve({status: 'failed', message: 'aborted (timeout or interrupt)'})
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, {once: true})
  })
  try {
    const r = await Promise.race([
      fn().catch((e) => ({status: 'failed' as const, message: e instanceof MigrateError ? e.message : message(e)})),
      aborted,
    ])
    return {...r, durationMs: Date.now() - t0}
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort)
  }
}

function judge(
  value: unknown,
  check: {expect?: string | number | boolean; max?: number},
  what: string,
): Omit<CheckResult, 'durationMs'> {
  const shown = value === null || value === undefined ? 'NULL' : String(value)
  if (check.expect !== undefined && shown !== String(check.expect))
    return {status: 'failed', message: `${what} returned ${shown}, expected ${check.expect}`, data: {value: shown}}
  if (check.max !== undefined && !(Number(value) <= check.max))
    return {status: 'failed', message: `${what} returned ${shown}, more than ${check.max}`, data: {value: shown}}
  return {status: 'passed', message: `${what} returned ${shown}`, data: {value: shown}}
}

export async function runSqlCheck(check: Of<'sql'>, signal: AbortSignal): Promise<CheckResult> {
  return attempt(signal, async () => {
    const where = redactUrl(check.url)
    if (check.engine === 'postgres') {
      const c = await pgConnect(check.url, check.passwordEnv, {timeoutMs: 5000})
      try {
        const r = await c.query({text: check.query, rowMode: 'array'})
        return judge(r.rows[0]?.[0], check, `query on ${where}`)
      } finally {
        await c.end().catch(() => {})
      }
    }
    const c = await mysqlConnect(check.url, check.passwordEnv, {timeoutMs: 5000})
    try {
      const rows = await myRows(c, check.query)
      const first = rows[0] ? Object.values(rows[0])[0] : undefined
      return judge(first, check, `query on ${where}`)
    } finally {
      await c.end().catch(() => {})
    }
  })
}

export async function runRedisCheck(check: Of<'redis'>, signal: AbortSignal): Promise<CheckResult> {
  return attempt(signal, async () => {
    const where = redactUrl(check.url)
    const r = await redisConnect(check.url, check.passwordEnv, {timeoutMs: 5000})
    try {
      if (check.expect === 'pong') {
        const pong = await r.ping()
        return pong === 'PONG'
          ? {status: 'passed', message: `${where} answered PONG`}
          : {status: 'failed', message: `${where} answered ${pong}`}
      }
      const i = parseInfo(String(await r.info('replication')))
      const role = i.role === 'slave' ? 'replica' : i.role
      if (check.expect === 'link-up') {
        const ok = role === 'replica' && i.master_link_status === 'up' && i.master_sync_in_progress !== '1'
        return {
          status: ok ? 'passed' : 'failed',
          message: ok
            ? `${where} replicates from ${i.master_host}:${i.master_port}, link up`
            : `${where}: role ${role}, link ${i.master_link_status ?? 'n/a'}${i.master_sync_in_progress === '1' ? ', full sync in progress' : ''}`,
          data: {role, link: i.master_link_status},
        }
      }
      return {
        status: role === check.expect ? 'passed' : 'failed',
        message: `${where} is a ${role}${role === check.expect ? '' : `, expected ${check.expect}`}`,
        data: {role},
      }
    } finally {
      r.disconnect()
    }
  })
}

export async function runReplicationLagCheck(check: Of<'replication-lag'>, signal: AbortSignal): Promise<CheckResult> {
  return attempt(signal, async () => {
    const opts = {sourcePasswordEnv: check.passwordEnv, targetPasswordEnv: check.passwordEnv}
    switch (check.engine) {
      case 'postgres': {
        const slot = check.slot ?? 'mig_sub'
        const lag = await pgSlotLag(check.source, slot, check.passwordEnv)
        if (!lag) return {status: 'failed', message: `no replication slot ${slot} on ${redactUrl(check.source)}`}
        // Bytes alone pass while nothing applies (a stopped apply worker confirms nothing, a quiet source writes
        // nothing, and a worker that fails on each change restarts every few seconds, its slot active meanwhile):
        // the subscriber's worker, its error counters and the schema of the published tables count too.
        const problems = await pgApplyHealthCheck(check.source, check.target, slot, check.passwordEnv)
        if (!lag.active) problems.unshift(`slot ${slot} is not in use: the subscription is not streaming`)
        if (problems.length)
          return {
            status: 'failed',
            message: `slot ${slot} lag ${lag.lagBytes} bytes, but replication is not applying: ${problems.join('; ')}`,
            data: {lagBytes: lag.lagBytes, problems},
          }
        const ok = lag.lagBytes <= check.maxLag
        return {
          status: ok ? 'passed' : 'failed',
          message: `slot ${slot} lag ${lag.lagBytes} bytes${ok ? ', applying' : ` > ${check.maxLag}`}`,
          data: {lagBytes: lag.lagBytes},
        }
      }
      case 'mysql':
      case 'mariadb': {
        const lag = await mariadbLag(check.target, check.passwordEnv)
        if (!lag) return {status: 'failed', message: `${redactUrl(check.target)} is not a replica`}
        if (lag.io !== 'Yes' || lag.sql !== 'Yes' || lag.seconds === null)
          return {
            status: 'failed',
            message: `replica threads IO ${lag.io}, SQL ${lag.sql}${lag.error ? `: ${lag.error}` : ''}`,
          }
        const ok = lag.seconds <= check.maxLag
        return {
          status: ok ? 'passed' : 'failed',
          message: `replica ${lag.seconds} s behind${ok ? '' : ` > ${check.maxLag}`}`,
          data: {seconds: lag.seconds},
        }
      }
      case 'redis': {
        const lag = await redisLag(check.source, check.target, opts)
        if (!lag) return {status: 'failed', message: `${redactUrl(check.target)} is not a replica`}
        const ok = lag.linkUp && !lag.syncing && lag.lagBytes <= check.maxLag
        return {
          status: ok ? 'passed' : 'failed',
          message: `link ${lag.linkUp ? 'up' : 'down'}${lag.syncing ? ', syncing' : ''}, ${lag.lagBytes} bytes behind`,
          data: {lagBytes: lag.lagBytes},
        }
      }
    }
  })
}

/** The engine a URL speaks, for callers that accept any database URL. */
export {engineOfUrl}
