// One entry point for every health check type; results are values, never exceptions. Database checks (sql, redis,
// replication-lag) live in db.ts, written with the real drivers.
import {durationMs} from '../schema/common.js'
import type {HealthCheck} from '../schema/template.js'
import {runCommandCheck} from './command.js'
import {runHttpCheck} from './http.js'
import {runTcpCheck} from './tcp.js'
import type {CheckResult} from './types.js'

export type {CheckResult} from './types.js'

export const DEFAULT_CHECK_TIMEOUT_MS = 10_000

export interface CheckContext {
  env?: Record<string, string>
  cwd?: string
}

/** Runs one attempt of a (rendered) check. */
export async function runCheck(check: HealthCheck, signal: AbortSignal, ctx: CheckContext = {}): Promise<CheckResult> {
  const timeoutMs = check.timeout !== undefined ? durationMs(check.timeout) : DEFAULT_CHECK_TIMEOUT_MS
  try {
    switch (check.type) {
      case 'http':
        return await runHttpCheck(check, signal, timeoutMs)
      case 'tcp': {
        const port = Number(check.port)
        if (!Number.isInteger(port) || port < 1 || port > 65535)
          return {
            status: 'failed',
            message: `tcp: port ${JSON.stringify(check.port)} is not a port number`,
            durationMs: 0,
          }
        return await runTcpCheck(check.host, port, signal, timeoutMs)
      }
      case 'command':
        return await runCommandCheck(check, signal, timeoutMs, ctx.env, ctx.cwd)
      case 'sql':
        return await withTimeout(
          (await db()).runSqlCheck(check, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])),
          timeoutMs,
        )
      case 'redis':
        return await withTimeout(
          (await db()).runRedisCheck(check, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])),
          timeoutMs,
        )
      case 'replication-lag':
        return await withTimeout(
          (await db()).runReplicationLagCheck(check, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])),
          timeoutMs,
        )
      default:
        return assertNever(check)
    }
  } catch (e) {
    return {status: 'failed', message: `${check.type} check failed: ${(e as Error).message}`, durationMs: 0}
  }
}

/** A short human description of a check, for dry-runs and progress lines. */
export function describeCheck(c: HealthCheck): string {
  switch (c.type) {
    case 'http':
      return `http ${c.method} ${c.url} → ${Array.isArray(c.status) ? c.status.join('|') : c.status}${c.bodyContains ? ` containing ${JSON.stringify(c.bodyContains)}` : ''}`
    case 'tcp':
      return `tcp ${c.host}:${c.port}`
    case 'command':
      return `command ${c.run.map(quoteArg).join(' ')}${c.exitCode ? ` → exit ${c.exitCode}` : ''}${c.outputContains ? ` containing ${JSON.stringify(c.outputContains)}` : ''}${c.outputMatches ? ` matching /${c.outputMatches}/` : ''}`
    case 'sql':
      return `sql ${c.engine} ${c.url}: ${c.query}`
    case 'redis':
      return `redis ${c.url} expect ${c.expect}`
    case 'replication-lag':
      return `replication-lag ${c.engine} ${c.source} → ${c.target} ≤ ${c.maxLag}`
    default:
      return assertNever(c)
  }
}

/** Shows an argv element the way a person would type it in a POSIX shell (display only, never executed). */
export function quoteArg(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`
}

/** The database drivers (pg, mysql2, ioredis) load only when a database check runs: they are slow to load (bench/README.md). */
function db(): Promise<typeof import('./database.js')> {
  return import('./database.js')
}

function withTimeout(p: Promise<CheckResult>, ms: number): Promise<CheckResult> {
  let t: NodeJS.Timeout
  return Promise.race([
    p,
    new Promise<CheckResult>(
      (resolve) =>
        (t = setTimeout(
          () => resolve({status: 'failed', message: `no answer within ${ms} ms`, durationMs: ms}),
          ms + 500,
        )),
    ),
  ]).finally(() => clearTimeout(t))
}

function assertNever(x: never): never {
  throw new Error(`unexpected check ${JSON.stringify(x)}`)
}
