// Pre-flight that knows what the target is. A self-managed target must allow what the self-managed template runs
// (CHANGE MASTER, SET GLOBAL read_only, …); a managed one must offer what its managed template calls instead. The
// engine pre-flights (postgres.ts, mariadb.ts, redis.ts) check the data and the source; these findings are added.
import type {Engine} from '../connect.js'
import {withMysql, withPg, withRedis} from '../connect.js'
import type {Finding} from '../types.js'
import {rdsPostgresFindings} from './rds-postgres.js'
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
export async function managedFindings(
  engine: Engine,
  source: string,
  target: string,
  base: Finding[],
  o: ManagedPreflightOptions,
): Promise<{findings: Finding[]; service: TargetService}> {
  if (engine === 'mariadb' || engine === 'mysql') {
    let service = o.service
    if (service === 'auto') {
      const p = await withMysql(target, o.targetPasswordEnv, targetPowers)
      service = p.rdsProcedures.includes('rds_set_external_master_gtid') && !p.replicaAdmin ? 'rds' : 'self-managed'
    }
    if (service === 'self-managed')
      return {service, findings: [...base, ...(await selfManagedTargetFindings(target, o.targetPasswordEnv))]}
    // On RDS the target's binlog matters for the way back and is checked as a blocker by the managed checks.
    const kept = base.filter((f) => f.code !== 'MARIADB_TARGET_BINLOG')
    return {
      service,
      findings: [
        ...kept,
        ...(await rdsMariadbFindings(source, target, {
          reverseReplUser: o.replUser,
          sourcePasswordEnv: o.sourcePasswordEnv,
          targetPasswordEnv: o.targetPasswordEnv,
        })),
      ],
    }
  }
  if (engine === 'postgres') {
    const managed =
      o.service === 'rds' ||
      o.service === 'aurora' ||
      (o.service === 'auto' && (await pgLooksManaged(target, o.targetPasswordEnv)))
    if (managed)
      return {
        service: o.service === 'auto' ? 'rds' : o.service,
        findings: await rdsPostgresFindings(target, base, o.targetPasswordEnv),
      }
    // Self-managed path: its blocker stays, but says where the managed path is when the target looks managed.
    if (await pgLooksManaged(target, o.targetPasswordEnv))
      return {
        service: 'self-managed',
        findings: base.map((f) =>
          f.code === 'PG_TARGET_NOT_SUPERUSER'
            ? {
                ...f,
                hint: 'The target looks like RDS/Aurora (rds_superuser): use the template postgres-rds, which subscribes as the master user (or run the pre-flight with --target-service rds)',
              }
            : f,
        ),
      }
  }
  if (engine === 'redis' && (o.service === 'self-managed' || o.service === 'auto')) {
    const missing = await withRedis(target, o.targetPasswordEnv, async (r) => {
      const info = (await r.call('COMMAND', 'INFO', 'REPLICAOF', 'CONFIG')) as unknown[]
      return ['REPLICAOF', 'CONFIG'].filter((_, i) => !info[i])
    })
    if (missing.length > 0)
      return {
        service: o.service,
        findings: [
          ...base,
          {
            severity: 'blocker',
            code: 'REDIS_TARGET_COMMANDS',
            message: `the target does not offer ${missing.join(', ')} to clients (renamed or disabled, as on ElastiCache): the replicaof template cannot make it a replica`,
            hint: 'For ElastiCache use the template redis-elasticache (StartMigration/CompleteMigration through the API); for a node of ours, undo the rename-command',
          },
        ],
      }
  }
  return {service: o.service, findings: base}
}

/** A target whose user is no superuser but sits in an rds_superuser role: RDS or Aurora (or a stand-in). */
async function pgLooksManaged(target: string, passwordEnv?: string): Promise<boolean> {
  return withPg(target, passwordEnv, async (c) => {
    const r = (
      await c.query(
        "SELECT rolsuper AS su, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_superuser') AND pg_has_role(current_user, 'rds_superuser', 'USAGE') AS rds FROM pg_roles WHERE rolname = current_user",
      )
    ).rows[0]
    return !r.su && r.rds
  })
}
