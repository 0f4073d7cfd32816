// PostgreSQL logical replication and cutover helpers: what a single psql call cannot do without a shell pipe.
// Pre-flight (replica identity, sequences, large objects, wal_level, leftover slots), a real write block
// (REVOKE + NOLOGIN + ending the role's sessions, recorded so it can be undone exactly), the wait until a slot has
// confirmed the source's current WAL position, sequence sync, row-count/checksum verification, and fail-back.
import {existsSync, readFileSync} from 'node:fs'
import type pg from 'pg'
import {MigrateError, badInput} from '../errors.js'
import {writeFileAtomic} from '../io/atomic.js'
import {redactUrl, sleep, withPg} from './connect.js'
import {summarize, type Finding, type PreflightResult, type TableCompare, type VerifyResult} from './types.js'
import {pgUnsubscribe} from './pg-subscription.js'
import {WINDOW_DEFAULTS, estimateLine, estimateWindowMs, type WindowLimits} from './window.js'

export interface PgOpts {
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

const USER_TABLES = `
  SELECT n.nspname AS schema, c.relname AS name, c.oid::regclass::text AS qname, c.relreplident AS ident,
         c.relpersistence AS persistence,
         EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
   ORDER BY 1, 2`

async function setting(c: pg.Client, name: string): Promise<string> {
  return (await c.query('SELECT current_setting($1) AS v', [name])).rows[0].v
}

/**
 * What makes the reverse path certainly fail on the target (publication + logical slot there, for the way back
 * after cutover): the cutover creates it inside the client pause, so each of these is a blocker before anything.
 */
export async function pgReverseBlockers(c: pg.Client): Promise<Finding[]> {
  const out: Finding[] = []
  const wal = await setting(c, 'wal_level')
  if (wal !== 'logical')
    out.push({
      severity: 'blocker',
      code: 'PG_TARGET_WAL_LEVEL',
      message: `target wal_level is ${wal}: the reverse replication slot the cutover creates (the way back after cutover) needs logical, so the cutover would fail inside the client pause`,
      hint: 'ALTER SYSTEM SET wal_level = logical on the target and restart it, before the cutover',
    })
  const slots = Number(await setting(c, 'max_replication_slots'))
  const used = Number((await c.query('SELECT count(*) AS n FROM pg_replication_slots')).rows[0].n)
  if (slots - used < 1)
    out.push({
      severity: 'blocker',
      code: 'PG_TARGET_NO_FREE_SLOT',
      message: `target max_replication_slots=${slots} and ${used} are used: the reverse slot cannot be created`,
      hint: 'Raise max_replication_slots on the target (restart) or drop unused slots',
    })
  const senders = Number(await setting(c, 'max_wal_senders'))
  const sending = Number((await c.query('SELECT count(*) AS n FROM pg_stat_replication')).rows[0].n)
  if (senders - sending < 1)
    out.push({
      severity: 'blocker',
      code: 'PG_TARGET_WAL_SENDERS',
      message: `target max_wal_senders=${senders} with ${sending} in use: the reverse subscription cannot connect`,
      hint: 'Set max_wal_senders to 10 or more on the target (restart)',
    })
  return out
}

/** Application roles whose writes the cutover blocks: they must exist and must not be superusers. */
export async function pgRoleBlockers(c: pg.Client, roles: string[]): Promise<Finding[]> {
  const out: Finding[] = []
  const rows = (await c.query('SELECT rolname, rolsuper FROM pg_roles WHERE rolname = ANY($1)', [roles])).rows as {
    rolname: string
    rolsuper: boolean
  }[]
  const missing = roles.filter((r) => !rows.some((x) => x.rolname === r))
  if (missing.length)
    out.push({
      severity: 'blocker',
      code: 'PG_ROLE_MISSING',
      message: `application role(s) ${missing.join(', ')} do not exist on the source: the write block would fail`,
      hint: 'Set app_role to the role(s) the application connects as',
      objects: missing,
    })
  const su = rows.filter((r) => r.rolsuper).map((r) => r.rolname)
  if (su.length)
    out.push({
      severity: 'blocker',
      code: 'PG_ROLE_SUPERUSER',
      message: `application role(s) ${su.join(', ')} are superusers: privileges cannot block their writes, the cutover would fail inside the pause`,
      hint: 'Let the application connect as a role without SUPERUSER before the cutover',
      objects: su,
    })
  return out
}

/** What breaks a logical-replication move, found before anything changes. */
export async function pgPreflight(
  source: string,
  target: string | undefined,
  opts: PgOpts & {roles?: string[]; limits?: WindowLimits} = {},
): Promise<PreflightResult> {
  const findings: Finding[] = []
  let version: string | undefined
  let sourceExtensions: string[] = []
  let sourceRoles: string[] = []
  await withPg(source, opts.sourcePasswordEnv, async (c) => {
    sourceRoles = (
      await c.query(`SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> current_user ORDER BY 1`)
    ).rows.map((r) => r.rolname)
    version = await setting(c, 'server_version')
    const wal = await setting(c, 'wal_level')
    if (wal !== 'logical')
      findings.push({
        severity: 'blocker',
        code: 'PG_WAL_LEVEL',
        message: `wal_level is ${wal}, logical replication needs logical`,
        hint: 'ALTER SYSTEM SET wal_level = logical and restart the source',
      })
    const slots = Number(await setting(c, 'max_replication_slots'))
    const used = Number((await c.query('SELECT count(*) AS n FROM pg_replication_slots')).rows[0].n)
    if (slots - used < 1)
      findings.push({
        severity: 'blocker',
        code: 'PG_NO_FREE_SLOT',
        message: `max_replication_slots=${slots} and ${used} are used`,
        hint: 'Raise max_replication_slots (restart) or drop unused slots',
      })
    const senders = Number(await setting(c, 'max_wal_senders'))
    if (senders < 2)
      findings.push({
        severity: 'blocker',
        code: 'PG_WAL_SENDERS',
        message: `max_wal_senders=${senders}`,
        hint: 'Set max_wal_senders to 10 or more',
      })
    const leftover = (
      await c.query(
        `SELECT slot_name, active, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained FROM pg_replication_slots WHERE NOT active`,
      )
    ).rows
    if (leftover.length > 0)
      findings.push({
        severity: 'warning',
        code: 'PG_SLOT_LEFTOVER',
        message: `${leftover.length} inactive replication slot(s) pin WAL: ${leftover.map((s) => `${s.slot_name} (${s.retained})`).join(', ')}`,
        hint: "Drop them with SELECT pg_drop_replication_slot('name') if nothing uses them; consider max_slot_wal_keep_size",
        objects: leftover.map((s) => s.slot_name),
      })
    const tables = (await c.query(USER_TABLES)).rows
    const noIdent = tables.filter((t) => t.ident === 'n' || (t.ident === 'd' && !t.has_pk))
    if (noIdent.length > 0)
      findings.push({
        severity: 'blocker',
        code: 'PG_NO_REPLICA_IDENTITY',
        message: `${noIdent.length} table(s) have neither a primary key nor a replica identity: UPDATE and DELETE on them fail once published`,
        hint: 'Add a primary key, or ALTER TABLE … REPLICA IDENTITY FULL (slower apply) / USING INDEX',
        objects: noIdent.map((t) => t.qname),
      })
    const unlogged = tables.filter((t) => t.persistence === 'u')
    if (unlogged.length > 0)
      findings.push({
        severity: 'warning',
        code: 'PG_UNLOGGED',
        message: `${unlogged.length} unlogged table(s) are not replicated`,
        hint: 'ALTER TABLE … SET LOGGED, or copy them at cutover',
        objects: unlogged.map((t) => t.qname),
      })
    const seqs = (await c.query(`SELECT format('%I.%I', schemaname, sequencename) AS s FROM pg_sequences`)).rows
    if (seqs.length > 0)
      findings.push({
        severity: 'info',
        code: 'PG_SEQUENCES',
        message: `${seqs.length} sequence(s) are not replicated by logical replication; the template syncs them at cutover (migrate db pg-sync-sequences)`,
        objects: seqs.map((s) => s.s),
      })
    const lobs = Number((await c.query('SELECT count(*) AS n FROM pg_largeobject_metadata')).rows[0].n)
    if (lobs > 0)
      findings.push({
        severity: 'blocker',
        code: 'PG_LARGE_OBJECTS',
        message: `${lobs} large object(s) exist; logical replication does not copy them`,
        hint: 'Move them to bytea columns, or copy them with pg_dump --large-objects during the write block',
      })
    findings.push({
      severity: 'info',
      code: 'PG_DDL',
      message: 'DDL is not replicated: freeze schema changes from the schema copy until cutover',
    })
    const evt = (await c.query('SELECT evtname FROM pg_event_trigger')).rows
    if (evt.length > 0)
      findings.push({
        severity: 'warning',
        code: 'PG_EVENT_TRIGGERS',
        message: `event triggers exist (${evt.map((e) => e.evtname).join(', ')}); pg_dump copies them to the target`,
        objects: evt.map((e) => e.evtname),
      })
    sourceExtensions = (await c.query(`SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'`)).rows.map(
      (r) => r.extname,
    )
    if (sourceExtensions.length > 0)
      findings.push({
        severity: 'info',
        code: 'PG_EXTENSIONS',
        message: `extensions in use: ${sourceExtensions.join(', ')}`,
        objects: sourceExtensions,
      })
    const size = (
      await c.query(
        'SELECT pg_size_pretty(pg_database_size(current_database())) AS s, pg_database_size(current_database()) AS b',
      )
    ).rows[0]
    findings.push({
      severity: 'info',
      code: 'PG_SIZE',
      message: `database size ${size.s}, ${tables.length} table(s); the initial copy moves all of it`,
    })
    if (opts.roles?.length) findings.push(...(await pgRoleBlockers(c, opts.roles)))
    const workers = Number(await setting(c, 'max_logical_replication_workers'))
    if (workers < 1)
      findings.push({
        severity: 'blocker',
        code: 'PG_NO_APPLY_WORKERS',
        message:
          'max_logical_replication_workers is 0 on the source: the reverse subscription (the way back after cutover) cannot run',
        hint: 'Set max_logical_replication_workers to 4 or more (restart)',
      })
    // Tables written lately are the ones the cutover re-counts inside the pause: their size drives the estimate.
    const hot = (
      await c.query(
        'SELECT count(*) AS n, coalesce(sum(pg_relation_size(relid)), 0)::bigint AS b FROM pg_stat_user_tables WHERE n_mod_since_analyze > 0',
      )
    ).rows[0]
    findings.push(
      windowFinding(
        'PG',
        estimateWindowMs('postgres', Number(hot.b)),
        opts.limits ?? WINDOW_DEFAULTS,
        `${hot.n} table(s) written lately, ${(Number(hot.b) / 1048576).toFixed(1)} MiB, are re-counted inside the pause`,
      ),
    )
  })
  if (target) {
    await withPg(target, opts.targetPasswordEnv, async (c) => {
      const su = (await c.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0]?.rolsuper
      if (!su)
        findings.push({
          severity: 'blocker',
          code: 'PG_TARGET_NOT_SUPERUSER',
          message: 'the target user is not a superuser; CREATE SUBSCRIPTION needs one in PostgreSQL 15',
          hint: 'Connect to the target as a superuser (or the managed service’s replication role)',
        })
      const avail = new Set((await c.query('SELECT name FROM pg_available_extensions')).rows.map((r) => r.name))
      const missing = sourceExtensions.filter((e) => !avail.has(e))
      if (missing.length > 0)
        findings.push({
          severity: 'blocker',
          code: 'PG_TARGET_EXTENSIONS',
          message: `the target lacks extension(s) ${missing.join(', ')}`,
          objects: missing,
        })
      const existing = (await c.query(USER_TABLES)).rows
      if (existing.length > 0)
        findings.push({
          severity: 'warning',
          code: 'PG_TARGET_NOT_EMPTY',
          message: `the target already has ${existing.length} table(s); the schema copy expects an empty database`,
          objects: existing.map((t) => t.qname).slice(0, 20),
        })
      const targetRoles = new Set((await c.query('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname))
      const missingRoles = sourceRoles.filter((r) => !targetRoles.has(r))
      if (missingRoles.length > 0)
        findings.push({
          severity: 'blocker',
          code: 'PG_TARGET_ROLES_MISSING',
          message: `${missingRoles.length} role(s) of the source do not exist on the target; pg_dump does not copy roles and the schema's GRANTs to them fail`,
          hint: 'Create them first (pg_dumpall --roles-only on the source, reviewed, then psql on the target)',
          objects: missingRoles,
        })
      findings.push(...(await pgReverseBlockers(c)))
    })
  }
  return summarize('postgres', redactUrl(source), target ? redactUrl(target) : undefined, version, findings)
}

/** Row counts and an order-independent checksum of every user table on both sides. */
export async function pgVerify(
  source: string,
  target: string,
  opts: PgOpts & {counts?: boolean; tables?: string[]; checksumTables?: string[]} = {},
): Promise<VerifyResult> {
  const t0 = Date.now()
  const only = opts.tables ? new Set(opts.tables) : undefined
  const sums = opts.checksumTables ? new Set(opts.checksumTables) : undefined
  const measure = async (c: pg.Client): Promise<Map<string, {rows: number; sum?: string}>> => {
    const out = new Map<string, {rows: number; sum?: string}>()
    for (const t of (await c.query(USER_TABLES)).rows) {
      const key = `${t.schema}.${t.name}`
      if (only && !only.has(key)) continue
      const sql =
        opts.counts && !sums?.has(key)
          ? `SELECT count(*) AS n FROM ${t.qname}`
          : `SELECT count(*) AS n, coalesce(sum(('x' || substr(md5(r::text), 1, 16))::bit(64)::bigint::numeric), 0)::text AS s FROM ${t.qname} r`
      const r = (await c.query(sql)).rows[0]
      out.set(key, {rows: Number(r.n), sum: r.s})
    }
    return out
  }
  const [src, dst] = await Promise.all([
    withPg(source, opts.sourcePasswordEnv, measure),
    withPg(target, opts.targetPasswordEnv, measure),
  ])
  return compare('postgres', source, target, src, dst, t0)
}

/** The pre-flight's window estimate: info, or a warning when it exceeds the bound the cutover keeps. */
export function windowFinding(prefix: string, estimateMs: number, limits: WindowLimits, basis: string): Finding {
  const over = estimateMs > limits.maxWindowMs
  return {
    severity: over ? 'warning' : 'info',
    code: over ? `${prefix}_WINDOW_OVER_BOUND` : `${prefix}_WINDOW_ESTIMATE`,
    message: `${estimateLine(estimateMs, limits)} (${basis})${over ? ': the cutover would refuse to start' : ''}`,
    hint: over
      ? 'Raise --max-window (clients then wait that long), or move the heavy work out of the pause (verify: checksums runs before it)'
      : undefined,
  }
}

export function compare(
  engine: string,
  source: string,
  target: string,
  src: Map<string, {rows: number; sum?: string}>,
  dst: Map<string, {rows: number; sum?: string}>,
  t0: number,
): VerifyResult {
  const tables: TableCompare[] = []
  for (const name of [...new Set([...src.keys(), ...dst.keys()])].sort()) {
    const a = src.get(name)
    const b = dst.get(name)
    tables.push({
      table: name,
      sourceRows: a?.rows ?? -1,
      targetRows: b?.rows ?? -1,
      sourceChecksum: a?.sum,
      targetChecksum: b?.sum,
      ok: !!a && !!b && a.rows === b.rows && a.sum === b.sum,
    })
  }
  const mismatches = tables.filter((t) => !t.ok).length
  return {
    engine,
    source: redactUrl(source),
    target: redactUrl(target),
    tables,
    mismatches,
    ok: mismatches === 0,
    durationMs: Date.now() - t0,
  }
}

/** Sets every sequence on the target to its value on the source (logical replication does not carry them). */
export async function pgSyncSequences(
  source: string,
  target: string,
  opts: PgOpts = {},
): Promise<{sequences: {name: string; value: string | null}[]}> {
  const seqs = await withPg(
    source,
    opts.sourcePasswordEnv,
    async (c) =>
      (
        await c.query(
          `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS last, start_value::text AS start FROM pg_sequences ORDER BY 1`,
        )
      ).rows,
  )
  await withPg(target, opts.targetPasswordEnv, async (c) => {
    await c.query('BEGIN')
    for (const s of seqs)
      await c.query('SELECT setval($1::regclass, $2::bigint, $3)', [s.name, s.last ?? s.start, s.last !== null])
    await c.query('COMMIT')
  })
  return {sequences: seqs.map((s) => ({name: s.name, value: s.last}))}
}

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
    const {rmSync} = await import('node:fs')
    rmSync(stateFile, {force: true})
    return {granted, roles: state.roles.map((r) => r.role)}
  })
}

/** Notes the source's current WAL position, then waits until `slot` has confirmed it (the subscriber applied everything). */
export async function pgWaitLsn(
  source: string,
  slot: string,
  opts: {passwordEnv?: string; timeoutMs?: number; signal?: AbortSignal} = {},
): Promise<{lsn: string; confirmed: string; waitedMs: number}> {
  const t0 = Date.now()
  return withPg(source, opts.passwordEnv, async (c) => {
    const lsn = (await c.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l
    const deadline = t0 + (opts.timeoutMs ?? 60_000)
    for (;;) {
      const r = (
        await c.query(
          'SELECT confirmed_flush_lsn::text AS f, confirmed_flush_lsn >= $2::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $1',
          [slot, lsn],
        )
      ).rows[0]
      if (!r)
        throw new MigrateError(`replication slot ${slot} does not exist on ${redactUrl(source)}`, {
          code: 'PG_SLOT_MISSING',
          hint: 'Check the subscription name (the slot is named after it) and that the subscription was created',
        })
      if (r.done) return {lsn, confirmed: r.f, waitedMs: Date.now() - t0}
      if (opts.signal?.aborted)
        throw new MigrateError(`interrupted while slot ${slot} was at ${r.f ?? 'nothing'} and the source at ${lsn}`, {
          code: 'INTERRUPTED',
        })
      if (Date.now() > deadline)
        throw new MigrateError(
          `slot ${slot} confirmed ${r.f ?? 'nothing'} but the source is at ${lsn} after ${Date.now() - t0} ms`,
          {
            code: 'PG_LSN_TIMEOUT',
            hint: 'Check the subscription on the target (pg_stat_subscription) and its log; raise --timeout',
          },
        )
      await sleep(10, opts.signal)
    }
  })
}

/** Replication lag of a slot, in bytes of WAL the subscriber has not confirmed; null when the slot is missing. */
export async function pgSlotLag(
  source: string,
  slot: string,
  passwordEnv?: string,
): Promise<{lagBytes: number; active: boolean} | null> {
  return withPg(source, passwordEnv, async (c) => {
    const r = (
      await c.query(
        'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag, active FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      )
    ).rows[0]
    return r ? {lagBytes: Number(r.lag ?? Number.MAX_SAFE_INTEGER), active: r.active} : null
  })
}

/**
 * Fail back after cutover, while clients are paused: block writes on the target, wait until the reverse subscription
 * (on the source, slot on the target) has applied everything, sync sequences target → source, drop the reverse
 * subscription. Afterwards the source holds every write made on the target.
 */
export async function pgFailback(
  source: string,
  target: string,
  subscription: string,
  roles: string[],
  stateFile: string,
  opts: PgOpts & {timeoutMs?: number; dropBudgetMs?: number} = {},
): Promise<{blocked: number; lsn: string; sequences: number; notes: string[]}> {
  const blocked = await pgBlockWrites(target, roles, stateFile, {passwordEnv: opts.targetPasswordEnv})
  const w = await pgWaitLsn(target, subscription, {passwordEnv: opts.targetPasswordEnv, timeoutMs: opts.timeoutMs})
  const seq = await pgSyncSequences(target, source, {
    sourcePasswordEnv: opts.targetPasswordEnv,
    targetPasswordEnv: opts.sourcePasswordEnv,
  })
  // Its DROP waits for the source's apply worker: bounded, and what a worker that does not stop leaves is reported.
  const u = await pgUnsubscribe(source, opts.sourcePasswordEnv, subscription, {
    budgetMs: opts.dropBudgetMs ?? 5000,
    publisher: target,
    publisherPasswordEnv: opts.targetPasswordEnv,
  })
  return {blocked: blocked.revoked, lsn: w.lsn, sequences: seq.sequences.length, notes: u.notes}
}
