// MariaDB/MySQL GTID replication and cutover helpers: pre-flight (binlog format, GTID, server ids, keys, engines),
// CHANGE MASTER … MASTER_USE_GTID with the password taken from the environment, a real write block (read_only and
// killing the application's connections), MASTER_GTID_WAIT, promotion, verification and fail-back.
// The pre-flight is in mariadb-preflight.ts.
import type mysql from 'mysql2/promise'
import {MigrateError, badInput} from '../errors.js'
import {hostPort, myRows, redactUrl, sleep, withMysql} from './connect.js'
import {type MyOpts, SYSTEM_DBS, vars} from './mariadb-catalog.js'
import type {VerifyResult} from './types.js'
import {compare} from './verify-compare.js'

export {type MyOpts, vars} from './mariadb-catalog.js'
export {mariadbPreflight} from './mariadb-preflight.js'

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
