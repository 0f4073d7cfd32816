// The state backend of a plan directory: --state, $MIGRATE_STATE or the plan's settings.state, keyed in a shared
// backend by the plan's metadata.name (the same plan checked out on many machines is one plan).
import {existsSync} from 'node:fs'
import path from 'node:path'
import {PLAN_FILES} from './paths.js'
import {loadKind} from './file-kinds.js'
import type {Plan} from './schema/plan.js'
import {openBackend, type StateBackend} from './state/backend.js'
import {startedWavesOf} from './state/started-waves.js'

export async function openPlanBackend(planDir: string, state?: string, plan?: Plan): Promise<StateBackend> {
  let p = plan
  const file = path.join(planDir, PLAN_FILES.plan)
  if (!p && existsSync(file)) {
    try {
      p = loadKind<Plan>('plan', file).value
    } catch {
      p = undefined
    }
  }
  return openBackend(planDir, p?.metadata.name ?? path.basename(path.resolve(planDir)), {
    state,
    settings: p?.settings.state,
  })
}

/** Waves a shared backend shows as started (a re-plan keeps them); undefined with the journal file. */
export async function sharedStartedWaves(planDir: string, state?: string): Promise<number[] | undefined> {
  return withPlanBackend(planDir, state, async (b) =>
    b.kind === 'file' ? undefined : startedWavesOf((await b.read()).events),
  )
}

/** Runs fn with the plan's backend, closed afterwards. */
export async function withPlanBackend<T>(
  planDir: string,
  state: string | undefined,
  fn: (b: StateBackend) => Promise<T>,
): Promise<T> {
  const b = await openPlanBackend(planDir, state)
  try {
    return await fn(b)
  } finally {
    await b.close()
  }
}
