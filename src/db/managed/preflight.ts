// Pre-flight that knows what the target is. A self-managed target must allow what the self-managed template runs
// (CHANGE MASTER, SET GLOBAL read_only, …); a managed one must offer what its managed template calls instead. The
// engine pre-flights (postgres.ts, mariadb.ts, redis.ts) check the data and the source; these findings are added.
import type {Engine} from '../connect.js'
import {withMysql} from '../connect.js'
import type {Finding} from '../types.js'
import {rdsMariadbFindings, selfManagedTargetFindings, targetPowers} from './rds-mariadb.js'

export const TARGET_SERVICES = ['auto', 'self-managed', 'rds', 'aurora', 'elasticache'] as const
export type TargetService = (typeof TARGET_SERVICES)[number]

export interface ManagedPreflightOptions {
  service: TargetService
  replUser?: string
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

/** The base findings with the target-kind checks added (and base findings a managed path makes moot removed). */
export async function managedFindings(engine: Engine, source: string, target: string, base: Finding[], o: ManagedPreflightOptions): Promise<{findings: Finding[]; service: TargetService}> {
  if (engine === 'mariadb' || engine === 'mysql') {
    let service = o.service
    if (service === 'auto') {
      const p = await withMysql(target, o.targetPasswordEnv, targetPowers)
      service = p.rdsProcedures.includes('rds_set_external_master_gtid') && !p.replicaAdmin ? 'rds' : 'self-managed'
    }
    if (service === 'self-managed') return {service, findings: [...base, ...(await selfManagedTargetFindings(target, o.targetPasswordEnv))]}
    // On RDS the target's binlog matters for the way back and is checked as a blocker by the managed checks.
    const kept = base.filter((f) => f.code !== 'MARIADB_TARGET_BINLOG')
    return {service, findings: [...kept, ...(await rdsMariadbFindings(source, target, {reverseReplUser: o.replUser, sourcePasswordEnv: o.sourcePasswordEnv, targetPasswordEnv: o.targetPasswordEnv}))]}
  }
  return {service: o.service, findings: base}
}
