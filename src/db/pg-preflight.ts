// The PostgreSQL pre-flight: what breaks a logical-replication move (and its cutover), found before anything changes.
import type pg from 'pg'
import {redactUrl, withPg} from './connect.js'
import {type PgOpts, USER_TABLES, setting} from './pg-catalog.js'
import {summarize, type Finding, type PreflightResult} from './types.js'
import {WINDOW_DEFAULTS, estimateWindowMs, type WindowLimits} from './window.js'
import {windowFinding} from './window-finding.js'

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
  const src = await withPg(source, opts.sourcePasswordEnv, async (c) => {
    const roles = (
      await c.query(`SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> current_user ORDER BY 1`)
    ).rows.map((r) => r.rolname as string)
    const version = await setting(c, 'server_version')
    findings.push(...(await replicationFindings(c)))
    const tables = (await c.query(USER_TABLES)).rows
    findings.push(...(await tableFindings(c, tables)))
    const extensions = (await c.query(`SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'`)).rows.map(
      (r) => r.extname as string,
    )
    if (extensions.length > 0)
      findings.push({
        severity: 'info',
        code: 'PG_EXTENSIONS',
        message: `extensions in use: ${extensions.join(', ')}`,
        objects: extensions,
      })
    findings.push(...(await cutoverFindings(c, tables.length, opts)))
    return {version, roles, extensions}
  })
  if (target)
    findings.push(
      ...(await withPg(target, opts.targetPasswordEnv, (c) => targetFindings(c, src.extensions, src.roles))),
    )
  return summarize('postgres', redactUrl(source), target ? redactUrl(target) : undefined, src.version, findings)
}

/** The source can feed a logical replica: wal_level, a free slot, WAL senders; inactive slots that pin WAL. */
async function replicationFindings(c: pg.Client): Promise<Finding[]> {
  const findings: Finding[] = []
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
  return findings
}

/** What logical replication does not carry or cannot apply: tables without identity, unlogged ones, sequences, large objects, DDL. */
async function tableFindings(
  c: pg.Client,
  tables: {ident: string; has_pk: boolean; persistence: string; qname: string}[],
): Promise<Finding[]> {
  const findings: Finding[] = []
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
  return findings
}

/** The size the copy moves, and what the cutover needs of the source: blockable roles, apply workers, a window within the bound. */
async function cutoverFindings(
  c: pg.Client,
  tableCount: number,
  opts: {roles?: string[]; limits?: WindowLimits},
): Promise<Finding[]> {
  const findings: Finding[] = []
  const size = (
    await c.query(
      'SELECT pg_size_pretty(pg_database_size(current_database())) AS s, pg_database_size(current_database()) AS b',
    )
  ).rows[0]
  findings.push({
    severity: 'info',
    code: 'PG_SIZE',
    message: `database size ${size.s}, ${tableCount} table(s); the initial copy moves all of it`,
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
  return findings
}

/** The target can take the schema and the subscription, and carry the reverse path after cutover. */
async function targetFindings(c: pg.Client, sourceExtensions: string[], sourceRoles: string[]): Promise<Finding[]> {
  const findings: Finding[] = []
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
  return findings
}
