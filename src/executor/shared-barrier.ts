// The barriers of a per-server runbook when some servers of the application are in other runners' hands (a shared
// state backend, `ci matrix --per server`): this run's servers wait at the barrier until every server of the
// application is there, through the backend; one that will not get there releases the others, held.
import type {AppWork} from './prepare.js'
import type {Run} from './run.js'
import type {AppReport} from './types.js'

export interface GroupAtBarrier {
  run: Run
  name: string
  members: AppWork[]
}

/** Some servers of the application are not in this run, and a shared backend can bring them together. */
export function sharedWithOthers(g: GroupAtBarrier): boolean {
  return g.run.barrier !== undefined && g.members.length < g.members[0].plan.servers.length
}

function request(g: GroupAtBarrier, barrier: 'cutover' | 'finalize', units: string[]) {
  const run = g.run
  return {
    wave: run.prep.wave.number,
    group: g.name,
    barrier,
    units,
    all: g.members[0].plan.servers.map((s) => `${g.name}:${s.id}`),
    runId: run.journal.runId,
    signal: run.signal,
    onWait: (missing: string[]) =>
      run.emit({
        type: 'preflight',
        finding: {
          severity: 'info',
          code: 'BARRIER_WAIT',
          app: g.name,
          message: `${units.join(', ')} at the ${barrier} barrier: waiting for ${missing.join(', ')} (driven by other runners)`,
        },
      }),
  }
}

/**
 * Meets the application's other servers at the barrier. Undefined when all are there (go on), else why this run's
 * servers stay held, and whether another server failed (after cutover, the application then rolls back as a whole).
 */
export async function meetOthers(
  g: GroupAtBarrier,
  barrier: 'cutover' | 'finalize',
  reports: AppReport[],
): Promise<{why: string; failed: boolean} | undefined> {
  const units = reports.filter((r) => r.outcome === 'held' || r.outcome === 'done').map((r) => r.app)
  const out = await g.run.barrier!.meet(request(g, barrier, units))
  return out.open ? undefined : {why: out.why, failed: out.failed}
}

/** This run's servers will not reach the barrier: the runners waiting there for them stop waiting. */
export async function releaseOthers(g: GroupAtBarrier, barrier: 'cutover' | 'finalize'): Promise<void> {
  const units = g.members.map((w) => w.name)
  await g.run.barrier!.fail(request(g, barrier, units))
}
