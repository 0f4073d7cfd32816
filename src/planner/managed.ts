// Databases moved onto a managed class: which runbook works on that target (the managed variant of the engine's
// template), which target-side parameters the plan can derive (never endpoints or passwords, which come from the
// team's infrastructure outputs and the environment), and what the managed resource must have before its wave.
import type {TargetCloud} from '../schema/common.js'
import type {Database} from '../schema/inventory.js'
import type {Plan} from '../schema/plan.js'

/** Runbooks that work on a managed target, per cloud and engine. Engines without one keep the self-managed template, whose pre-flight blocks on a managed target. */
export const MANAGED_DB_TEMPLATES: Record<TargetCloud, Partial<Record<string, string>>> = {
  aws: {postgres: 'postgres-rds', mariadb: 'mariadb-rds', redis: 'redis-elasticache'},
  alicloud: {mysql: 'alicloud-dts-mysql', mariadb: 'alicloud-dts-mysql', redis: 'alicloud-dts-redis'},
}

export function managedTemplate(cloud: TargetCloud, engine: string, fallback: string): string {
  return MANAGED_DB_TEMPLATES[cloud][engine] ?? fallback
}

/** A name for a managed resource from the application and database ids: lowercase letters, digits, hyphens, ≤ 40 characters, starting with a letter. */
export function resourceId(app: string, db: string): string {
  const s = `${app}-${db}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '')
  return (s || 'db').slice(0, 40).replace(/-$/, '')
}

/** Target-side parameters of a managed template that follow from the plan (the rest are the operator's). */
export function managedParams(template: string, app: string, db: Database, region: string): Record<string, string> {
  switch (template) {
    case 'redis-elasticache':
      return {replication_group_id: resourceId(app, db.id), region}
    case 'mariadb-rds':
    case 'postgres-rds':
      return {}
    // The DTS job id and the instance ids are outputs of the team's provisioning: the plan names them as resources.
    case 'alicloud-dts-mysql':
      return {engine: db.engine, database: db.name ?? '', region}
    case 'alicloud-dts-redis':
      return {region}
    default:
      return {}
  }
}

/** What the managed resource needs before the wave, by template. */
export function managedRequires(template: string, app: string, db: Database): Record<string, string> | undefined {
  switch (template) {
    case 'mariadb-rds':
      return {
        identifier: resourceId(app, db.id),
        binlog_format: 'ROW (DB parameter group)',
        gtid_strict_mode: '0 during the migration, or a gtid_domain_id of its own (the dump loads through the binlog)',
        'backup retention': '≥ 1 day (turns the binlog on: the source replicates back from RDS for a rollback)',
        'binlog retention hours': 'set by the runbook (mysql.rds_set_configuration)',
        users: 'the application users, and a replication user with REPLICATION SLAVE for the way back',
        network: 'RDS reaches the source on its port, and the source reaches RDS',
      }
    case 'postgres-rds':
      return {
        identifier: resourceId(app, db.id),
        'rds.logical_replication': '1 (static: reboot before the wave; the way back needs the target to publish)',
        max_replication_slots: '≥ 10',
        'master user': 'owner of the database, member of rds_superuser',
        roles: "the source's roles (the schema's GRANTs name them)",
        network:
          'the target reaches the source (its replication user asks for a password), and the source reaches the target',
      }
    case 'redis-elasticache':
      return {
        'replication group': resourceId(app, db.id),
        'cluster mode': 'disabled',
        'in-transit encryption': 'disabled (online migration does not support it)',
        'Multi-AZ': 'enabled',
        'engine version': `≥ 5.0.6 and ≥ the source's${db.version ? ` (${db.version})` : ''}`,
        network: "the group's VPC reaches the source node",
      }
    case 'alicloud-dts-mysql':
    case 'alicloud-dts-redis':
      return dtsRequires(template, app, db)
    default:
      return undefined
  }
}

/** An ApsaraDB RDS / Tair instance and a DTS migration instance (its job id goes into the plan as dts_job_id). */
function dtsRequires(template: string, app: string, db: Database): Record<string, string> {
  const id = resourceId(app, db.id)
  const dbEngine = template === 'alicloud-dts-redis' ? 'Redis' : db.engine === 'mariadb' ? 'MariaDB' : 'MySQL'
  const common = {
    'target instance': `${id} (${template === 'alicloud-dts-redis' ? 'Tair' : 'ApsaraDB RDS'} ${dbEngine}, version ≥ the source's${db.version ? ` ${db.version}` : ''}): its id → target_instance_id`,
    'DTS job': `a DTS migration instance for ${id} (source ${dbEngine} on ECS/self-managed, destination ${template === 'alicloud-dts-redis' ? 'Tair' : 'ApsaraDB RDS'} ${dbEngine}, same region): its job id → dts_job_id`,
    network: "DTS reaches the source (allow the region's DTS server addresses), and HAProxy reaches the instance",
  }
  if (template === 'alicloud-dts-redis')
    return {
      ...common,
      'Tair account': 'one that may write every key (DTS writes with it)',
      'cluster mode': 'as the source',
    }
  return {
    ...common,
    'source binlog': 'log_bin ON, binlog_format ROW, binlog_row_image FULL, kept ≥ 24 h (DTS reads it)',
    'DTS account on the source':
      'REPLICATION SLAVE, REPLICATION CLIENT, SELECT on the database (the reverse task also writes with it)',
    'master account': `owner of database ${db.name ?? db.id} on the instance (DTS writes with it), and the application's accounts`,
  }
}

/** Per wave, the managed resources that must exist before it (engine, version, class, what they need). */
export function managedResources(plan: Plan): {
  wave: number
  app: string
  db: string
  service: string
  instanceClass: string
  engine?: string
  version?: string
  template?: string
  requires: Record<string, string>
}[] {
  const out = []
  for (const w of plan.waves)
    for (const name of w.applications) {
      const a = plan.applications.find((x) => x.name === name)
      for (const d of a?.databases ?? [])
        if (d.requires)
          out.push({
            wave: w.number,
            app: name,
            db: d.id,
            service: d.service,
            instanceClass: d.instanceClass,
            engine: d.engine,
            version: d.version,
            template: d.template,
            requires: d.requires,
          })
    }
  return out
}

/** The resources as text lines for the table view (markdown: `markdown`). */
export function managedResourceLines(plan: Plan, markdown = false): string[] {
  const rs = managedResources(plan)
  if (rs.length === 0) return []
  const out = [
    '',
    markdown
      ? '## Managed resources to create before each wave'
      : 'managed resources to create before each wave (provisioning is yours; the runbooks check them in pre-flight):',
  ]
  for (const r of rs) {
    const head = `wave ${r.wave}: ${r.service} ${r.instanceClass} for ${r.app}/${r.db}${r.engine ? ` (${r.engine}${r.version ? ` ${r.version}+` : ''})` : ''}, runbook ${r.template}`
    out.push(markdown ? `- **${head}**` : `  ${head}`)
    for (const [k, v] of Object.entries(r.requires)) out.push(markdown ? `  - ${k}: ${v}` : `      ${k}: ${v}`)
  }
  return out
}
