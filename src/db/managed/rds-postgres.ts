// PostgreSQL → Amazon RDS / Aurora PostgreSQL, where the target's master user is no superuser but a member of
// rds_superuser: it may subscribe (PostgreSQL 16+: pg_create_subscription; RDS grants the same to rds_superuser),
// but only with a password in the subscription's connection (password_required), and it may publish only the tables
// it owns (FOR ALL TABLES needs a superuser). The way back needs the target to publish: rds.logical_replication = 1,
// a static parameter (reboot), which pre-flight checks before anything changes.
import type pg from 'pg'
import {MigrateError, badInput} from '../../errors.js'
import {redactUrl, withPg} from '../connect.js'
import type {Finding} from '../types.js'

/** `CREATE PUBLICATION name FOR ALL TABLES` for a superuser; for anyone else the tables it owns, listed (all it may publish). */
export async function publicationSql(c: pg.Client, name: string): Promise<string> {
  const ident = (await c.query('SELECT quote_ident($1) AS q', [name])).rows[0].q
  if ((await c.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0]?.rolsuper)
    return `CREATE PUBLICATION ${ident} FOR ALL TABLES`
  const tables = (
    await c.query(
      `SELECT c.oid::regclass::text AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
          AND pg_has_role(current_user, c.relowner, 'USAGE') ORDER BY 1`,
    )
  ).rows.map((r) => r.t as string)
  if (tables.length === 0)
    throw new MigrateError(`there is no table ${name} could publish: the user owns none`, {
      code: 'PG_NOTHING_TO_PUBLISH',
      hint: 'Load the schema as the master user (pg_dump --no-owner), so that it owns the tables',
    })
  return `CREATE PUBLICATION ${ident} FOR TABLE ${tables.join(', ')}`
}

/** A libpq connection string with password=… appended (quoted as libpq reads it). */
export function withPassword(conninfo: string, password: string): string {
  return `${conninfo} password='${password.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

export interface SubscribeOptions {
  subscription: string
  publication: string
  /** How the target reaches the source, without password. */
  sourceConninfo: string
  /** Environment variable with the source replication user's password (put into the subscription, never argv). */
  passwordEnv?: string
  targetPasswordEnv?: string
}

/** CREATE SUBSCRIPTION as the target's (possibly non-superuser) owner; the password comes from the environment. */
export async function pgSubscribe(target: string, o: SubscribeOptions): Promise<{subscription: string}> {
  let conninfo = o.sourceConninfo
  if (o.passwordEnv) {
    const pw = process.env[o.passwordEnv]
    if (pw === undefined)
      throw badInput(
        `environment variable ${o.passwordEnv} is not set`,
        'DB_PASSWORD_ENV_MISSING',
        `Export ${o.passwordEnv} with the source replication user's password`,
      )
    conninfo = withPassword(conninfo, pw)
  }
  if (/\bpassword\s*=/.test(o.sourceConninfo))
    throw badInput(
      'the source connection string holds a password',
      'PG_CONNINFO_PASSWORD',
      'Leave the password out of --source-conninfo and name its environment variable with --password-env',
    )
  return withPg(target, o.targetPasswordEnv, async (c) => {
    const q = (
      await c.query('SELECT quote_ident($1) AS s, quote_ident($2) AS p, quote_literal($3) AS c', [
        o.subscription,
        o.publication,
        conninfo,
      ])
    ).rows[0]
    if ((await c.query('SELECT 1 FROM pg_subscription WHERE subname = $1', [o.subscription])).rowCount)
      return {subscription: o.subscription}
    try {
      await c.query(`CREATE SUBSCRIPTION ${q.s} CONNECTION ${q.c} PUBLICATION ${q.p}`)
    } catch (e) {
      const msg = (e as Error).message
        .split(o.passwordEnv ? process.env[o.passwordEnv] || '\u0000' : '\u0000')
        .join('***')
      throw new MigrateError(`CREATE SUBSCRIPTION on ${redactUrl(target)} failed: ${msg}`, {
        code: 'PG_SUBSCRIBE_FAILED',
        hint: /password is required/i.test(msg)
          ? 'A non-superuser subscription must authenticate with a password: make the source require one (pg_hba.conf scram-sha-256) for the replication user and pass --password-env'
          : 'Check that the target reaches the source, the replication user (REPLICATION, SELECT on the tables) and the publication',
      })
    }
    return {subscription: o.subscription}
  })
}

/**
 * The managed path's target checks. The base pre-flight's PG_TARGET_NOT_SUPERUSER is moot here when the owner may
 * subscribe without being one; what matters instead is that it may subscribe, create in the database, publish and
 * create slots for the way back.
 */
export async function rdsPostgresFindings(target: string, base: Finding[], passwordEnv?: string): Promise<Finding[]> {
  return withPg(target, passwordEnv, async (c) => {
    const r = (
      await c.query(`SELECT current_setting('server_version_num')::int AS v, r.rolsuper AS su, r.rolreplication AS repl,
          pg_has_role(current_user, 'pg_create_subscription', 'USAGE') AS sub,
          EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_superuser') AND pg_has_role(current_user, 'rds_superuser', 'USAGE') AS rds,
          EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication') AND pg_has_role(current_user, 'rds_replication', 'USAGE') AS rdsrepl,
          has_database_privilege(current_database(), 'CREATE') AS create_db,
          current_setting('rds.logical_replication', true) AS rlr, current_setting('wal_level') AS wal
        FROM pg_roles r WHERE r.rolname = current_user`)
    ).rows[0]
    const findings = base.filter((f) => f.code !== 'PG_TARGET_NOT_SUPERUSER' && f.code !== 'PG_TARGET_WAL_LEVEL')
    const canSubscribe = r.su || r.sub || r.rds
    if (!canSubscribe)
      findings.push({
        severity: 'blocker',
        code: 'PG_TARGET_CANNOT_SUBSCRIBE',
        message: `the target user is neither a superuser nor a member of ${r.v >= 160000 ? 'pg_create_subscription or ' : ''}rds_superuser: it cannot CREATE SUBSCRIPTION`,
        hint: 'Connect as the RDS/Aurora master user (member of rds_superuser), or GRANT pg_create_subscription to it (PostgreSQL 16+)',
      })
    else if (!r.su && !r.create_db)
      findings.push({
        severity: 'blocker',
        code: 'PG_TARGET_NO_CREATE',
        message: 'the target user lacks CREATE on the database, which a non-superuser subscription needs',
        hint: 'GRANT CREATE ON DATABASE … TO the master user (or make it the owner)',
      })
    else if (!r.su)
      findings.push({
        severity: 'info',
        code: 'PG_TARGET_MANAGED_OWNER',
        message: `the target user is not a superuser but may subscribe (${r.sub ? 'pg_create_subscription' : 'rds_superuser'}); the subscription needs the source to ask for a password, and the way back publishes the tables it owns`,
      })
    if (r.rlr !== null && r.rlr !== '' && !['1', 'on', 'true'].includes(String(r.rlr).toLowerCase()))
      findings.push({
        severity: 'blocker',
        code: 'PG_RDS_LOGICAL_REPLICATION_OFF',
        message:
          'rds.logical_replication is off on the target: it cannot publish, so reverse replication for a rollback after cutover is impossible',
        hint: 'Set rds.logical_replication = 1 in the DB (cluster) parameter group and reboot the instance before the wave (a static parameter)',
      })
    else if (r.wal !== 'logical')
      findings.push({
        severity: 'blocker',
        code: 'PG_TARGET_WAL_LEVEL',
        message: `target wal_level is ${r.wal}: reverse replication (for a rollback after cutover) needs logical`,
        hint: 'On RDS/Aurora set rds.logical_replication = 1 (static, reboot); elsewhere wal_level = logical',
      })
    if (!r.su && !r.repl && !r.rdsrepl)
      findings.push({
        severity: 'blocker',
        code: 'PG_TARGET_NO_REPLICATION',
        message:
          'the target user may not create replication slots (no REPLICATION, not in rds_replication): the way back cannot be set up',
        hint: 'GRANT rds_replication TO the master user',
      })
    return findings
  })
}
