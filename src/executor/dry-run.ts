// `execute --dry-run`: what each step would do, rendered with this plan's values (environment values shown as
// <env.NAME>, never their content), and which steps are done, skipped, waiting for an approval or still to run.
import {EXIT} from '../errors.js'
import {evaluateWhen, redact, type VarScope} from '../runbook/vars.js'
import type {Step} from '../schema/template.js'
import {type AppState, appState} from '../state/status.js'
import {barrierIndex, finalizeIndex} from './barriers.js'
import type {AppWork, WavePrep} from './prepare.js'
import {describeStep, stepKind} from './render.js'
import {matchesStep, refNames, summarize} from './run.js'
import type {AppOutcome, AppReport, ExecEvent, ExecuteOptions, StepReport, WaveResult} from './types.js'

type DryStatus = 'done' | 'skip' | 'gate' | 'pending'

const REPORTED: Record<DryStatus, StepReport['status']> = {
  done: 'already-done',
  skip: 'skipped',
  gate: 'waiting-gate',
  pending: 'pending',
}

/** For dry-runs: render with env values shown as <env.NAME>, never their content; captures not made yet as <steps.NAME>. */
function dryScope(scope: VarScope, t: {steps: Step[]}, st: AppState): VarScope {
  const values = new Map(scope.values)
  for (const s of t.steps) {
    if (!s.capture) continue
    const got = st.steps.find((x) => x.id === s.id)?.captured?.[s.capture]
    values.set(`steps.${s.capture}`, got ?? `<steps.${s.capture}>`)
  }
  return {values, secrets: new Set(), env: (n) => `<env.${n}>`}
}

function dryStatus(s: Step, w: AppWork, st: AppState, fresh: boolean, opts: ExecuteOptions, ds: VarScope): DryStatus {
  const prev = st.steps.find((x) => x.id === s.id)
  const done = !fresh && (prev?.status === 'succeeded' || prev?.status === 'skipped')
  const when = s.when === undefined ? true : evaluateWhen(s.when, ds)
  const needsGate = stepKind(s) === 'gate' || s.finalize
  const approved = prev?.approved || matchesStep(opts.approve, refNames(w), s.id) || (!!opts.yes && !s.finalize)
  return done ? 'done' : !when ? 'skip' : needsGate && !approved ? 'gate' : 'pending'
}

/** Why a step is as it is, and where the servers of a per-server runbook meet, so the plan's reviewer sees it. */
function dryNote(s: Step, i: number, status: DryStatus, w: AppWork, prep: WavePrep): string | undefined {
  const own =
    status === 'skip'
      ? `when "${s.when}" is false`
      : status === 'gate'
        ? `needs approval: --approve ${s.id}${s.finalize ? ' (finalize: --yes does not approve it)' : ' or --yes'}`
        : s.finalize
          ? `finalize after a ${s.soak?.duration ?? '?'} soak`
          : undefined
  const steps = w.template!.steps
  const servers = w.group !== undefined ? prep.apps.filter((x) => x.group === w.group).length : 0
  const barrier =
    w.group === undefined || status === 'done'
      ? undefined
      : i === barrierIndex(steps)
        ? `barrier: the ${servers} server(s) of ${w.group} cut over together`
        : i === finalizeIndex(steps)
          ? `barrier: the servers of ${w.group} finalize only when all soaked and were approved`
          : undefined
  return [own, barrier].filter(Boolean).join('; ') || undefined
}

function dryApp(w: AppWork, prep: WavePrep, opts: ExecuteOptions, emit: (e: ExecEvent) => void): AppReport {
  const t = w.template!
  const st = appState(
    prep.journal,
    prep.wave.number,
    w.name,
    t.steps.map((s) => s.id),
  )
  const ds = dryScope(w.scope, t, st)
  const fresh = st.status === 'rolled-back'
  const steps: StepReport[] = t.steps.map((s, i) => {
    const kind = stepKind(s)
    const detail = redact(describeStep(s, ds), prep.secrets)
    const rollback = s.rollback ? describeStep({id: s.id, run: s.rollback} as Step, ds) : undefined
    const status = dryStatus(s, w, st, fresh, opts, ds)
    const note = dryNote(s, i, status, w, prep)
    emit({
      type: 'dry-step',
      app: w.name,
      step: s.id,
      index: i,
      total: t.steps.length,
      kind,
      status,
      detail,
      rollback,
      note,
    })
    return {id: s.id, kind, status: REPORTED[status], detail, rollback, note}
  })
  const outcome: AppOutcome = steps.some((s) => s.status === 'pending' || s.status === 'waiting-gate')
    ? 'pending'
    : 'done'
  return {app: w.name, template: w.templateName, outcome, steps}
}

export function dryRun(prep: WavePrep, opts: ExecuteOptions, runId: string, emit: (e: ExecEvent) => void): WaveResult {
  // A dry-run takes no lock: the journal as prepareWave read it is the one to show.
  const apps = prep.apps.filter((w) => w.template).map((w) => dryApp(w, prep, opts, emit))
  const pending = apps.reduce(
    (n, a) => n + a.steps.filter((s) => s.status === 'pending' || s.status === 'waiting-gate').length,
    0,
  )
  const exitCode = pending > 0 && opts.detailedExitcode ? EXIT.PENDING : EXIT.OK
  return {
    wave: prep.wave.number,
    runId,
    mode: 'dry-run',
    planDir: prep.ctx.planDir,
    apps,
    preflight: prep.findings,
    pendingSteps: pending,
    exitCode,
    summary: summarize(apps),
    warnings: [],
  }
}
