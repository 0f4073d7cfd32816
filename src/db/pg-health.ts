import {redactUrl, withPg} from './connect.js'

export interface ApplyHealth {
  /** Human-readable problems; empty when replication applies. */
  problems: string[]
  workerPid: number | null
  applyErrors: number
  syncErrors: number
}

/** The subscription's worker and error counters on the target (the subscriber). */
export async function pgSubscriptionState(
  target: string,
  subscription: string,
  passwordEnv?: string,
): Promise<ApplyHealth & {publications: string[]}> {
  return withPg(target, passwordEnv, async (c) => {
    const s = (
      await c.query(
        `SELECT s.subenabled AS enabled, s.subpublications AS pubs, w.pid
         FROM pg_subscription s LEFT JOIN pg_stat_subscription w ON w.subid = s.oid AND w.relid IS NULL
        WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [subscription],
      )
    ).rows[0]
    if (!s)
      return {
        problems: [`no subscription ${subscription} on ${redactUrl(target)}`],
        workerPid: null,
        applyErrors: 0,
        syncErrors: 0,
        publications: [],
      }
    const problems: string[] = []
    if (!s.enabled) problems.push(`subscription ${subscription} is disabled`)
    else if (!s.pid)
      problems.push(
        `the apply worker of subscription ${subscription} is not running (it stops on an apply error: see the target's log)`,
      )
    let applyErrors = 0
    let syncErrors = 0
    if (Number((await c.query(`SELECT current_setting('server_version_num')::int AS v`)).rows[0].v) >= 150000) {
      const e = (
        await c.query(
          'SELECT apply_error_count AS a, sync_error_count AS s FROM pg_stat_subscription_stats WHERE subname = $1',
          [subscription],
        )
      ).rows[0]
      applyErrors = Number(e?.a ?? 0)
      syncErrors = Number(e?.s ?? 0)
    }
    return {problems, workerPid: s.pid ?? null, applyErrors, syncErrors, publications: s.pubs as string[]}
  })
}

const PUBLISHED_COLUMNS = `
  SELECT format('%I.%I', pt.schemaname, pt.tablename) AS t, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_publication_tables pt
    JOIN pg_class c ON c.relname = pt.tablename JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = pt.schemaname
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE pt.pubname = ANY($1)`

const TARGET_COLUMNS = `
  SELECT format('%I.%I', n.nspname, c.relname) AS t, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE c.relkind IN ('r', 'p') AND format('%I.%I', n.nspname, c.relname) = ANY($1)`

/** Published tables whose columns the target lacks (or has with another type): DDL that was not repeated there. */
export async function pgSchemaDrift(
  source: string,
  target: string,
  publications: string[],
  opts: {sourcePasswordEnv?: string; targetPasswordEnv?: string} = {},
): Promise<string[]> {
  if (publications.length === 0) return []
  const src = (await withPg(source, opts.sourcePasswordEnv, (c) => c.query(PUBLISHED_COLUMNS, [publications])))
    .rows as {t: string; col: string; type: string}[]
  const tables = [...new Set(src.map((r) => r.t))]
  const dst = (await withPg(target, opts.targetPasswordEnv, (c) => c.query(TARGET_COLUMNS, [tables]))).rows as {
    t: string
    col: string
    type: string
  }[]
  const have = new Map(dst.map((r) => [`${r.t}.${r.col}`, r.type]))
  const haveTables = new Set(dst.map((r) => r.t))
  const out: string[] = []
  for (const t of tables.filter((x) => !haveTables.has(x))) out.push(`table ${t} is missing on the target`)
  for (const r of src) {
    if (!haveTables.has(r.t)) continue
    const type = have.get(`${r.t}.${r.col}`)
    if (type === undefined) out.push(`${r.t}.${r.col} (${r.type}) exists on the source but not on the target`)
    else if (type !== r.type) out.push(`${r.t}.${r.col} is ${r.type} on the source but ${type} on the target`)
  }
  return out
}

/** Worker, errors and schema at once; with `errorsBefore`, growing error counters are a problem too. */
export async function pgApplyHealth(
  source: string,
  target: string,
  subscription: string,
  opts: {sourcePasswordEnv?: string; targetPasswordEnv?: string; errorsBefore?: {apply: number; sync: number}} = {},
): Promise<ApplyHealth> {
  const st = await pgSubscriptionState(target, subscription, opts.targetPasswordEnv)
  const problems = [...st.problems]
  if (opts.errorsBefore && (st.applyErrors > opts.errorsBefore.apply || st.syncErrors > opts.errorsBefore.sync))
    problems.push(
      `subscription ${subscription} hit ${st.applyErrors - opts.errorsBefore.apply} apply error(s) and ${st.syncErrors - opts.errorsBefore.sync} sync error(s) just now (pg_stat_subscription_stats)`,
    )
  const drift = await pgSchemaDrift(source, target, st.publications, opts)
  if (drift.length)
    problems.push(
      `schema not in step (DDL is not replicated; repeat it on the target): ${drift.slice(0, 5).join('; ')}${drift.length > 5 ? `; and ${drift.length - 5} more` : ''}`,
    )
  return {...st, problems}
}

// Error counters seen by earlier checks in this process (a wait step runs its check every interval).
const seenErrors = new Map<string, {apply: number; sync: number}>()

/** For the repeating health check: problems now, counting errors that grew since this process last looked. */
export async function pgApplyHealthCheck(
  source: string,
  target: string,
  subscription: string,
  passwordEnv?: string,
): Promise<string[]> {
  const key = `${target}|${subscription}`
  const h = await pgApplyHealth(source, target, subscription, {
    sourcePasswordEnv: passwordEnv,
    targetPasswordEnv: passwordEnv,
    errorsBefore: seenErrors.get(key),
  })
  seenErrors.set(key, {apply: h.applyErrors, sync: h.syncErrors})
  return h.problems
}

export interface BlockingSession {
  pid: number
  user: string
  application: string
  client: string
  state: string
  xactAgeS: number
  query: string
}

/** Sessions in a transaction on the server (oldest first): what keeps a PgBouncer PAUSE (or a lock) waiting. */
export async function pgOpenTransactions(
  url: string,
  passwordEnv?: string,
  limit = 5,
  users?: string[],
): Promise<BlockingSession[]> {
  return withPg(url, passwordEnv, async (c) =>
    (
      await c.query(
        `SELECT pid, usename, coalesce(application_name, '') AS app, coalesce(host(client_addr), 'local') AS client, state,
              round(extract(epoch FROM now() - xact_start)::numeric, 1)::float8 AS age, left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query
         FROM pg_stat_activity
        WHERE xact_start IS NOT NULL AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = current_database()
          AND ($2::text[] IS NULL OR usename = ANY($2))
        ORDER BY xact_start LIMIT $1`,
        [limit, users ?? null],
      )
    ).rows.map((r) => ({
      pid: r.pid,
      user: r.usename,
      application: r.app,
      client: r.client,
      state: r.state,
      xactAgeS: r.age,
      query: r.query,
    })),
  )
}

export function describeSessions(s: BlockingSession[]): string {
  return s
    .map(
      (x) =>
        `pid ${x.pid} user ${x.user}${x.application ? ` application ${x.application}` : ''} from ${x.client}, ${x.state}, transaction open ${x.xactAgeS} s: ${x.query}`,
    )
    .join('; ')
}

/** Bytes of the tables, by schema.name (heap only: what a count scans). */
export async function pgTableBytes(url: string, passwordEnv?: string): Promise<Map<string, number>> {
  return withPg(url, passwordEnv, async (c) => {
    const rows = (
      await c.query(
        `SELECT schemaname || '.' || relname AS t, pg_relation_size(relid)::bigint AS b FROM pg_stat_user_tables`,
      )
    ).rows
    return new Map(rows.map((r) => [r.t as string, Number(r.b)]))
  })
}
