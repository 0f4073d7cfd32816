// Database health checks (sql, redis, replication-lag). Placeholder signatures: the database-replication work
// replaces the bodies with real drivers (pg, mysql2, ioredis).
import type {HealthCheck} from '../schema/template.js'
import type {CheckResult} from './types.js'

type Of<T extends HealthCheck['type']> = Extract<HealthCheck, {type: T}>

export async function runSqlCheck(check: Of<'sql'>, _signal: AbortSignal): Promise<CheckResult> {
  return {status: 'failed', message: `sql checks (${check.engine}) are not available yet`, durationMs: 0}
}

export async function runRedisCheck(check: Of<'redis'>, _signal: AbortSignal): Promise<CheckResult> {
  return {status: 'failed', message: `redis checks (${check.url}) are not available yet`, durationMs: 0}
}

export async function runReplicationLagCheck(check: Of<'replication-lag'>, _signal: AbortSignal): Promise<CheckResult> {
  return {status: 'failed', message: `replication-lag checks (${check.engine}) are not available yet`, durationMs: 0}
}
