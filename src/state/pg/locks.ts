// Per-unit locks in PostgreSQL: a session advisory lock per unit (an application, or APP:SERVER / APP:DB), keyed by a
// hash of plan id and unit, held on the runner's session. The server releases them when the session ends (a crash,
// kill -9, pg_terminate_backend, a partition the server notices), so no lock outlives its runner and none needs
// breaking by hand. Who holds a unit (host, pid, user, CI job) is written beside it in migrate_state.unit_locks,
// for `migrate status` and for the error a second runner gets; a row counts only while its session holds the lock.
import {createHash} from 'node:crypto'
import {EXIT, MigrateError} from '../../errors.js'
import type {Actor} from '../chain.js'
import {SCHEMA} from './schema.js'
import {advisoryHeld, GUARD_COLUMNS, type GuardRow, type PgSession, pooledSession} from './session.js'

export interface UnitHolder {
  unit: string
  host: string
  pid: number
  user: string
  operation: string
  since: string
  ciJob?: string
}

/** The advisory lock key of a unit: the first 8 bytes of sha256(plan id, unit), as a signed bigint. */
export function unitKey(planId: string, unit: string): string {
  return createHash('sha256').update(`migrate-unit\0${planId}\0${unit}`).digest().readBigInt64BE(0).toString()
}

/** The CI job this runner is, from the CI system's environment (GitHub Actions, GitLab, Jenkins, Buildkite). */
export function ciJobUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID)
    return `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}${env.GITHUB_RUN_ATTEMPT ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''}`
  return env.CI_JOB_URL || env.BUILD_URL || env.BUILDKITE_BUILD_URL || undefined
}

export function describeHolder(h: UnitHolder): string {
  return `${h.user}@${h.host} pid ${h.pid} (${h.operation}, since ${h.since}${h.ciJob ? `, ${h.ciJob}` : ''})`
}

/** The holders of a plan's units whose session still holds the lock. */
export async function unitHolders(s: PgSession, planId: string, units?: string[]): Promise<UnitHolder[]> {
  return s.run(async (c) => {
    const r = await c.query(
      `SELECT l.unit, l.host, l.pid, l.os_user, l.operation, l.since, l.ci_job
         FROM ${SCHEMA}.unit_locks l
        WHERE l.plan_id = $1 AND ($2::text[] IS NULL OR l.unit = ANY($2))
          AND CASE WHEN l.lock_key IS NULL
                THEN EXISTS (SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted AND k.pid = l.backend_pid)
                ELSE ${advisoryHeld('l.lock_key')} END
        ORDER BY l.unit`,
      [planId, units ?? null],
    )
    return r.rows.map((x) => ({
      unit: x.unit,
      host: x.host,
      pid: x.pid,
      user: x.os_user,
      operation: x.operation,
      since: new Date(x.since).toISOString(),
      ...(x.ci_job ? {ciJob: x.ci_job} : {}),
    }))
  })
}

/**
 * Takes the lock of every unit, or none: a unit another session holds releases the ones taken and throws LOCKED
 * naming who holds it.
 */
export async function lockUnits(
  s: PgSession,
  planId: string,
  units: string[],
  operation: string,
  actor: Actor,
): Promise<void> {
  const taken: string[] = []
  for (const unit of [...new Set(units)].sort()) {
    const key = unitKey(planId, unit)
    const ok = await s.run(async (c) => {
      // Tried only on this runner's own server session, and not when that session holds the unit's lock without this
      // runner having taken it (a pooler handed it another client's session): session locks stack, so it would be
      // granted to both.
      const r = await c.query<GuardRow & {ok: boolean | null}>(
        `SELECT ${GUARD_COLUMNS},
           CASE WHEN pg_backend_pid() = $2 AND current_setting('migrate.session', true) = $3
                 AND ($4 OR NOT ${advisoryHeld('$1::bigint', 'pg_backend_pid()')})
           THEN pg_try_advisory_lock($1::bigint) END AS ok`,
        [key, s.backendPid, s.token, s.heldKeys.has(key)],
      )
      s.guard(r.rows[0])
      if (r.rows[0].ok === null)
        throw pooledSession(
          s.loc.shown,
          `its server session already holds the lock of ${unit}, taken by another client`,
        )
      if (!r.rows[0].ok) return false
      s.heldKeys.set(key, (s.heldKeys.get(key) ?? 0) + 1)
      await c.query(
        `INSERT INTO ${SCHEMA}.unit_locks (plan_id, unit, host, pid, os_user, operation, ci_job, backend_pid, lock_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, pg_backend_pid(), $8)
         ON CONFLICT (plan_id, unit) DO UPDATE SET host = excluded.host, pid = excluded.pid, os_user = excluded.os_user,
           operation = excluded.operation, ci_job = excluded.ci_job, since = now(), backend_pid = excluded.backend_pid,
           lock_key = excluded.lock_key`,
        [planId, unit, actor.host, actor.pid, actor.user, operation, ciJobUrl() ?? null, key],
      )
      return true
    })
    if (ok) {
      taken.push(unit)
      continue
    }
    const holder = await heldBy(s, planId, unit)
    await unlockUnits(s, planId, taken).catch(() => undefined)
    throw unitLocked(unit, holder, s.loc.shown)
  }
}

/** Who holds a unit: its row, once its holder wrote it (a holder takes the lock a moment before). */
async function heldBy(s: PgSession, planId: string, unit: string): Promise<UnitHolder | undefined> {
  for (let i = 0; i < 20; i++) {
    const [h] = await unitHolders(s, planId, [unit])
    if (h) return h
    await new Promise((r) => setTimeout(r, 25))
  }
  return undefined
}

export function unitLocked(unit: string, h: UnitHolder | undefined, shown: string): MigrateError {
  return new MigrateError(
    `${unit} is locked by ${h ? describeHolder(h) : 'another runner (its record is being written)'}`,
    {
      code: 'LOCKED',
      exitCode: EXIT.LOCKED,
      hint: `Another runner is running it now (state: ${shown}). Run the other units of the wave here (--app), or wait for it (rerun with --lock-timeout 10m to wait here); the lock is a session lock of the state backend, released by the server as soon as that runner ends, so there is nothing to unlock by hand`,
      data: {unit, lock: h},
    },
  )
}

export async function unlockUnits(s: PgSession, planId: string, units: string[]): Promise<void> {
  if (units.length === 0 || s.lost) return
  await s.run(async (c) => {
    await c.query(
      `DELETE FROM ${SCHEMA}.unit_locks WHERE plan_id = $1 AND unit = ANY($2) AND backend_pid = pg_backend_pid()`,
      [planId, units],
    )
    for (const u of units) {
      const key = unitKey(planId, u)
      const r = await c.query<{ok: boolean}>('SELECT pg_advisory_unlock($1::bigint) AS ok', [key])
      if (!r.rows[0].ok) continue // not held by this session (it was lost, or never took it): nothing to count down
      const n = (s.heldKeys.get(key) ?? 0) - 1
      n > 0 ? s.heldKeys.set(key, n) : s.heldKeys.delete(key)
    }
  })
}
