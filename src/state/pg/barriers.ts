// The barriers of a per-server runbook across runners: when the servers of one application are driven by different
// processes (`ci matrix --per server`), each runner records in migrate_state.barriers that its servers reached the
// barrier (cutover, finalize), and waits until every server of the application is there, on a session that is alive
// (one that still holds its presence lock: a pid alone could be a pooled server process serving someone else now).
// The first to see them all opens the barrier for everyone (state 'passed'); a server that failed to get there
// ('failed', recorded during this run) or a wait that times out holds them all: none cuts over unless all reached it.
import {SCHEMA} from './schema.js'
import {advisoryHeld, type PgSession} from './session.js'

export interface BarrierMeeting {
  wave: number
  group: string
  barrier: 'cutover' | 'finalize'
  /** This runner's servers (units) at the barrier. */
  units: string[]
  /** Every server unit of the application. */
  all: string[]
  runId: string
  timeoutMs: number
  signal: AbortSignal
  /** Told once, when this runner starts to wait for others. */
  onWait?: (missing: string[]) => void
}

/** How long an arrival counts without its runner renewing it (runners waiting renew theirs every 250 ms). */
const freshS = (): number => {
  const n = Number(process.env.MIGRATE_BARRIER_FRESH_S ?? 20)
  return Number.isFinite(n) && n > 0 ? n : 20
}

export type BarrierOutcome = {open: true} | {open: false; why: string; failed: boolean}

/** Records the state of `units` at the barrier (arrived, failed, left, passed), on this runner's session. */
export async function markBarrier(
  s: PgSession,
  planId: string,
  m: BarrierMeeting,
  units: string[],
  state: string,
): Promise<void> {
  await s.run((c) =>
    c.query(
      `INSERT INTO ${SCHEMA}.barriers (plan_id, wave, grp, barrier, unit, state, run_id, backend_pid, presence_key)
       SELECT $1, $2, $3, $4, u, $5, $6, pg_backend_pid(), $8 FROM unnest($7::text[]) AS u
       ON CONFLICT (plan_id, wave, grp, barrier, unit) DO UPDATE
         SET state = excluded.state, run_id = excluded.run_id, backend_pid = excluded.backend_pid,
           presence_key = excluded.presence_key, at = now()`,
      [planId, m.wave, m.group, m.barrier, state, m.runId, units, s.presenceKey],
    ),
  )
}

/** Records that `units` failed to reach the barrier: runners waiting there for them stop waiting, held. */
export function failBarrier(s: PgSession, planId: string, m: BarrierMeeting): Promise<void> {
  return markBarrier(s, planId, m, m.units, 'failed')
}

/**
 * One look: opens the barrier when every server is there (arrived on a live session, or already let through), and
 * says who is missing or failed.
 */
async function look(
  s: PgSession,
  planId: string,
  m: BarrierMeeting,
): Promise<{passed: boolean; missing: string[]; failed: string[]}> {
  return s.run(async (c) => {
    await c.query('BEGIN')
    try {
      const key = [planId, m.wave, m.group, m.barrier]
      const rows = await c.query<{unit: string; state: string; at: Date; live: boolean}>(
        `SELECT b.unit, b.state, b.at,
                CASE WHEN b.presence_key IS NULL
                  THEN EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = b.backend_pid)
                  ELSE ${advisoryHeld('b.presence_key')} AND b.at > now() - make_interval(secs => ${freshS()}) END AS live
           FROM ${SCHEMA}.barriers b WHERE plan_id = $1 AND wave = $2 AND grp = $3 AND barrier = $4 FOR UPDATE`,
        key,
      )
      // This runner is still here: its arrivals are fresh (after the rows are locked above, in one order for all). An
      // arrival not renewed for freshS() seconds counts as gone even if its presence lock is still held (a dead
      // runner's session kept alive by a pooler that does not reset it).
      await c.query(
        `UPDATE ${SCHEMA}.barriers SET at = now() WHERE plan_id = $1 AND wave = $2 AND grp = $3 AND barrier = $4
           AND unit = ANY($5) AND state = 'arrived' AND presence_key = $6`,
        [...key, m.units, s.presenceKey],
      )
      const mine = rows.rows.filter((r) => m.units.includes(r.unit))
      const passed = mine.length > 0 && mine.every((r) => r.state === 'passed')
      const here = new Set(rows.rows.filter((r) => r.state === 'arrived' && r.live).map((r) => r.unit))
      // A failure recorded before this runner started (less 2 minutes: CI jobs of one pipeline start a little apart)
      // is of an earlier run; a server that failed then and is not run again holds this one at the time-out.
      const since = s.startedAt.getTime() - 120_000
      const failed = rows.rows.filter((r) => r.state === 'failed' && r.at.getTime() >= since).map((r) => r.unit)
      const missing = m.all.filter((u) => !here.has(u))
      if (!passed && missing.length === 0 && failed.length === 0)
        await c.query(
          `UPDATE ${SCHEMA}.barriers SET state = 'passed' WHERE plan_id = $1 AND wave = $2 AND grp = $3 AND barrier = $4 AND unit = ANY($5)`,
          [...key, m.all],
        )
      await c.query('COMMIT')
      return {passed: passed || (missing.length === 0 && failed.length === 0), missing, failed}
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw e
    }
  })
}

/** Records this runner's servers at the barrier and waits for the others (polling, every 250 ms). */
export async function meetAtBarrier(s: PgSession, planId: string, m: BarrierMeeting): Promise<BarrierOutcome> {
  await markBarrier(s, planId, m, m.units, 'arrived')
  const until = Date.now() + m.timeoutMs
  let told = false
  for (;;) {
    const l = await look(s, planId, m)
    if (l.passed) return {open: true}
    if (l.failed.length > 0)
      return {open: false, failed: true, why: `${l.failed.join(', ')} did not get there (failed or stopped)`}
    if (m.signal.aborted) return {open: false, failed: false, why: 'this run was interrupted while waiting'}
    if (Date.now() >= until) {
      await markBarrier(s, planId, m, m.units, 'left')
      return {
        open: false,
        failed: false,
        why: `${l.missing.join(', ')} did not reach it within ${Math.round(m.timeoutMs / 1000)} s (MIGRATE_BARRIER_WAIT)`,
      }
    }
    if (!told) m.onWait?.(l.missing)
    told = true
    await new Promise((r) => setTimeout(r, 250))
  }
}
