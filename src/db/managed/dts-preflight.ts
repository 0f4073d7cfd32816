// Pre-flight of a DTS migration onto ApsaraDB RDS / Tair: what the path needs, checked before anything changes.
// Credentials present; the passwords DTS needs present; the DTS job exists and can still be configured or is ours
// running; the engine is one migrate drives through DTS; the source has what DTS reads (MySQL family: binlog on,
// ROW, full row images, primary keys; Redis: no cluster mode); the target instance answers to its account.
import {isMigrateError} from '../../errors.js'
import {myRows, parseInfo, withMysql, withRedis} from '../connect.js'
import type {Finding} from '../types.js'
import {DTS_ENGINES, type DtsTarget, dtsCredentials, dtsDescribe} from './dts.js'

export interface DtsPreflightOptions {
  engine: string
  source: string
  target: string
  dts: DtsTarget
  jobId: string
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
  /** Environment variables DTS itself needs (the passwords ConfigureDtsJob sends). */
  secretEnvs: string[]
}

const problem = (e: unknown) => (isMigrateError(e) ? e.message : String((e as Error)?.message ?? e))

async function jobFindings(o: DtsPreflightOptions): Promise<Finding[]> {
  try {
    dtsCredentials()
  } catch (e) {
    return [
      {severity: 'blocker', code: 'ALICLOUD_NO_CREDENTIALS', message: problem(e), hint: (e as {hint?: string}).hint},
    ]
  }
  try {
    const s = await dtsDescribe(o.dts, o.jobId)
    if (['Finished', 'MigrationFailed', 'Failed'].includes(s.status))
      return [
        {
          severity: 'blocker',
          code: 'DTS_JOB_ENDED',
          message: `DTS job ${o.jobId} is ${s.status}${s.errorMessage ? ` (${s.errorMessage})` : ''}: it cannot run again`,
          hint: 'Buy a new DTS instance for this migration and put its job id in the plan',
        },
      ]
    return [{severity: 'info', code: 'DTS_JOB', message: `DTS job ${o.jobId} is ${s.status}`}]
  } catch (e) {
    const code = isMigrateError(e) ? e.code : 'DTS_ERROR'
    return [{severity: 'blocker', code: code ?? 'DTS_ERROR', message: problem(e), hint: (e as {hint?: string}).hint}]
  }
}

async function mysqlSource(o: DtsPreflightOptions): Promise<Finding[]> {
  const out: Finding[] = []
  await withMysql(o.source, o.sourcePasswordEnv, async (c) => {
    const [v] = await myRows(c, 'SELECT @@log_bin AS b, @@binlog_format AS f, @@binlog_row_image AS i')
    if (Number(v.b) !== 1)
      out.push({
        severity: 'blocker',
        code: 'DTS_SOURCE_BINLOG',
        message: 'the source binary log is off: DTS reads incremental changes from it',
        hint: 'Set log_bin and restart the source',
      })
    if (v.f !== 'ROW')
      out.push({
        severity: 'blocker',
        code: 'DTS_SOURCE_BINLOG_FORMAT',
        message: `binlog_format is ${v.f}; DTS needs ROW`,
        hint: 'SET GLOBAL binlog_format = ROW (and in the config file)',
      })
    if (v.i !== 'FULL')
      out.push({
        severity: 'blocker',
        code: 'DTS_SOURCE_ROW_IMAGE',
        message: `binlog_row_image is ${v.i}; DTS needs FULL`,
        hint: 'SET GLOBAL binlog_row_image = FULL',
      })
    const noPk = await myRows(
      c,
      `SELECT CONCAT(t.TABLE_SCHEMA, '.', t.TABLE_NAME) AS n FROM information_schema.TABLES t WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA = DATABASE()
         AND NOT EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS k WHERE k.TABLE_SCHEMA = t.TABLE_SCHEMA AND k.TABLE_NAME = t.TABLE_NAME AND k.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE'))`,
    )
    if (noPk.length)
      out.push({
        severity: 'warning',
        code: 'DTS_NO_PRIMARY_KEY',
        message: `${noPk.length} table(s) without a primary or unique key: DTS may write their rows twice`,
        objects: noPk.map((r) => String(r.n)),
        hint: 'Add a primary key before the wave',
      })
  })
  return out
}

async function redisSource(o: DtsPreflightOptions): Promise<Finding[]> {
  return withRedis(o.source, o.sourcePasswordEnv, async (r) => {
    const cl = parseInfo(String(await r.info('cluster')))
    return cl.cluster_enabled === '1'
      ? [
          {
            severity: 'blocker',
            code: 'REDIS_CLUSTER',
            message: 'the source runs in cluster mode',
            hint: 'Migrate into a Tair cluster instance per shard',
          },
        ]
      : []
  })
}

export async function dtsFindings(o: DtsPreflightOptions): Promise<Finding[]> {
  const engine = DTS_ENGINES[o.engine]
  if (!engine)
    return [
      {
        severity: 'blocker',
        code: 'DTS_ENGINE_NOT_SUPPORTED',
        message: `migrate drives DTS for mysql, mariadb and redis; not for ${o.engine}`,
        hint: 'For PostgreSQL → ApsaraDB RDS PostgreSQL use DTS from the console, or the self-managed logical-replication runbook',
      },
    ]
  const out: Finding[] = []
  for (const name of o.secretEnvs)
    if (process.env[name] === undefined)
      out.push({
        severity: 'blocker',
        code: 'DB_PASSWORD_ENV_MISSING',
        message: `environment variable ${name} is not set (DTS needs that password)`,
        hint: `Export ${name}`,
      })
  out.push(...(await jobFindings(o)))
  const guard = async (code: string, what: string, fn: () => Promise<Finding[]>) => {
    try {
      out.push(...(await fn()))
    } catch (e) {
      out.push({severity: 'blocker', code, message: `${what}: ${problem(e)}`})
    }
  }
  await guard('DTS_SOURCE_UNREACHABLE', 'the source', () => (engine === 'Redis' ? redisSource(o) : mysqlSource(o)))
  await guard('DTS_TARGET_UNREACHABLE', 'the target instance', async () => {
    if (engine === 'Redis') await withRedis(o.target, o.targetPasswordEnv, (r) => r.ping())
    else {
      // The server, not the database: DTS creates the database (schema initialisation).
      const u = new URL(o.target)
      u.pathname = '/'
      await withMysql(u.toString(), o.targetPasswordEnv, (c) => c.query('SELECT 1'))
    }
    return []
  })
  out.push({
    severity: 'info',
    code: engine === 'Redis' ? 'DTS_NO_REVERSE' : 'DTS_REVERSE',
    message:
      engine === 'Redis'
        ? 'the way back after cutover copies keys back from Tair (DUMP/RESTORE); keys deleted on Tair after cutover stay on the source'
        : 'the way back after cutover is a DTS reverse task created at cutover: it writes the target’s changes into the source on a rollback',
  })
  return out
}
