// The runbook templates the planner chooses from: per database engine with a managed target, per target cloud for
// rehosted VMs.
import type {TargetCloud} from '../schema/common.js'

/** Engines with a managed target and a replication template. */
export const DB_TEMPLATES: Record<string, string> = {
  postgres: 'postgres-logical-replication',
  mysql: 'mariadb-gtid-replication',
  mariadb: 'mariadb-gtid-replication',
  redis: 'redis-replicaof',
}

export const REHOST_TEMPLATES: Record<TargetCloud, string> = {
  aws: 'aws-mgn-rehost',
  alicloud: 'alicloud-smc-rehost',
}

/** The template name of applications that stay out of the waves (retain/retire). */
export const NO_TEMPLATE = 'none'
