// The write block on RDS for MariaDB (a fail-back's): read_only is a parameter-group setting there, out of reach of
// SQL, so the application's accounts are locked and their sessions ended with mysql.rds_kill; the locked accounts
// are recorded in a state file, so that unblocking unlocks exactly those (and, on the source, the locks that came
// through the reverse replication).
import {existsSync, readFileSync, rmSync} from 'node:fs'
import {badInput} from '../../errors.js'
import {writeFileAtomic} from '../../io/atomic.js'
import {myRows, redactUrl, sleep, withMysql} from '../connect.js'

interface LockState {
  version: 1
  url: string
  /** 'user'@'host' accounts this block locked (unblock unlocks exactly these). */
  accounts: string[]
}

/**
 * Blocks writes on RDS without SUPER: ACCOUNT LOCK on every account of `users` (CREATE USER privilege), then
 * mysql.rds_kill on their sessions, waiting until they are gone so no transaction of theirs commits afterwards.
 * The locked accounts are recorded in stateFile first, so a crash in between can still be undone.
 */
export async function rdsMariadbBlockWrites(
  url: string,
  users: string[],
  stateFile: string,
  opts: {passwordEnv?: string} = {},
): Promise<{locked: number; killed: number}> {
  if (users.length === 0)
    throw badInput(
      'no application user to block',
      'DB_NO_ROLE',
      'Pass --user with the account(s) the application connects as',
    )
  return withMysql(url, opts.passwordEnv, async (c) => {
    const state: LockState = existsSync(stateFile)
      ? JSON.parse(readFileSync(stateFile, 'utf8'))
      : {version: 1, url: redactUrl(url), accounts: []}
    const rows = await myRows(
      c,
      "SELECT User AS u, Host AS h, JSON_VALUE(Priv, '$.account_locked') AS l FROM mysql.global_priv WHERE User IN (?)",
      [users],
    )
    const fresh = rows.filter((r) => String(r.l) !== 'true').map((r) => `${c.escape(r.u)}@${c.escape(r.h)}`)
    state.accounts = [...new Set([...state.accounts, ...fresh])]
    writeFileAtomic(stateFile, JSON.stringify(state, null, 2) + '\n')
    for (const a of fresh) await c.query(`ALTER USER ${a} ACCOUNT LOCK`)
    const ids = (
      await myRows(
        c,
        'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER IN (?) AND ID <> CONNECTION_ID()',
        [users],
      )
    ).map((r) => Number(r.id))
    for (const id of ids) await c.query('CALL mysql.rds_kill(?)', [id]).catch(() => {})
    const deadline = Date.now() + 10_000
    while (ids.length > 0 && Date.now() < deadline) {
      const left = await myRows(c, 'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID IN (?)', [ids])
      if (Number(left[0].n) === 0) break
      await sleep(10)
    }
    return {locked: fresh.length, killed: ids.length}
  })
}

/** Undoes rdsMariadbBlockWrites from its state file (a no-op without one). */
export async function rdsMariadbUnblockWrites(
  url: string,
  stateFile: string,
  opts: {passwordEnv?: string} = {},
): Promise<{unlocked: number}> {
  if (!existsSync(stateFile)) return {unlocked: 0}
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as LockState
  return withMysql(url, opts.passwordEnv, async (c) => {
    for (const a of state.accounts) await c.query(`ALTER USER ${a} ACCOUNT UNLOCK`)
    rmSync(stateFile, {force: true})
    return {unlocked: state.accounts.length}
  })
}

/**
 * The account locks of a fail-back reach the source through the reverse replication (ALTER USER is binlogged on
 * RDS, and RDS has no SET sql_log_bin): once the source no longer replicates, unlock there the accounts the state
 * file names, outside the source's binlog.
 */
export async function unlockReplicatedLocks(
  source: string,
  stateFile: string,
  opts: {passwordEnv?: string} = {},
): Promise<{unlocked: number}> {
  if (!existsSync(stateFile)) return {unlocked: 0}
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as LockState
  return withMysql(source, opts.passwordEnv, async (c) => {
    await c.query('SET SESSION sql_log_bin = 0')
    try {
      for (const a of state.accounts) await c.query(`ALTER USER IF EXISTS ${a} ACCOUNT UNLOCK`)
    } finally {
      await c.query('SET SESSION sql_log_bin = 1')
    }
    return {unlocked: state.accounts.length}
  })
}
