// The executor: runs the applications of a wave concurrently, each application's steps in order, with retries,
// timeouts, `when`, gates and finalize soaks; a failed step rolls that application's completed steps back in
// reverse. Every state change is journaled (fsynced) before the next action, so a rerun continues where a crash or
// Ctrl-C stopped. The engine only emits events: the commands decide how they look.
//
// This file is the wave loop of `execute` and `rollback`; the parts live beside it: session.ts (lock, journal,
// leftover step processes), app.ts (one unit's runbook), step.ts (one step with retries), gate.ts and soak.ts,
// rollback.ts, group.ts (per-server runbooks and the wave's units), dry-run.ts, preflight.ts, run.ts (record()).
import {EXIT} from '../errors.js'
import type {JournalEvent} from '../schema/state.js'
import type {StateBackend} from '../state/backend.js'
import {registerSecrets} from '../process/run.js'
import {appState} from '../state/status.js'
import {dryRun} from './dry-run.js'
import {executeUnits} from './group.js'
import {mapWithLimit} from '../map-limit.js'
import {dynamicPreflight, stopOnBlockers} from './preflight.js'
import {type AppWork, prepareWave, type WavePrep} from './prepare.js'
import {rollbackApp} from './rollback.js'
import {
  DEFAULT_CONCURRENCY,
  defaultDeps,
  exitCodeFor,
  newRun,
  newRunId,
  record,
  restoreCaptures,
  type Run,
  summarize,
  summaryText,
  unitState,
} from './run.js'
import {withBackend, withLockAndJournal} from './session.js'
import type {AppReport, CommonOptions, ExecuteOptions, WaveResult} from './types.js'

export {DEFAULT_CONCURRENCY, exitCodeFor} from './run.js'

function waveResult(prep: WavePrep, runId: string, mode: 'execute' | 'rollback', apps: AppReport[], exitCode: number) {
  return {
    wave: prep.wave.number,
    runId,
    mode,
    planDir: prep.ctx.planDir,
    apps,
    preflight: prep.findings,
    pendingSteps: 0,
    exitCode,
    summary: summarize(apps),
    warnings: [],
  } satisfies WaveResult
}

/** The run-started line of the journal: what was asked. */
function runLine(mode: 'execute' | 'rollback', prep: WavePrep, opts: ExecuteOptions): string {
  const apps = opts.apps?.length ? ` --app ${opts.apps.join(',')}` : ''
  return `${mode} wave ${prep.wave.number}${apps}${mode === 'execute' && opts.noRollback ? ' --no-rollback' : ''}`
}

async function executeLocked(run: Run, runId: string): Promise<WaveResult> {
  const {prep, opts, signal} = run
  const mode = 'execute' as const
  await record(
    run,
    {type: 'run-started', mode, message: runLine(mode, prep, opts)},
    {type: 'run-start', runId, wave: prep.wave.number, mode, apps: prep.apps.map((a) => a.name)},
  )
  const apps = await executeUnits(run, prep.apps, opts.concurrency ?? DEFAULT_CONCURRENCY)
  const exitCode = exitCodeFor(apps, signal.aborted)
  if (signal.aborted)
    await record(run, {
      type: 'interrupted',
      message: 'Ctrl-C/SIGTERM: no new step was started; running steps were stopped',
    })
  await record(run, {type: 'run-finished', mode, exitCode, message: summaryText(apps)}, {type: 'run-end', exitCode})
  return waveResult(prep, runId, mode, apps, exitCode)
}

export function executeWave(opts: ExecuteOptions): Promise<WaveResult> {
  return withBackend(opts, (backend, events) => executeWith(opts, backend, events))
}

async function executeWith(
  opts: ExecuteOptions,
  backend: StateBackend,
  events: readonly JournalEvent[] | undefined,
): Promise<WaveResult> {
  const emit = opts.emit ?? (() => undefined)
  const deps = defaultDeps(opts.deps)
  const runId = newRunId()
  const stepRefs = [...(opts.approve ?? []), ...(opts.retrySteps ?? []), ...(opts.skipSteps ?? [])]
  const prep = prepareWave({...opts, deps, stepRefs, events}, runId)
  registerSecrets(prep.secrets)
  if (opts.dryRun) {
    stopOnBlockers(prep.findings, prep.wave.number)
    emit({type: 'run-start', runId, wave: prep.wave.number, mode: 'dry-run', apps: prep.apps.map((a) => a.name)})
    const result = dryRun(prep, opts, runId, emit)
    emit({type: 'run-end', exitCode: result.exitCode})
    return result
  }
  stopOnBlockers(prep.findings, prep.wave.number)
  const operation = `execute wave ${prep.wave.number}`
  return withLockAndJournal(prep, opts, backend, operation, runId, async (journal, held) => {
    prep.findings.push(...(await dynamicPreflight(prep, deps, held.signal)))
    stopOnBlockers(prep.findings, prep.wave.number)
    for (const f of prep.findings) emit({type: 'preflight', finding: f})
    return executeLocked(newRun(prep, opts, deps, journal, emit, held), runId)
  })
}

// ---------------------------------------------------------------------------------------------------------------
// migrate rollback

/** Units with a step that ran (and not rolled back since). */
function rollbackCandidates(run: Run): AppWork[] {
  const undoable = ['succeeded', 'rolling-back', 'rollback-failed', 'interrupted', 'running']
  return run.prep.apps.filter((w) => {
    if (!w.template) return false
    const st = unitState(run, w)
    return st.steps.some((s) => undoable.includes(s.status)) && st.status !== 'rolled-back'
  })
}

async function rollbackOne(run: Run, w: AppWork): Promise<AppReport> {
  const st = unitState(run, w)
  restoreCaptures(w, st)
  const rb = await rollbackApp(run, w, st, 'migrate rollback')
  const n = [...rb.steps.values()].filter((x) => x === 'rolled-back').length
  const rep: AppReport = {
    app: w.name,
    template: w.templateName,
    outcome: rb.outcome,
    message: rb.outcome === 'rolled-back' ? `${n} compensating step${n === 1 ? '' : 's'} ran` : rb.message,
    steps: [...rb.steps].map(([id, status]) => ({id, kind: 'run' as const, status})),
  }
  if (rb.outcome === 'rolled-back' || rb.outcome === 'interrupted' || rb.outcome === 'needs-operator')
    run.emit({
      type: 'app-end',
      app: w.name,
      outcome: rb.outcome,
      message: rb.outcome === 'rolled-back' ? 'rolled back' : rb.message,
    })
  return rep
}

function rollbackExitCode(apps: AppReport[], aborted: boolean): number {
  const has = (o: AppReport['outcome']): boolean => apps.some((a) => a.outcome === o)
  if (aborted || has('interrupted')) return EXIT.INTERRUPTED
  if (has('needs-operator')) return EXIT.NEEDS_OPERATOR
  if (has('rollback-failed')) return EXIT.FAILURE
  // An application past its finalize step is not a failed compensation: an operator decides what becomes of it.
  if (has('finalized')) return EXIT.NEEDS_OPERATOR
  return EXIT.OK
}

async function rollbackLocked(run: Run, runId: string): Promise<WaveResult> {
  const {prep, opts, emit} = run
  const wave = prep.wave.number
  const mode = 'rollback' as const
  const candidates = rollbackCandidates(run)
  const apps: AppReport[] = []
  for (const w of prep.apps) {
    if (candidates.includes(w)) continue
    const since = appState(run.replayed, wave, w.name).status === 'rolled-back' ? ' since its last rollback' : ''
    const message = `no step has run in wave ${wave}${since}, so nothing to roll back`
    emit({type: 'app-end', app: w.name, outcome: 'nothing-to-do', message})
    apps.push({app: w.name, template: w.templateName, outcome: 'nothing-to-do', message, steps: []})
  }
  if (candidates.length > 0) {
    await record(
      run,
      {type: 'run-started', mode, message: runLine(mode, prep, opts)},
      {type: 'run-start', runId, wave, mode, apps: candidates.map((a) => a.name)},
    )
    apps.push(...(await mapWithLimit(candidates, opts.concurrency ?? DEFAULT_CONCURRENCY, (w) => rollbackOne(run, w))))
  }
  const order = prep.apps.map((w) => w.name)
  apps.sort((a, b) => order.indexOf(a.app) - order.indexOf(b.app))
  const exitCode = rollbackExitCode(apps, run.signal.aborted)
  if (candidates.length > 0) await record(run, {type: 'run-finished', mode, exitCode, message: summaryText(apps)})
  emit({type: 'run-end', exitCode})
  return waveResult(prep, runId, mode, apps, exitCode)
}

export function rollbackWave(opts: CommonOptions): Promise<WaveResult> {
  return withBackend(opts, (backend, events) => rollbackWith(opts, backend, events))
}

async function rollbackWith(
  opts: CommonOptions,
  backend: StateBackend,
  events: readonly JournalEvent[] | undefined,
): Promise<WaveResult> {
  const emit = opts.emit ?? (() => undefined)
  const deps = defaultDeps(opts.deps)
  const runId = newRunId()
  const stepRefs = [...(opts.retrySteps ?? []), ...(opts.skipSteps ?? [])]
  const prep = prepareWave({...opts, deps, dryRun: true, stepRefs, events}, runId)
  registerSecrets(prep.secrets)
  // A rollback only needs the rollback commands to render; missing programs of forward steps do not matter.
  const blockers = prep.findings.filter((f) => f.severity === 'blocker' && f.code !== 'PROGRAM_NOT_FOUND')
  stopOnBlockers(blockers, prep.wave.number)
  const operation = `rollback wave ${prep.wave.number}`
  return withLockAndJournal(prep, opts, backend, operation, runId, async (journal, held) =>
    rollbackLocked(newRun(prep, opts, deps, journal, emit, held), runId),
  )
}
