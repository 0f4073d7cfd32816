// `migrate ci matrix`: the units of a wave for a CI system to fan out over runners, each job running
// `migrate execute wave N --app UNIT` against a shared state backend. Per application (default: an application with
// its database units and, under a per-server runbook, all its servers) or per server (each unit alone: the servers
// of one application then meet at their cutover barrier through the backend).
import {badInput} from '../errors.js'
import type {JournalEvent} from '../schema/state.js'
import {startedWavesOf} from '../state/started-waves.js'
import {replay} from '../state/status.js'
import {findWave, loadPlanContext, unitsOf} from './context.js'

export type MatrixPer = 'app' | 'server'
export type MatrixFormat = 'github' | 'gitlab'

export interface CiMatrix {
  wave: number
  per: MatrixPer
  units: string[]
  /** For a GitHub Actions `strategy.matrix: ${{ fromJSON(...) }}`: {unit: [...]}; GitLab `parallel:matrix`: [{UNIT: [...]}]. */
  matrix: {unit: string[]} | {UNIT: string[]}[]
}

/**
 * `events`: the plan's journal, from its state backend: the waves it shows as started keep their dates, and an
 * application it shows as one unit in this wave stays one (as execute prepares them).
 */
export function ciMatrix(
  planDir: string,
  wave: number,
  per: MatrixPer,
  format: MatrixFormat,
  events: readonly JournalEvent[] = [],
): CiMatrix {
  const ctx = loadPlanContext(planDir, {allowStale: true, startedWaves: startedWavesOf(events)})
  const w = findWave(ctx.plan, wave)
  const journaled = replay(events).waves.get(wave)
  const units: string[] = []
  for (const name of w.applications) {
    const app = ctx.plan.applications.find((a) => a.name === name)
    if (!app) throw badInput(`wave ${wave} lists ${name}, which is not in the plan's applications`, 'UNKNOWN_APP')
    if (per === 'app') units.push(name)
    else units.push(...unitsOf(planDir, app, journaled?.has(name) ?? false).map((u) => u.name))
  }
  // GitHub refuses an empty matrix; a wave without units is a plan to fix, not a job to skip silently.
  if (units.length === 0)
    throw badInput(`wave ${wave} has no applications`, 'EMPTY_WAVE', 'Re-plan, or leave this wave out of the pipeline')
  return {wave, per, units, matrix: format === 'github' ? {unit: units} : [{UNIT: units}]}
}
