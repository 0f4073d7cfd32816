// The MariaDB pre-flight: binlog format, GTID, server ids, keys, engines, accounts that bypass read_only, the
// window estimate; on the target, its own server id and the binlog the way back needs.
import type mysql from 'mysql2/promise'
import {myRows, redactUrl, withMysql} from './connect.js'
import {type MyOpts, SYSTEM_DBS, vars} from './mariadb-catalog.js'
import {summarize, type Finding, type PreflightResult} from './types.js'
import {WINDOW_DEFAULTS, estimateWindowMs, type WindowLimits} from './window.js'
import {windowFinding} from './window-finding.js'

/** What breaks a MariaDB GTID replication move (and its cutover), found before anything changes. */
export async function mariadbPreflight(
  source: string,
  target: string | undefined,
  opts: MyOpts & {roles?: string[]; limits?: WindowLimits} = {},
): Promise<PreflightResult> {
  const findings: Finding[] = []
  const v = await withMysql(source, opts.sourcePasswordEnv, async (c) => {
    const v = await vars(c, [
      'version',
      'log_bin',
      'binlog_format',
      'server_id',
      'gtid_strict_mode',
      'binlog_row_image',
      'expire_logs_days',
      'gtid_domain_id',
    ])
    findings.push(...binlogFindings(v))
    findings.push(...(await tableFindings(c)))
    const bypass = await myRows(
      c,
      `SELECT DISTINCT CONCAT(GRANTEE) AS g FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN ('READ ONLY ADMIN') `,
    ).catch(() => [])
    if (bypass.length > 0)
      findings.push({
        severity: 'warning',
        code: 'MARIADB_READ_ONLY_BYPASS',
        message: `${bypass.length} account(s) hold READ ONLY ADMIN and can write while the source is read_only`,
        hint: 'Make sure applications do not connect with them',
        objects: bypass.map((r) => r.g),
      })
    findings.push(
      ...(await cutoverFindings(
        c,
        v,
        bypass.map((r) => String(r.g)),
        opts,
      )),
    )
    return v
  })
  if (target) findings.push(...(await withMysql(target, opts.targetPasswordEnv, (c) => targetFindings(c, v.server_id))))
  return summarize('mariadb', redactUrl(source), target ? redactUrl(target) : undefined, v.version, findings)
}

/** The source's binlog and GTID settings: MariaDB, binlog on, ROW, FULL images, strict GTIDs, a server id. */
function binlogFindings(v: Record<string, string>): Finding[] {
  const findings: Finding[] = []
  const version = v.version
  if (!/mariadb/i.test(version))
    findings.push({
      severity: 'warning',
      code: 'MYSQL_NOT_MARIADB',
      message: `source is ${version}: the template uses MariaDB GTIDs (MASTER_USE_GTID)`,
      hint: 'For MySQL use GTID_MODE=ON and CHANGE REPLICATION SOURCE … SOURCE_AUTO_POSITION=1 instead',
    })
  if (v.log_bin !== '1')
    findings.push({
      severity: 'blocker',
      code: 'MARIADB_NO_BINLOG',
      message: 'binary logging is off on the source',
      hint: 'Start the source with log_bin (restart needed)',
    })
  if (v.binlog_format !== 'ROW')
    findings.push({
      severity: v.binlog_format === 'MIXED' ? 'warning' : 'blocker',
      code: 'MARIADB_BINLOG_FORMAT',
      message: `binlog_format is ${v.binlog_format}; row-based replication is the safe choice`,
      hint: 'SET GLOBAL binlog_format = ROW (and in my.cnf)',
    })
  if (v.binlog_row_image && v.binlog_row_image !== 'FULL')
    findings.push({
      severity: 'warning',
      code: 'MARIADB_ROW_IMAGE',
      message: `binlog_row_image is ${v.binlog_row_image}`,
      hint: 'FULL is what a replica of a different version applies most safely',
    })
  if (v.gtid_strict_mode !== '1')
    findings.push({
      severity: 'warning',
      code: 'MARIADB_GTID_STRICT',
      message: 'gtid_strict_mode is off: out-of-order GTIDs would go unnoticed',
      hint: 'SET GLOBAL gtid_strict_mode = 1 on source and target',
    })
  if (v.server_id === '0' || v.server_id === '')
    findings.push({
      severity: 'blocker',
      code: 'MARIADB_SERVER_ID',
      message: 'server_id is 0',
      hint: 'Give every server a distinct server_id',
    })
  return findings
}

/** Tables that replicate slowly (no key) or dump inconsistently (not InnoDB). */
async function tableFindings(c: mysql.Connection): Promise<Finding[]> {
  const findings: Finding[] = []
  const noPk = await myRows(
    c,
    `SELECT CONCAT(t.TABLE_SCHEMA, '.', t.TABLE_NAME) AS t FROM information_schema.TABLES t
        WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA NOT IN (?) AND NOT EXISTS (
          SELECT 1 FROM information_schema.TABLE_CONSTRAINTS k WHERE k.TABLE_SCHEMA = t.TABLE_SCHEMA AND k.TABLE_NAME = t.TABLE_NAME AND k.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE'))`,
    [SYSTEM_DBS],
  )
  if (noPk.length > 0)
    findings.push({
      severity: 'warning',
      code: 'MARIADB_NO_PRIMARY_KEY',
      message: `${noPk.length} table(s) without a primary or unique key: every row change scans the table on the replica`,
      hint: 'Add primary keys before replicating large tables',
      objects: noPk.map((r) => r.t),
    })
  const engines = await myRows(
    c,
    `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS t, ENGINE AS e FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (?) AND ENGINE <> 'InnoDB'`,
    [SYSTEM_DBS],
  )
  if (engines.length > 0)
    findings.push({
      severity: 'warning',
      code: 'MARIADB_NON_INNODB',
      message: `${engines.length} non-InnoDB table(s): --single-transaction does not give them a consistent dump`,
      hint: 'ALTER TABLE … ENGINE=InnoDB, or dump them during a write block',
      objects: engines.map((r) => `${r.t} (${r.e})`),
    })
  return findings
}

/** The size the dump moves, and what the cutover needs: app accounts read_only binds, a window within the bound, binlogs kept. */
async function cutoverFindings(
  c: mysql.Connection,
  v: Record<string, string>,
  bypass: string[],
  opts: {roles?: string[]; limits?: WindowLimits},
): Promise<Finding[]> {
  const findings: Finding[] = []
  const size = await myRows(
    c,
    `SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS b, COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN (?)`,
    [SYSTEM_DBS],
  )
  const sourceBytes = Number(size[0].b)
  findings.push({
    severity: 'info',
    code: 'MARIADB_SIZE',
    message: `${size[0].n} table(s), ${(sourceBytes / 1048576).toFixed(1)} MiB of data and indexes; the dump moves all of it`,
  })
  if (opts.roles?.length) {
    const apps = bypass.filter((g) => opts.roles!.some((u) => g.startsWith(`'${u}'@`)))
    if (apps.length)
      findings.push({
        severity: 'blocker',
        code: 'MARIADB_APP_BYPASSES_READ_ONLY',
        message: `application account(s) ${apps.join(', ')} hold READ ONLY ADMIN: read_only cannot block their writes at cutover`,
        hint: 'REVOKE READ ONLY ADMIN from them',
        objects: apps,
      })
  }
  // Tables written in the last hour are the ones re-checked inside the write block: their size drives the estimate.
  const hot = await myRows(
    c,
    `SELECT COUNT(*) AS n, COALESCE(SUM(DATA_LENGTH), 0) AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN (?) AND UPDATE_TIME > NOW() - INTERVAL 1 HOUR`,
    [SYSTEM_DBS],
  )
  findings.push(
    windowFinding(
      'MARIADB',
      estimateWindowMs('mariadb', Number(hot[0].b)),
      opts.limits ?? WINDOW_DEFAULTS,
      `${hot[0].n} table(s) written in the last hour, ${(Number(hot[0].b) / 1048576).toFixed(1)} MiB, are re-checked inside the block`,
    ),
  )
  if (Number(v.expire_logs_days) > 0 && Number(v.expire_logs_days) < 1)
    findings.push({
      severity: 'warning',
      code: 'MARIADB_BINLOG_RETENTION',
      message: `binlogs expire after ${v.expire_logs_days} day(s): the replica must connect before the dump's position is purged`,
    })
  return findings
}

/** The target: its own server id, a binlog of replicated changes for the way back, empty. */
async function targetFindings(c: mysql.Connection, sourceId: string): Promise<Finding[]> {
  const findings: Finding[] = []
  const v = await vars(c, ['server_id', 'log_bin', 'log_slave_updates', 'gtid_strict_mode', 'read_only'])
  if (v.server_id === sourceId)
    findings.push({
      severity: 'blocker',
      code: 'MARIADB_SAME_SERVER_ID',
      message: `source and target both have server_id ${sourceId}`,
      hint: 'Give the target its own server_id',
    })
  if (v.log_bin !== '1' || v.log_slave_updates !== '1')
    findings.push({
      severity: 'blocker',
      code: 'MARIADB_TARGET_BINLOG',
      message:
        'the target does not log replicated changes (log_bin + log_slave_updates): the reverse replication the cutover sets up (the way back) would fail inside the write block',
      hint: 'Start the target with log_bin and log_slave_updates',
    })
  const dbs = await myRows(c, `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN (?)`, [
    SYSTEM_DBS,
  ])
  if (Number(dbs[0].n) > 0)
    findings.push({
      severity: 'warning',
      code: 'MARIADB_TARGET_NOT_EMPTY',
      message: `the target already has ${dbs[0].n} table(s)`,
    })
  return findings
}
