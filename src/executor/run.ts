// The machinery execute and rollback share: the run (plan, options, journal, signal, view), record() — the one way a
// state change is journaled and then shown — the markers and pids of step processes, and small pure helpers.
import {createHash, randomBytes} from 'node:crypto'
import {realpathSync} from 'node:fs'
import path from 'node:path'
import {EXIT} from '../errors.js'
import {runCheck as defaultRunCheck} from '../health/index.js'
import {runProcess} from '../process/run.js'
import {whichProgram} from '../process/which.js'
import {redact} from '../runbook/vars.js'
import type {JournalAppender, SharedBarrier} from '../state/backend.js'
import type {NewEvent} from '../state/journal.js'
import type {JournalEvent} from '../schema/state.js'
import {procStartTime} from '../state/proc.js'
import {type AppState, appState, applyEvent, type Replay, replay, type StepState} from '../state/status.js'
import type {AppWork, WavePrep} from './prepare.js'
import type {AppOutcome, AppReport, ExecEvent, ExecuteOptions, ExecutorDeps, WaveResult} from './types.js'

export const DEFAULT_CONCURRENCY = 4

export interface Run {
  prep: WavePrep
  opts: ExecuteOptions
  deps: ExecutorDeps
  journal: JournalAppender
  signal: AbortSignal
  emit: (e: ExecEvent) => void
  replayed: Replay
  /** Redacts this wave's secrets. */
  R: (s: string) => string
  /** The answer for an application's servers, by APP/STEP: a per-server runbook asks once. */
  groupAsks: Map<string, Promise<boolean>>
  /** A shared backend's barriers: servers of one application in other runners' hands meet there. */
  barrier?: SharedBarrier
  /**
   * Steps (UNIT|STEP, UNIT|STEP|rollback for compensations) whose process from a previous run was still running when
   * this run started: this run waited for it, so a decision about it on the command line was made before it ended.
   */
  stillRan: ReadonlySet<string>
}

export function newRun(
  prep: WavePrep,
  opts: ExecuteOptions,
  deps: ExecutorDeps,
  journal: JournalAppender,
  emit: (e: ExecEvent) => void,
  held: {events: readonly JournalEvent[]; signal: AbortSignal; barrier?: SharedBarrier; stillRan?: ReadonlySet<string>},
): Run {
  const replayed = replay(held.events)
  journal.onAppend = (e) => applyEvent(replayed, e)
  const R = (s: string): string => redact(s, prep.secrets)
  const {signal, barrier} = held
  const stillRan = held.stillRan ?? new Set<string>()
  return {prep, opts, deps, journal, signal, emit, replayed, R, groupAsks: new Map(), barrier, stillRan}
}

/**
 * When the operator decided about an interrupted step (or compensation) while its process was still running — this
 * run had to wait for it — the decision may predate its effect: refused, with what to do. Undefined otherwise.
 */
export function staleDecision(run: Run, w: AppWork, step: string, mode?: 'rollback'): string | undefined {
  const flag = named(run.opts.skipSteps, w, step)
    ? '--skip-step'
    : named(run.opts.retrySteps, w, step)
      ? '--retry-step'
      : ''
  if (!flag || !run.stillRan.has(`${w.name}|${step}${mode ? `|${mode}` : ''}`)) return undefined
  const what = mode ? `the rollback of ${step}` : `step ${step}`
  const again = mode ? `\`migrate rollback wave ${run.prep.wave.number}\`` : ''
  return `${what} was still running when this run started (it ended while this run waited for it), so ${flag} ${w.name}/${step} was decided before it ended: check again whether it took effect, then rerun ${again ? `${again} ` : ''}with --skip-step ${w.name}/${step} (it did) or --retry-step ${w.name}/${step} (it did not)`
}

/** A journal event of this run's wave (the wave is filled in). */
export type WaveEvent = Omit<NewEvent, 'wave'>

/**
 * Journals an event (durable before it resolves), then shows `shown`, if any: a view never shows a state change the
 * journal does not have yet.
 */
export async function record(run: Run, event: WaveEvent, shown?: ExecEvent): Promise<void> {
  await run.journal.append({wave: run.prep.wave.number, ...event})
  if (shown) run.emit(shown)
}

/**
 * Journals an event and shows `shown` once it is durable, without waiting: the promise settles then (a failed write
 * rejects it, and every later append fails the same way). Only for a step's success when the unit's very next act
 * is to journal another event (the next step's start): the two are written together (the journals commit the appends
 * of one event-loop turn at once), and that start, which the step waits for, is durable only with this success.
 */
export function recordSoon(run: Run, event: WaveEvent, shown?: ExecEvent): Promise<void> {
  const durable = run.journal.append({wave: run.prep.wave.number, ...event}).then(() => {
    if (shown) run.emit(shown)
  })
  durable.catch(() => undefined)
  return durable
}

/** A unit's state as the journal (with every append of this run) says. */
export function unitState(run: Run, w: AppWork): AppState {
  return appState(
    run.replayed,
    run.prep.wave.number,
    w.name,
    w.template?.steps.map((s) => s.id),
  )
}

/** " (run R by user@host pid P)" for a step an earlier run left open, or "". */
export function whoRan(st: StepState): string {
  return st.lastActor ? ` (run ${st.lastRun} by ${st.lastActor.user}@${st.lastActor.host} pid ${st.lastActor.pid})` : ''
}

/** The names a --approve/--skip-step/--retry-step APP/STEP may use for a unit: its own, and its application's. */
export function refNames(w: AppWork): string[] {
  return w.group !== undefined ? [w.name, w.group] : [w.name]
}

/** Matches `--approve STEP` / `--approve APP/STEP` style lists (APP: any of the unit's names). */
export function matchesStep(
  list: readonly string[] | undefined,
  app: string | readonly string[],
  step: string,
): boolean {
  const names = typeof app === 'string' ? [app] : app
  return !!list && list.some((x) => x === step || names.some((n) => x === `${n}/${step}`))
}

/** Is the step named (as STEP or APP/STEP) in one of the run's --skip-step/--retry-step/--approve lists. */
export function named(list: readonly string[] | undefined, w: AppWork, step: string): boolean {
  return matchesStep(list, refNames(w), step)
}

export function newRunId(): string {
  return `${new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve()
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, {once: true})
  })
}

export function defaultDeps(partial: Partial<ExecutorDeps> = {}): ExecutorDeps {
  return {
    runCommand: runProcess,
    runCheck: defaultRunCheck,
    sleep: abortableSleep,
    which: (p) => whichProgram(p),
    ...partial,
  }
}

const planKeys = new Map<string, string>()

/** Names this plan in step markers: the same plan directory gives the same key, wherever it is run from. */
export function planKey(planDir: string): string {
  const resolved = path.resolve(planDir)
  const known = planKeys.get(resolved)
  if (known !== undefined) return known
  let real = resolved
  try {
    real = realpathSync(real)
  } catch {
    /* not there: the resolved path */
  }
  const key = createHash('sha256').update(real).digest('hex').slice(0, 16)
  // Asked at every step of a run: the directory's real path is looked up once per process.
  if (planKeys.size < 64) planKeys.set(resolved, key)
  return key
}

/** The MIGRATE_STEP marker of a step's processes: PLANKEY|UNIT|STEP[|rollback]. */
export function stepMarker(run: Run, w: AppWork, step: string, mode?: 'rollback'): string {
  return `${planKey(run.prep.ctx.planDir)}|${w.name}|${step}${mode ? `|${mode}` : ''}`
}

/** Journals the pid and start time of a step's process (not awaited: the step runs meanwhile; order is kept). */
export function journalProcess(run: Run, w: AppWork, step: string, mode?: 'rollback'): (pid: number) => void {
  return (pid) => {
    record(run, {
      type: 'step-process',
      app: w.name,
      step,
      pid,
      startTime: procStartTime(pid),
      ...(mode ? {mode} : {}),
    }).catch(() => undefined)
  }
}

export function summarize(apps: AppReport[]): WaveResult['summary'] {
  const s: WaveResult['summary'] = {}
  for (const a of apps) s[a.outcome] = (s[a.outcome] ?? 0) + 1
  return s
}

/** "2 done, 1 rolled-back": the run-finished message. */
export function summaryText(apps: AppReport[]): string {
  return Object.entries(summarize(apps))
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')
}

/** The wave's exit code: the most serious application outcome decides. */
export function exitCodeFor(apps: AppReport[], interrupted: boolean): number {
  const has = (o: AppOutcome): boolean => apps.some((a) => a.outcome === o)
  if (interrupted || has('interrupted')) return EXIT.INTERRUPTED
  if (has('needs-operator') || has('waiting-gate')) return EXIT.NEEDS_OPERATOR
  if (has('failed') || has('rollback-failed') || has('finalized')) return EXIT.FAILURE
  if (has('rolled-back')) return EXIT.ROLLED_BACK
  if (has('held')) return EXIT.FAILURE
  return EXIT.OK
}

/** Puts the values earlier runs captured ({{ steps.NAME }}) back into an application's scope. */
export function restoreCaptures(w: AppWork, st: AppState): void {
  for (const s of w.template?.steps ?? []) {
    if (!s.capture) continue
    const got = st.steps.find(
      (x) =>
        x.id === s.id && (x.status === 'succeeded' || x.status === 'rolling-back' || x.status === 'rollback-failed'),
    )?.captured?.[s.capture]
    if (got !== undefined) w.scope.values.set(`steps.${s.capture}`, got)
  }
}
