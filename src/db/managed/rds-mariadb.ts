// MariaDB → Amazon RDS for MariaDB, where the master user has no SUPER: replication is configured through the
// mysql.rds_* procedures RDS provides (rds_set_external_master_gtid, rds_start_replication, rds_stop_replication,
// rds_reset_external_master, rds_replica_status, rds_kill, rds_set_configuration), never CHANGE MASTER, SET GLOBAL
// or SHOW SLAVE STATUS. The write block stays on the source, which we own; the way back after cutover is the source
// replicating from RDS (binlog retention set on RDS through rds_set_configuration), and a fail-back blocks writes on
// RDS by locking the application's accounts and ending their sessions with rds_kill (read_only is a parameter-group
// setting there, out of reach of SQL).
import {closeSync, existsSync, fstatSync, openSync, readSync} from 'node:fs'
import type mysql from 'mysql2/promise'
import {MigrateError, badInput} from '../../errors.js'
import {hostPort, type MyRow, myRows, sleep, withMysql} from '../connect.js'
import type {Finding} from '../types.js'

/** The procedures the managed path calls; pre-flight blocks when one is missing or not executable. */
export const RDS_MARIADB_PROCEDURES_USED = [
  'rds_set_external_master_gtid',
  'rds_start_replication',
  'rds_stop_replication',
  'rds_reset_external_master',
  'rds_replica_status',
  'rds_kill',
  'rds_set_configuration',
  'rds_show_configuration',
]

/** Result sets of CALL: mysql2 returns [rows, OkPacket] for a procedure that selects. */
async function callRows(c: mysql.Connection, sql: string, params: unknown[] = []): Promise<MyRow[]> {
  const [res] = await c.query(sql, params)
  return Array.isArray(res) && Array.isArray(res[0]) ? (res[0] as MyRow[]) : []
}

async function succeeds(c: mysql.Connection, sql: string): Promise<boolean> {
  try {
    await c.query(sql)
    return true
  } catch {
    return false
  }
}

export interface TargetPowers {
  /** SET GLOBAL read_only (READ_ONLY ADMIN or SUPER). */
  readOnly: boolean
  /** SET sql_log_bin (BINLOG ADMIN or SUPER). */
  sqlLogBin: boolean
  /** SHOW SLAVE STATUS (SLAVE MONITOR or SUPER). */
  replicaMonitor: boolean
  /** CHANGE MASTER, SET GLOBAL gtid_slave_pos, START/STOP SLAVE (REPLICATION SLAVE ADMIN or SUPER). */
  replicaAdmin: boolean
  /** mysql.rds_* procedures the user can see. */
  rdsProcedures: string[]
}

/** What the connected user may do, found with no-op statements (they need the privilege but change nothing). */
export async function targetPowers(c: mysql.Connection): Promise<TargetPowers> {
  const grants = (await myRows(c, 'SHOW GRANTS')).map((r) => String(Object.values(r)[0]))
  const global = grants.filter((g) => / ON \*\.\* TO /.test(g)).join(' ')
  const procs = await myRows(
    c,
    "SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME LIKE 'rds\\_%'",
  )
  return {
    readOnly: await succeeds(c, 'SET GLOBAL read_only = @@global.read_only'),
    sqlLogBin: await succeeds(c, 'SET SESSION sql_log_bin = @@session.sql_log_bin'),
    replicaMonitor: await succeeds(c, 'SHOW SLAVE STATUS'),
    replicaAdmin: /\b(ALL PRIVILEGES|SUPER|REPLICATION SLAVE ADMIN)\b/.test(global),
    rdsProcedures: procs.map((r) => String(r.n)),
  }
}

/**
 * For the self-managed template (mariadb-gtid-replication): the target user must be able to do what it does there
 * (load without binlog, CHANGE MASTER, read_only, SHOW SLAVE STATUS). On a managed target it cannot: block, and
 * point at the managed template.
 */
export async function selfManagedTargetFindings(target: string, passwordEnv?: string): Promise<Finding[]> {
  return withMysql(target, passwordEnv, async (c) => {
    const p = await targetPowers(c)
    const missing = [
      !p.sqlLogBin && 'SET sql_log_bin (BINLOG ADMIN)',
      !p.replicaAdmin && 'CHANGE MASTER / SET GLOBAL gtid_slave_pos (REPLICATION SLAVE ADMIN)',
      !p.readOnly && 'SET GLOBAL read_only (READ_ONLY ADMIN)',
      !p.replicaMonitor && 'SHOW SLAVE STATUS (SLAVE MONITOR)',
    ].filter((x): x is string => !!x)
    if (missing.length === 0) return []
    const managed = p.rdsProcedures.includes('rds_set_external_master_gtid')
    return [
      {
        severity: 'blocker',
        code: 'MARIADB_TARGET_PRIVILEGES',
        message: `the target user cannot run what this template needs: ${missing.join(', ')}${managed ? '; the target offers mysql.rds_* procedures instead (a managed RDS target)' : ''}`,
        hint: managed
          ? 'Use the template mariadb-rds (the planner picks it for a database mapped to a managed class)'
          : 'GRANT the listed privileges (or SUPER) to the target user, or use the managed template if the target is a managed service',
      },
    ]
  })
}

export interface RdsPreflightOptions {
  /** Replication user on the target for the way back (the source replicates from RDS after cutover). */
  reverseReplUser?: string
  /** The database the dump moves (definers of its views, routines, triggers and events are checked). */
  database?: string
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

/** Pre-flight of the managed path: the procedures exist and run, GTIDs can flow both ways, the dump loads without SUPER. */
export async function rdsMariadbFindings(source: string, target: string, o: RdsPreflightOptions): Promise<Finding[]> {
  const src = await withMysql(source, o.sourcePasswordEnv, (c) => sourceFacts(c, o.database))
  return withMysql(target, o.targetPasswordEnv, async (c) => {
    const p = await targetPowers(c)
    const user = String((await myRows(c, 'SELECT CURRENT_USER() AS u'))[0].u)
    const missing = RDS_MARIADB_PROCEDURES_USED.filter((n) => !p.rdsProcedures.includes(n))
    if (missing.length > 0)
      return [
        {
          severity: 'blocker',
          code: 'RDS_PROCEDURES_MISSING',
          message: `the target has no ${missing.map((n) => `mysql.${n}`).join(', ')}: it is not an RDS for MariaDB instance, or the user may not execute them`,
          hint: p.replicaAdmin
            ? 'The target is self-managed: use the template mariadb-gtid-replication'
            : 'Connect as the RDS master user (it has EXECUTE on the mysql.rds_* procedures)',
          objects: missing,
        },
      ]
    return [
      ...(await procedureFindings(c, p)),
      ...(await binlogFindings(c, src)),
      ...(await reverseUserFindings(c, o.reverseReplUser)),
      ...definerFindings(src.definers, user),
    ]
  })
}

/** The source's GTID domain and server id, and the definers of the moved database's views, routines, triggers, events. */
interface SourceFacts {
  domain: string
  serverId: string
  definers: string[]
}

async function sourceFacts(c: mysql.Connection, database: string | undefined): Promise<SourceFacts> {
  const v = (await myRows(c, 'SELECT @@gtid_domain_id AS d, @@server_id AS s'))[0]
  const db = database || ((await myRows(c, 'SELECT DATABASE() AS d'))[0].d as string | null)
  const definers = db
    ? await myRows(
        c,
        `SELECT CONCAT(kind, ' ', name, ' DEFINER=', definer) AS o FROM (
             SELECT 'view' AS kind, TABLE_NAME AS name, DEFINER AS definer FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
             UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME, DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
             UNION ALL SELECT 'trigger', TRIGGER_NAME, DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
             UNION ALL SELECT 'event', EVENT_NAME, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?) x`,
        [db, db, db, db],
      )
    : []
  return {domain: String(v.d), serverId: String(v.s), definers: definers.map((r) => String(r.o))}
}

/** The procedures run for this user (the master user); a user that could run CHANGE MASTER is noted. */
async function procedureFindings(c: mysql.Connection, p: TargetPowers): Promise<Finding[]> {
  const findings: Finding[] = []
  if (p.replicaAdmin)
    findings.push({
      severity: 'info',
      code: 'RDS_TARGET_HAS_REPLICA_ADMIN',
      message: 'the target user could also run CHANGE MASTER itself; the managed path uses the procedures anyway',
    })
  try {
    await callRows(c, 'CALL mysql.rds_replica_status()')
  } catch (e) {
    findings.push({
      severity: 'blocker',
      code: 'RDS_PROCEDURE_DENIED',
      message: `CALL mysql.rds_replica_status failed: ${(e as Error).message}`,
      hint: 'Connect as the RDS master user',
    })
  }
  return findings
}

/** RDS's binlog and GTID settings: its own server id, a binlog for the way back, ROW, no strict mode on a shared domain; retention. */
async function binlogFindings(c: mysql.Connection, src: SourceFacts): Promise<Finding[]> {
  const findings: Finding[] = []
  const v = (
    await myRows(
      c,
      'SELECT @@log_bin AS b, @@log_slave_updates AS u, @@binlog_format AS f, @@gtid_strict_mode AS st, @@gtid_domain_id AS d, @@server_id AS s',
    )
  )[0]
  if (String(v.s) === src.serverId)
    findings.push({
      severity: 'blocker',
      code: 'MARIADB_SAME_SERVER_ID',
      message: `source and target both have server_id ${v.s}`,
      hint: 'Change the source server_id (RDS assigns its own)',
    })
  if (String(v.b) !== '1' || String(v.u) !== '1')
    findings.push({
      severity: 'blocker',
      code: 'RDS_BINLOG_OFF',
      message:
        'the RDS instance writes no binlog of replicated changes: the source cannot replicate back from it, so a rollback after cutover would lose the writes made on RDS',
      hint: 'Turn on automated backups (backup retention ≥ 1 day), which enables the binlog on RDS',
    })
  if (String(v.f) !== 'ROW')
    findings.push({
      severity: 'warning',
      code: 'RDS_BINLOG_FORMAT',
      message: `binlog_format is ${v.f} on RDS`,
      hint: 'Set binlog_format=ROW in the DB parameter group',
    })
  if (String(v.st) === '1' && String(v.d) === src.domain)
    findings.push({
      severity: 'blocker',
      code: 'RDS_GTID_STRICT_SAME_DOMAIN',
      message: `gtid_strict_mode is on in the RDS parameter group and both servers write GTID domain ${v.d}: the dump is loaded through the binlog (no SET sql_log_bin=0 on RDS), so the first replicated transaction would be out of order and stop replication`,
      hint: 'Set gtid_strict_mode=0 in the DB parameter group during the migration, or give RDS its own gtid_domain_id',
    })
  const retention = (await callRows(c, 'CALL mysql.rds_show_configuration()')).find(
    (r) => r.name === 'binlog retention hours',
  )?.value
  findings.push({
    severity: 'info',
    code: 'RDS_BINLOG_RETENTION',
    message: `binlog retention hours is ${retention ?? 'NULL (binlogs are purged as soon as possible)'}; the replicate step sets it for the way back`,
  })
  return findings
}

/** The replication user the source replicates back from RDS with (after cutover). */
async function reverseUserFindings(c: mysql.Connection, reverseReplUser: string | undefined): Promise<Finding[]> {
  const findings: Finding[] = []
  if (!reverseReplUser) return findings
  const r = await myRows(
    c,
    "SELECT CONCAT(User, '@', Host) AS a FROM mysql.user WHERE User = ? AND Repl_slave_priv = 'Y'",
    [reverseReplUser],
  ).catch(() => [])
  if (r.length === 0)
    findings.push({
      severity: 'blocker',
      code: 'RDS_NO_REVERSE_REPL_USER',
      message: `there is no user ${reverseReplUser} with REPLICATION SLAVE on RDS: the source cannot replicate back after cutover`,
      hint: `As the master user: CREATE USER '${reverseReplUser}'@'%' IDENTIFIED BY '…'; GRANT REPLICATION SLAVE ON *.* TO '${reverseReplUser}'@'%'`,
    })
  return findings
}

/** Definers other than the master user: loading them on RDS needs SUPER or SET USER. */
function definerFindings(definers: string[], user: string): Finding[] {
  const findings: Finding[] = []
  const foreign = definers.filter((d) => !d.endsWith(`DEFINER=${user}`))
  if (foreign.length > 0)
    findings.push({
      severity: 'blocker',
      code: 'RDS_DEFINER',
      message: `${foreign.length} view(s)/routine(s)/trigger(s)/event(s) name a DEFINER other than ${user}: loading them on RDS needs SUPER or SET USER, which the master user lacks`,
      hint: `Recreate them with DEFINER=${user} (or SQL SECURITY INVOKER) on the source before the dump`,
      objects: foreign,
    })
  return findings
}

/**
 * The GTID position a `mariadb-dump --gtid --master-data=2` (or --dump-slave=2) file records as a comment: in the
 * header, or (MariaDB 10.11+, "deferred gtid setting") at its end. Only the first and last 64 KiB are read.
 */
export function gtidFromDump(file: string): string {
  if (!existsSync(file))
    throw badInput(
      `dump file ${file} does not exist`,
      'RDS_DUMP_MISSING',
      'Run the dump step first (mariadb-dump … --gtid --master-data=2 --result-file=…)',
    )
  const fd = openSync(file, 'r')
  const size = fstatSync(fd).size
  const chunk = (at: number) => {
    const buf = Buffer.alloc(Math.min(65536, size))
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, at)).toString('utf8')
  }
  const text = chunk(0) + '\n' + chunk(Math.max(0, size - 65536))
  closeSync(fd)
  const m = /^(?:-- )?SET GLOBAL gtid_slave_pos\s*=\s*'([0-9,\s-]*)'/m.exec(text)
  if (!m)
    throw badInput(
      `${file}: no "SET GLOBAL gtid_slave_pos" line in its first or last 64 KiB`,
      'RDS_DUMP_NO_GTID',
      'Dump with mariadb-dump --gtid --master-data=2 (the position is written as a comment, which RDS needs)',
    )
  return m[1].replace(/\s+/g, '')
}

export interface RdsReplicateOptions {
  /** host:port of the source as RDS reaches it. */
  sourceAddr: string
  replUser: string
  replPasswordEnv?: string
  gtid: string
  ssl: boolean
  /** Binlog retention on RDS for the way back (1–2160 h). */
  binlogRetentionHours?: number
  targetPasswordEnv?: string
  timeoutMs?: number
}

/** rds_set_configuration('binlog retention hours'), rds_set_external_master_gtid, rds_start_replication; waits until both threads run. */
export async function rdsMariadbReplicate(
  target: string,
  o: RdsReplicateOptions,
): Promise<{gtid: string; master: string}> {
  const password = o.replPasswordEnv ? process.env[o.replPasswordEnv] : ''
  if (o.replPasswordEnv && password === undefined)
    throw badInput(
      `environment variable ${o.replPasswordEnv} is not set`,
      'DB_PASSWORD_ENV_MISSING',
      `Export ${o.replPasswordEnv} with the replication user's password`,
    )
  const addr = hostPort(`tcp://${o.sourceAddr}`, 3306)
  return withMysql(target, o.targetPasswordEnv, async (c) => {
    if (o.binlogRetentionHours !== undefined)
      await c.query("CALL mysql.rds_set_configuration('binlog retention hours', ?)", [o.binlogRetentionHours])
    // Idempotent: a replica left from an interrupted run is stopped and forgotten first.
    await c.query('CALL mysql.rds_stop_replication()').catch(() => {})
    await c.query('CALL mysql.rds_reset_external_master()').catch(() => {})
    await c.query('CALL mysql.rds_set_external_master_gtid(?, ?, ?, ?, ?, ?)', [
      addr.host,
      addr.port,
      o.replUser,
      password ?? '',
      o.gtid,
      o.ssl ? 1 : 0,
    ])
    await c.query('CALL mysql.rds_start_replication()')
    const deadline = Date.now() + (o.timeoutMs ?? 15_000)
    for (;;) {
      const s = (await callRows(c, 'CALL mysql.rds_replica_status()'))[0]
      if (s?.Slave_IO_Running === 'Yes' && s?.Slave_SQL_Running === 'Yes') break
      if (Date.now() > deadline || s?.Last_IO_Error || s?.Last_SQL_Error)
        throw new MigrateError(
          `RDS replication from ${addr.host}:${addr.port} did not start: ${s?.Last_IO_Error || s?.Last_SQL_Error || `IO ${s?.Slave_IO_Running}, SQL ${s?.Slave_SQL_Running}`}`,
          {
            code: 'MARIADB_REPLICA_START',
            hint: 'Check that RDS reaches the source (security group), the replication user and its REPLICATION SLAVE grant, and the GTID from the dump',
          },
        )
      await sleep(20)
    }
    return {gtid: o.gtid, master: `${addr.host}:${addr.port}`}
  })
}

/** rds_stop_replication + rds_reset_external_master (the replicate step's rollback, and promotion at cutover). */
export async function rdsMariadbResetReplica(target: string, passwordEnv?: string): Promise<{gtidSlavePos: string}> {
  return withMysql(target, passwordEnv, async (c) => {
    await c.query('CALL mysql.rds_stop_replication()').catch(() => {})
    await c.query('CALL mysql.rds_reset_external_master()')
    return {gtidSlavePos: String((await myRows(c, 'SELECT @@gtid_slave_pos AS p'))[0].p)}
  })
}

/** Lag through mysql.rds_replica_status (the master user may not run SHOW SLAVE STATUS); null when not a replica. */
export async function rdsMariadbLag(
  target: string,
  passwordEnv?: string,
): Promise<{seconds: number | null; io: string; sql: string; error?: string} | null> {
  return withMysql(target, passwordEnv, async (c) => {
    const s = (await callRows(c, 'CALL mysql.rds_replica_status()'))[0]
    if (!s) return null
    return {
      seconds: s.Seconds_Behind_Master === null ? null : Number(s.Seconds_Behind_Master),
      io: s.Slave_IO_Running,
      sql: s.Slave_SQL_Running,
      error: s.Last_IO_Error || s.Last_SQL_Error || undefined,
    }
  })
}
