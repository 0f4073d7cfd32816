// The PostgreSQL write block: REVOKE of the roles' table write privileges + NOLOGIN + ending their sessions,
// recorded in a state file so that it can be undone exactly; its probe for the cutover's commit point.
import {existsSync, readFileSync, rmSync} from 'node:fs'
import type pg from 'pg'
import {MigrateError, badInput} from '../errors.js'
import {writeFileAtomic} from '../io/atomic.js'
import {redactUrl, sleep, withPg} from './connect.js'

interface BlockState {
  version: 1
  url: string
  roles: {role: string; canLogin: boolean; grants: {table: string; privileges: string[]}[]}[]
}

/**
 * Blocks writes by `roles` for real: revokes the table write privileges they hold (recorded in stateFile so that
 * unblock restores exactly those), makes the roles NOLOGIN, and ends their sessions. A read-only default would not
 * do: any client can switch it off.
 */
export async function pgBlockWrites(
  url: string,
  roles: string[],
  stateFile: string,
  opts: {passwordEnv?: string; schemas?: string[]; timeoutMs?: number} = {},
): Promise<{revoked: number; terminated: number; roles: string[]}> {
  if (roles.length === 0)
    throw badInput('no role to block', 'DB_NO_ROLE', 'Pass --role with the application role(s) that write')
  return withPg(url, opts.passwordEnv, async (c) => {
    const state: BlockState = existsSync(stateFile)
      ? JSON.parse(readFileSync(stateFile, 'utf8'))
      : {version: 1, url: redactUrl(url), roles: []}
    let revoked = 0
    for (const role of roles) {
      const r = (await c.query('SELECT rolsuper, rolcanlogin FROM pg_roles WHERE rolname = $1', [role])).rows[0]
      if (!r)
        throw badInput(
          `role ${role} does not exist on ${redactUrl(url)}`,
          'PG_ROLE_MISSING',
          'Pass the role the application connects as (--role)',
        )
      if (r.rolsuper)
        throw new MigrateError(`role ${role} is a superuser: its writes cannot be blocked by privileges`, {
          code: 'PG_ROLE_SUPERUSER',
          hint: 'Let the application connect as a role without SUPERUSER before the cutover',
        })
      const grants = (
        await c.query(
          `SELECT c.oid::regclass::text AS t, array_agg(DISTINCT a.privilege_type) AS p
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                  aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
            WHERE c.relkind IN ('r','p') AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1)
              AND a.privilege_type IN ('INSERT','UPDATE','DELETE','TRUNCATE')
              AND n.nspname NOT IN ('pg_catalog','information_schema') ${opts.schemas?.length ? 'AND n.nspname = ANY($2)' : ''}
            GROUP BY 1 ORDER BY 1`,
          opts.schemas?.length ? [role, opts.schemas] : [role],
        )
      ).rows as {t: string; p: string[]}[]
      const prev = state.roles.find((x) => x.role === role)
      if (!prev)
        state.roles.push({role, canLogin: r.rolcanlogin, grants: grants.map((g) => ({table: g.t, privileges: g.p}))})
      else
        for (const g of grants)
          if (!prev.grants.some((x) => x.table === g.t)) prev.grants.push({table: g.t, privileges: g.p})
      // Record before changing anything, so a crash in between can still be undone.
      writeFileAtomic(stateFile, JSON.stringify(state, null, 2) + '\n')
      const ident = (await c.query('SELECT quote_ident($1) AS q', [role])).rows[0].q
      await c.query('BEGIN')
      // REVOKE and ALTER ROLE wait for locks like any DDL: bounded, so a stuck block fails instead of holding clients.
      await c.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(opts.timeoutMs ?? 10_000))}`)
      for (const g of grants) {
        await c.query(`REVOKE ${g.p.join(', ')} ON ${g.t} FROM ${ident}`)
        revoked++
      }
      await c.query(`ALTER ROLE ${ident} NOLOGIN`)
      await c.query('COMMIT')
    }
    const terminated = await terminateSessions(c, roles, opts.timeoutMs ?? 10_000)
    return {revoked, terminated, roles}
  })
}

async function terminateSessions(c: pg.Client, roles: string[], waitMs: number): Promise<number> {
  const n = (
    await c.query(
      'SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE usename = ANY($1) AND pid <> pg_backend_pid()',
      [roles],
    )
  ).rows[0].n
  const deadline = Date.now() + waitMs
  for (;;) {
    const left = Number(
      (
        await c.query(
          'SELECT count(*) AS n FROM pg_stat_activity WHERE usename = ANY($1) AND pid <> pg_backend_pid()',
          [roles],
        )
      ).rows[0].n,
    )
    if (left === 0) break
    if (Date.now() > deadline)
      throw new MigrateError(
        `${left} session(s) of ${roles.join(', ')} still open ${waitMs} ms after pg_terminate_backend`,
        {code: 'PG_BLOCK_TIMEOUT', hint: 'Look at pg_stat_activity on the source for sessions that do not end'},
      )
    await sleep(10)
  }
  return Number(n)
}

/** The write block's probe: the roles cannot log in and have no session on the server. */
export async function pgBlockInForce(url: string, roles: string[], passwordEnv?: string): Promise<void> {
  await withPg(url, passwordEnv, async (c) => {
    const r = (
      await c.query(
        `SELECT (SELECT array_agg(rolname::text) FROM pg_roles WHERE rolname = ANY($1) AND rolcanlogin) AS login,
              (SELECT count(*) FROM pg_stat_activity WHERE usename = ANY($1) AND pid <> pg_backend_pid()) AS sessions`,
        [roles],
      )
    ).rows[0]
    if (r.login?.length || Number(r.sessions) > 0)
      throw new MigrateError(
        `the write block on ${redactUrl(url)} is no longer in force: ${r.login?.length ? `role(s) ${r.login.join(', ')} can log in again` : ''}${r.login?.length && Number(r.sessions) ? ', ' : ''}${Number(r.sessions) ? `${r.sessions} session(s) of ${roles.join(', ')} are open` : ''}`,
        {
          code: 'WRITE_BLOCK_LAPSED',
          hint: 'Someone or something undid the block during the cutover; nothing was promoted',
        },
      )
  })
}

/** Undoes pgBlockWrites from its state file: grants back exactly what was revoked and restores LOGIN. */
export async function pgUnblockWrites(
  url: string,
  stateFile: string,
  opts: {passwordEnv?: string} = {},
): Promise<{granted: number; roles: string[]}> {
  if (!existsSync(stateFile)) return {granted: 0, roles: []}
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as BlockState
  return withPg(url, opts.passwordEnv, async (c) => {
    let granted = 0
    await c.query('BEGIN')
    for (const r of state.roles) {
      const ident = (await c.query('SELECT quote_ident($1) AS q', [r.role])).rows[0].q
      for (const g of r.grants) {
        await c.query(`GRANT ${g.privileges.join(', ')} ON ${g.table} TO ${ident}`)
        granted++
      }
      if (r.canLogin) await c.query(`ALTER ROLE ${ident} LOGIN`)
    }
    await c.query('COMMIT')
    writeFileAtomic(stateFile + '.undone', JSON.stringify(state, null, 2) + '\n')
    rmSync(stateFile, {force: true})
    return {granted, roles: state.roles.map((r) => r.role)}
  })
}
