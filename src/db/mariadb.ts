// MariaDB/MySQL GTID replication and cutover helpers: pre-flight (binlog format, GTID, server ids, keys, engines),
// CHANGE MASTER … MASTER_USE_GTID with the password taken from the environment, a real write block (read_only and
// killing the application's connections), MASTER_GTID_WAIT, promotion, verification and fail-back.
import type mysql from 'mysql2/promise'
import {MigrateError, badInput} from '../errors.js'
import {hostPort, myRows, redactUrl, sleep, withMysql} from './connect.js'
import {compare, windowFinding, type PgOpts} from './postgres.js'
import {WINDOW_DEFAULTS, estimateWindowMs, type WindowLimits} from './window.js'
import {summarize, type Finding, type PreflightResult, type VerifyResult} from './types.js'

export type MyOpts = PgOpts

export async function vars(c: mysql.Connection, names: string[]): Promise<Record<string, string>> {
  const rows = await myRows(c, `SELECT ${names.map((n) => `@@${n} AS ${n}`).join(', ')}`)
  return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, v === null ? '' : String(v)]))
}

const SYSTEM_DBS = ['mysql', 'information_schema', 'performance_schema', 'sys']

export async function mariadbPreflight(
  source: string,
  target: string | undefined,
  opts: MyOpts & {roles?: string[]; limits?: WindowLimits} = {},
): Promise<PreflightResult> {
  const findings: Finding[] = []
  let version = ''
  let sourceId = ''
  let sourceBytes = 0
  await withMysql(source, opts.sourcePasswordEnv, async (c) => {
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
    version = v.version
    sourceId = v.server_id
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
    const size = await myRows(
      c,
      `SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS b, COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN (?)`,
      [SYSTEM_DBS],
    )
    sourceBytes = Number(size[0].b)
    findings.push({
      severity: 'info',
      code: 'MARIADB_SIZE',
      message: `${size[0].n} table(s), ${(sourceBytes / 1048576).toFixed(1)} MiB of data and indexes; the dump moves all of it`,
    })
    if (opts.roles?.length) {
      const apps = bypass.map((r) => String(r.g)).filter((g) => opts.roles!.some((u) => g.startsWith(`'${u}'@`)))
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
  })
  if (target) {
    await withMysql(target, opts.targetPasswordEnv, async (c) => {
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
    })
  }
  return summarize('mariadb', redactUrl(source), target ? redactUrl(target) : undefined, version, findings)
}

/** Row counts and CHECKSUM TABLE of every table of the URL's database (or every non-system database). */
export async function mariadbVerify(
  source: string,
  target: string,
  opts: MyOpts & {counts?: boolean; tables?: string[]; checksumTables?: string[]} = {},
): Promise<VerifyResult> {
  const t0 = Date.now()
  const only = opts.tables ? new Set(opts.tables) : undefined
  const sums = opts.checksumTables ? new Set(opts.checksumTables) : undefined
  const measure = async (c: mysql.Connection) => {
    const out = new Map<string, {rows: number; sum?: string}>()
    for (const {s, t} of await mariadbTables(c)) {
      const key = `${s}.${t}`
      if (only && !only.has(key)) continue
      const q = `${c.escapeId(s)}.${c.escapeId(t)}`
      const n = (await myRows(c, `SELECT COUNT(*) AS n FROM ${q}`))[0].n
      const sum =
        opts.counts && !sums?.has(key) ? undefined : String((await myRows(c, `CHECKSUM TABLE ${q}`))[0].Checksum)
      out.set(key, {rows: Number(n), sum})
    }
    return out
  }
  const [a, b] = await Promise.all([
    withMysql(source, opts.sourcePasswordEnv, measure),
    withMysql(target, opts.targetPasswordEnv, measure),
  ])
  return compare('mariadb', source, target, a, b, t0)
}

/** Base tables of the URL's database (or of every non-system database), with their data size. */
export async function mariadbTables(c: mysql.Connection): Promise<{s: string; t: string; bytes: number}[]> {
  const db = (await myRows(c, 'SELECT DATABASE() AS d'))[0].d as string | null
  const rows = await myRows(
    c,
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COALESCE(DATA_LENGTH, 0) AS b FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND ${db ? 'TABLE_SCHEMA = ?' : 'TABLE_SCHEMA NOT IN (?)'} ORDER BY 1, 2`,
    [db ?? SYSTEM_DBS],
  )
  return rows.map((r) => ({s: r.s, t: r.t, bytes: Number(r.b)}))
}

/**
 * Makes `target` a GTID replica of `source`: CHANGE MASTER TO … MASTER_USE_GTID=slave_pos, START SLAVE.
 * With fromOwnBinlog, the replica first starts from its own binlog position (reverse replication after cutover).
 * A freshly loaded replica whose binlog is empty gets the loaded position as its binlog state, so that it can
 * serve as a GTID master later (fail-back).
 */
export async function mariadbReplicate(
  source: string,
  target: string,
  repl: {user: string; passwordEnv?: string; sourceAddr?: string; fromOwnBinlog?: boolean},
  opts: MyOpts = {},
): Promise<{gtidSlavePos: string; master: string}> {
  const password = repl.passwordEnv ? process.env[repl.passwordEnv] : ''
  if (repl.passwordEnv && password === undefined)
    throw badInput(
      `environment variable ${repl.passwordEnv} is not set`,
      'DB_PASSWORD_ENV_MISSING',
      `Export ${repl.passwordEnv} with the replication user's password`,
    )
  const addr = repl.sourceAddr ? hostPort(`tcp://${repl.sourceAddr}`, 3306) : hostPort(source, 3306)
  return withMysql(target, opts.targetPasswordEnv, async (c) => {
    await c.query('STOP SLAVE').catch(() => {})
    if (repl.fromOwnBinlog) await c.query('SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos')
    const v = await vars(c, ['gtid_binlog_pos', 'gtid_slave_pos'])
    if (!repl.fromOwnBinlog && v.gtid_binlog_pos === '' && v.gtid_slave_pos !== '') {
      await c.query('RESET MASTER')
      await c.query('SET GLOBAL gtid_binlog_state = @@gtid_slave_pos')
    }
    await c.query(
      `CHANGE MASTER TO MASTER_HOST = ${c.escape(addr.host)}, MASTER_PORT = ${addr.port}, MASTER_USER = ${c.escape(repl.user)}, MASTER_PASSWORD = ${c.escape(password ?? '')}, MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1`,
    )
    await c.query('START SLAVE')
    const deadline = Date.now() + 15_000
    for (;;) {
      const s = (await myRows(c, 'SHOW SLAVE STATUS'))[0]
      if (s?.Slave_IO_Running === 'Yes' && s?.Slave_SQL_Running === 'Yes') break
      if (Date.now() > deadline || s?.Last_IO_Error || s?.Last_SQL_Error)
        throw new MigrateError(
          `replication ${addr.host}:${addr.port} → ${redactUrl(target)} did not start: ${s?.Last_IO_Error || s?.Last_SQL_Error || `IO ${s?.Slave_IO_Running}, SQL ${s?.Slave_SQL_Running}`}`,
          {
            code: 'MARIADB_REPLICA_START',
            hint: 'Check the replication user and its REPLICATION SLAVE grant, that the target reaches the source, and gtid_slave_pos',
          },
        )
      await sleep(10)
    }
    return {gtidSlavePos: (await vars(c, ['gtid_slave_pos'])).gtid_slave_pos, master: `${addr.host}:${addr.port}`}
  })
}

/** STOP SLAVE; RESET SLAVE ALL (a no-op on a server that replicates from nothing). */
export async function mariadbStopReplica(url: string, opts: {passwordEnv?: string} = {}): Promise<void> {
  await withMysql(url, opts.passwordEnv, async (c) => {
    await c.query('STOP SLAVE').catch(() => {})
    await c.query('RESET SLAVE ALL')
  })
}

/** Blocks writes for real: read_only (binds every account without READ ONLY ADMIN) and killing the app users' connections. */
export async function mariadbBlockWrites(
  url: string,
  users: string[],
  opts: {passwordEnv?: string; timeoutMs?: number} = {},
): Promise<{killed: number}> {
  return withMysql(url, opts.passwordEnv, async (c) => {
    // read_only = 1 waits for running write statements and LOCK TABLES: bounded by lock_wait_timeout (whole seconds).
    const waitS = Math.max(1, Math.round((opts.timeoutMs ?? 10_000) / 1000))
    await c.query(`SET SESSION lock_wait_timeout = ${waitS}`)
    try {
      await c.query('SET GLOBAL read_only = 1')
    } catch (e) {
      if ((e as {errno?: number}).errno !== 1205) throw e
      const blockers = await mariadbOpenTransactions(c)
      throw new MigrateError(
        `read_only could not be set within ${waitS} s on ${redactUrl(url)}: ${blockers.length ? `held back by ${describeMariaSessions(blockers)}` : 'a lock is held'}; nothing changed, writes go on`,
        {
          code: 'MARIADB_BLOCK_TIMEOUT',
          hint: 'Let these statements finish (or KILL them), then run the cutover again; --pause-wait bounds this wait',
          data: {blockers},
        },
      )
    } finally {
      await c.query('SET SESSION lock_wait_timeout = DEFAULT').catch(() => {})
    }
    const ids =
      users.length === 0
        ? []
        : await myRows(
            c,
            'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER IN (?) AND ID <> CONNECTION_ID()',
            [users],
          )
    for (const {id} of ids) await c.query(`KILL CONNECTION ${Number(id)}`).catch(() => {})
    return {killed: ids.length}
  })
}

export interface MariaSession {
  id: number
  user: string
  host: string
  command: string
  state: string
  timeS: number
  trxAgeS: number | null
  query: string
}

/** Connections running a statement or holding a transaction (oldest first), other than this one. */
export async function mariadbOpenTransactions(c: mysql.Connection, limit = 5): Promise<MariaSession[]> {
  const rows = await myRows(
    c,
    `SELECT p.ID AS id, p.USER AS user, p.HOST AS host, p.COMMAND AS command, COALESCE(p.STATE, '') AS state, p.TIME_MS / 1000 AS t,
            TIMESTAMPDIFF(SECOND, x.trx_started, NOW()) AS trx, LEFT(COALESCE(p.INFO, x.trx_query, ''), 120) AS q
       FROM information_schema.PROCESSLIST p LEFT JOIN information_schema.INNODB_TRX x ON x.trx_mysql_thread_id = p.ID
      WHERE p.ID <> CONNECTION_ID() AND p.COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Slave_IO', 'Slave_SQL', 'Slave_worker') AND (x.trx_id IS NOT NULL OR p.COMMAND = 'Query')
      ORDER BY COALESCE(x.trx_started, NOW()), p.TIME_MS DESC LIMIT ?`,
    [limit],
  )
  return rows.map((r) => ({
    id: Number(r.id),
    user: r.user,
    host: r.host,
    command: r.command,
    state: r.state,
    timeS: Math.round(Number(r.t) * 10) / 10,
    trxAgeS: r.trx === null ? null : Number(r.trx),
    query: r.q,
  }))
}

export function describeMariaSessions(s: MariaSession[]): string {
  return s
    .map(
      (x) =>
        `connection ${x.id} ${x.user}@${x.host}, ${x.state || x.command} ${x.timeS} s${x.trxAgeS !== null ? `, transaction open ${x.trxAgeS} s` : ''}: ${x.query}`,
    )
    .join('; ')
}

/** The write block's probe: read_only is still on and no GTID was written since `gtid`. */
export async function mariadbBlockInForce(url: string, gtid: string | undefined, passwordEnv?: string): Promise<void> {
  await withMysql(url, passwordEnv, async (c) => {
    const v = await vars(c, ['read_only', 'gtid_binlog_pos'])
    if (v.read_only !== '1')
      throw new MigrateError(`read_only is off again on ${redactUrl(url)}`, {
        code: 'WRITE_BLOCK_LAPSED',
        hint: 'Someone or something undid the block during the cutover; nothing was promoted',
      })
    if (gtid !== undefined && v.gtid_binlog_pos !== gtid)
      throw new MigrateError(
        `the source wrote after the target caught up (gtid_binlog_pos ${v.gtid_binlog_pos}, the target has ${gtid})`,
        {
          code: 'WRITE_BLOCK_LAPSED',
          hint: 'An account that bypasses read_only (READ ONLY ADMIN) writes to the source; nothing was promoted',
        },
      )
  })
}

export async function mariadbUnblockWrites(url: string, opts: {passwordEnv?: string} = {}): Promise<void> {
  await withMysql(url, opts.passwordEnv, async (c) => {
    await c.query('SET GLOBAL read_only = 0')
  })
}

/** Reads the source's @@gtid_binlog_pos and waits with MASTER_GTID_WAIT until the target has applied it. */
export async function mariadbWaitGtid(
  source: string,
  target: string,
  opts: MyOpts & {timeoutMs?: number} = {},
): Promise<{gtid: string; waitedMs: number}> {
  const t0 = Date.now()
  const gtid = await withMysql(
    source,
    opts.sourcePasswordEnv,
    async (c) => (await vars(c, ['gtid_binlog_pos'])).gtid_binlog_pos,
  )
  const timeout = Math.max(0.1, Math.round((opts.timeoutMs ?? 60_000) / 100) / 10)
  const r = await withMysql(
    target,
    opts.targetPasswordEnv,
    async (c) => (await myRows(c, `SELECT MASTER_GTID_WAIT(?, ${timeout}) AS r`, [gtid]))[0].r,
  )
  if (Number(r) !== 0)
    throw new MigrateError(`the target did not reach GTID ${gtid} within ${timeout} s`, {
      code: 'MARIADB_GTID_TIMEOUT',
      hint: 'Check SHOW SLAVE STATUS on the target (Last_SQL_Error, Seconds_Behind_Master)',
    })
  return {gtid, waitedMs: Date.now() - t0}
}

/** Promotes a caught-up replica: STOP SLAVE, RESET SLAVE ALL, read_only off. */
export async function mariadbPromote(url: string, opts: {passwordEnv?: string} = {}): Promise<{gtidBinlogPos: string}> {
  return withMysql(url, opts.passwordEnv, async (c) => {
    await c.query('STOP SLAVE').catch(() => {})
    await c.query('RESET SLAVE ALL')
    await c.query('SET GLOBAL read_only = 0')
    return {gtidBinlogPos: (await vars(c, ['gtid_binlog_pos'])).gtid_binlog_pos}
  })
}

/** Replica lag: Seconds_Behind_Master and whether both threads run; null when not a replica. */
export async function mariadbLag(
  target: string,
  passwordEnv?: string,
): Promise<{seconds: number | null; io: string; sql: string; error?: string} | null> {
  return withMysql(target, passwordEnv, async (c) => {
    const s = (await myRows(c, 'SHOW SLAVE STATUS'))[0]
    if (!s) return null
    return {
      seconds: s.Seconds_Behind_Master === null ? null : Number(s.Seconds_Behind_Master),
      io: s.Slave_IO_Running,
      sql: s.Slave_SQL_Running,
      error: s.Last_IO_Error || s.Last_SQL_Error || undefined,
    }
  })
}

/**
 * Fail back after cutover (the source replicates from the target): block writes on the target, wait until the
 * source has applied the target's last GTID, stop replication on the source. The source holds every write made
 * on the target; unblocking it is the block step's own rollback.
 */
export async function mariadbFailback(
  source: string,
  target: string,
  users: string[],
  opts: MyOpts & {timeoutMs?: number} = {},
): Promise<{gtid: string; killed: number}> {
  const {killed} = await mariadbBlockWrites(target, users, {passwordEnv: opts.targetPasswordEnv})
  const {gtid} = await mariadbWaitGtid(target, source, {
    sourcePasswordEnv: opts.targetPasswordEnv,
    targetPasswordEnv: opts.sourcePasswordEnv,
    timeoutMs: opts.timeoutMs,
  })
  await mariadbStopReplica(source, {passwordEnv: opts.sourcePasswordEnv})
  return {gtid, killed}
}
