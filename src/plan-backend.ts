// The state backend of a plan directory: --state, $MIGRATE_STATE or the plan's settings.state, keyed in a shared
// backend by the plan's metadata.name (the same plan checked out on many machines is one plan).
import {existsSync} from 'node:fs'
import path from 'node:path'
import {PLAN_FILES} from './paths.js'
import {parseSource, readText} from './io/documents.js'
import type {Plan} from './schema/plan.js'
import type {Diagnostic} from './diagnostics.js'
import {detectKind, type KindName} from './schema/kinds.js'
import {openBackend, type StateBackend} from './state/backend.js'
import {stateLocation} from './state/pg/connect.js'
import {startedWavesOf} from './state/started-waves.js'

export async function openPlanBackend(planDir: string, state?: string, plan?: Plan): Promise<StateBackend> {
  return backendOf(
    planDir,
    plan ? {name: plan.metadata.name, settingsState: plan.settings.state} : planKeys(planDir),
    state,
  )
}

/** The backend of a plan with these keys; a plan without a name is keyed by its directory's name. */
function backendOf(
  planDir: string,
  keys: {name?: string; settingsState?: string},
  state?: string,
): Promise<StateBackend> {
  return openBackend(planDir, keys.name ?? path.basename(path.resolve(planDir)), {state, settings: keys.settingsState})
}

/**
 * The plan's name and settings.state as written, read without checking the rest of the plan: a plan that fails its
 * checks today (a date an edit broke, a template not there yet) still has its state where it had it, under its name.
 * (Checking it here, as before, fell back to the journal file and the directory's name for any such plan, so `plan`
 * re-planned started waves and `status` showed nothing.)
 */
function planKeys(planDir: string): {name?: string; settingsState?: string} {
  return planFileKeys(path.join(planDir, PLAN_FILES.plan))
}

/** planKeys of one plan file (any name), with whether it says `kind: Plan`. */
export function planFileKeys(file: string): {name?: string; settingsState?: string; isPlan?: boolean} {
  if (!existsSync(file)) return {}
  let raw: unknown
  try {
    raw = parseSource(file, readText(file)).source.value
  } catch {
    return {}
  }
  const field = (o: unknown, k: string): unknown =>
    o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>)[k] : undefined
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
  return {
    name: str(field(field(raw, 'metadata'), 'name')),
    settingsState: str(field(field(raw, 'settings'), 'state')),
    isPlan: field(raw, 'kind') === 'Plan',
  }
}

/**
 * The started waves of each plan among `files` whose state is in a shared backend (`migrate validate`: a started wave
 * keeps its dates there as it does with the journal file), and a warning for each backend that could not be read.
 */
export async function sharedStartedWavesOfPlans(
  files: readonly string[],
  kind?: KindName,
): Promise<{started: Map<string, number[]>; warnings: Diagnostic[]}> {
  const started = new Map<string, number[]>()
  const warnings: Diagnostic[] = []
  for (const file of files) {
    if (kind !== undefined && kind !== 'plan') continue
    const keys = planFileKeys(file)
    if (!keys.isPlan && detectKind(file) !== 'plan') continue
    let shown: string
    try {
      const loc = stateLocation(undefined, keys.settingsState)
      if (loc.kind === 'file') continue
      shown = loc.shown
    } catch {
      continue // A bad settings.state: the plan's own check reports it.
    }
    try {
      const b = await backendOf(path.dirname(file), keys)
      try {
        started.set(file, startedWavesOf((await b.read()).events))
      } finally {
        await b.close()
      }
    } catch (e) {
      warnings.push({
        severity: 'warning',
        code: 'STATE_UNREADABLE',
        file,
        message: `cannot read which waves have started from the state backend ${shown}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}; waves are checked as if none had started`,
        hint: 'A started wave keeps the dates it started with: run validate where the backend is reachable (PGPASSWORD, ~/.pgpass or a service file), or read its errors about dates with that in mind',
      })
    }
  }
  return {started, warnings}
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
