// The write-unavailability window of a cutover, as a budget that every engine's cutover keeps:
// - pre-checks run first, while clients still write; a cutover that cannot finish is refused before any pause;
// - the pause or block itself must be reached within `pauseWaitMs` (open transactions, a busy script), else it is
//   undone and the cutover fails naming the blockers, with nothing changed;
// - every wait inside the window is bounded by the window's deadline (opened + maxWindowMs): a Redis CLIENT PAUSE
//   is issued for exactly that long, so a wait can never outlast the block;
// - right before the commit point (promote / stop forward replication) the deadline is checked with a margin left
//   for the steps after it, and every write block's probe runs (still paused? still read_only? no write since the
//   target caught up?). A lapsed block aborts, and the done sub-steps are undone in reverse.
// Sub-steps are logged with their timings (the executor keeps the output tail in the journal).
import {MigrateError} from '../errors.js'
import {dropSharedConnections} from './connect.js'

export interface WindowLimits {
  /** The longest the window may last: the bound the gate states, and the CLIENT PAUSE duration. */
  maxWindowMs: number
  /** The longest wait for the pause/block itself (open transactions, locks, a busy script). */
  pauseWaitMs: number
  /** Left before the deadline for the sub-steps after the commit point (promote → resume). */
  marginMs: number
}

export const WINDOW_DEFAULTS: WindowLimits = {maxWindowMs: 5000, pauseWaitMs: 2000, marginMs: 1000}

export interface SubStepResult {
  name: string
  ms: number
  note?: string
}

export interface CutoverResult {
  steps: SubStepResult[]
  /** From the first pause/block to the resume: the window in which writes wait or fail. */
  windowMs: number
  totalMs: number
  /** The window the pre-checks expected (ms), and the bound the cutover kept. */
  estimateMs?: number
  maxWindowMs?: number
  verify?: import('./types.js').VerifyResult
}

export interface StepContext {
  /** ms until the window's deadline minus the margin (Infinity before the window opens). */
  remainingMs(): number
  /** ms until the window's deadline itself (the end of a Redis pause); Infinity outside the window. */
  untilDeadlineMs(): number
  signal: AbortSignal
}

export interface SubStep {
  name: string
  // biome-ignore lint/suspicious/noConfusingVoidType: a sub-step may say what it did, or nothing
  run: (ctx: StepContext) => Promise<string | void>
  undo?: () => Promise<unknown>
  /** Opens (or closes) the write-unavailability window. */
  window?: 'open' | 'close'
  /** The commit point: before it runs, the deadline (with margin) and every write block's probe are checked. */
  commit?: boolean
  /** Longest the sub-step may take (pre-checks: a stopped server must not hang them); then it fails. */
  boundMs?: number
}

/** A write block's probe: throws (WRITE_BLOCK_LAPSED) when the block is no longer in force. */
export interface BlockProbe {
  name: string
  check: () => Promise<void>
}

export type Log = (line: string) => void

export interface RunOptions {
  limits: WindowLimits
  probes?: BlockProbe[]
  /** Called before each sub-step runs (observability; tests use it to interfere at a precise moment). */
  before?: (step: string) => Promise<void> | void
}

/** Set when SIGTERM/SIGINT arrives during a cutover: no new sub-step starts, the done ones are undone. */
const interrupt = new AbortController()

export function interruptSignal(): AbortSignal {
  return interrupt.signal
}

export async function runSubSteps(
  steps: SubStep[],
  log: Log,
  opts: RunOptions = {limits: WINDOW_DEFAULTS},
): Promise<CutoverResult> {
  // The executor stops a step with SIGTERM (SIGKILL a few seconds later): undo instead of dying mid-window.
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping after the current sub-step`)
    interrupt.abort()
  }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  try {
    return await runSubStepsInner(steps, log, opts)
  } finally {
    process.removeListener('SIGTERM', onSignal)
    process.removeListener('SIGINT', onSignal)
  }
}

/** Bounds a probe or a query: rejects with `what` after ms (or at once when `signal` aborts: SIGTERM). */
export async function within<T>(
  ms: number,
  what: string,
  p: Promise<T>,
  code = 'DB_TIMEOUT',
  signal?: AbortSignal,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new MigrateError(`${what}: no answer within ${Math.round(ms)} ms`, {code})),
      Math.max(1, ms),
    )
    onAbort = () => reject(new MigrateError(`${what}: interrupted`, {code: 'INTERRUPTED'}))
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, {once: true})
  })
  try {
    return await Promise.race([p, t])
  } finally {
    clearTimeout(timer)
    if (onAbort) signal?.removeEventListener('abort', onAbort)
  }
}

/** Throws WRITE_BLOCK_LAPSED when less than the margin is left of the window (the steps after the commit need it). */
function checkBudget(opts: RunOptions, deadline: number | undefined, opened: number | undefined): void {
  const now = performance.now()
  if (deadline !== undefined && now > deadline - opts.limits.marginMs) {
    throw new MigrateError(
      `the window's budget is spent: ${Math.round(now - (opened ?? now))} ms of ${opts.limits.maxWindowMs} ms used, less than the ${opts.limits.marginMs} ms margin the steps after the commit point need; going on could outlast the write block`,
      {
        code: 'WRITE_BLOCK_LAPSED',
        hint: 'Find what was slow in the sub-step timings above (lag, a slow server); raise --max-window only if clients may wait that long',
      },
    )
  }
}

async function checkBlocks(
  opts: RunOptions,
  deadline: number | undefined,
  opened: number | undefined,
): Promise<string> {
  checkBudget(opts, deadline, opened)
  const now = performance.now()
  const budget = deadline === undefined ? opts.limits.pauseWaitMs : Math.max(1, deadline - opts.limits.marginMs - now)
  for (const p of opts.probes ?? []) await within(budget, `probe of ${p.name}`, p.check(), 'WRITE_BLOCK_LAPSED')
  return (opts.probes ?? []).map((p) => p.name).join(', ')
}

/** The longest an undo may take: a server that stopped answering must not keep the others (and the resume) waiting. */
const UNDO_BOUND_MS = 10_000

interface Window {
  opened?: number
  closed?: number
  deadline?: number
  committed: boolean
}

/**
 * The bound of one sub-step: its own boundMs; inside the window of a run with a commit point, the time left before
 * the deadline (with the margin up to and including the commit point, without it after). A sub-step bounds its own
 * server-side waits by ctx.remainingMs(); this is the backstop for a call that has no bound of its own.
 */
function stepBound(s: SubStep, w: Window, hasCommit: boolean, limits: WindowLimits): number | undefined {
  if (s.boundMs !== undefined) return s.boundMs
  if (!hasCommit || w.deadline === undefined || w.closed !== undefined || s.window === 'open') return undefined
  const left = w.deadline - performance.now() - (w.committed ? 0 : limits.marginMs)
  return Math.max(1, left) + BACKSTOP_SLACK_MS
}

/** The backstop comes this much after the sub-step's own bound (from ctx.remainingMs()): its own error is clearer. */
const BACKSTOP_SLACK_MS = 250

/** Runs a sub-step within its bound; inside the window SIGTERM gives it up at once too (the undo starts). */
async function runBounded(s: SubStep, ctx: StepContext, bound: number | undefined, inWindow: boolean) {
  if (bound === undefined) return s.run(ctx)
  const code = inWindow ? 'WINDOW_BOUND_EXCEEDED' : 'CUTOVER_REFUSED'
  const what = inWindow ? `${s.name} did not finish within the ${Math.round(bound)} ms left of the window` : s.name
  try {
    return await within(bound, what, s.run(ctx), code, inWindow ? ctx.signal : undefined)
  } catch (e) {
    // The call given up on may still be running on its connection: later queries (the undo) must not queue behind it.
    if (e instanceof MigrateError && (e.code === code || e.code === 'INTERRUPTED') && inWindow) dropSharedConnections()
    throw e
  }
}

/** Undoes the done sub-steps in reverse, each bounded; then a failed commit point's own undo (it may have partly happened), once clients are back. */
async function undoAll(steps: SubStep[], failed: number, started: boolean, log: Log): Promise<string[]> {
  const undone: string[] = []
  const order = [...Array(failed).keys()].reverse()
  if (steps[failed].commit && started) order.push(failed)
  for (const j of order) {
    const u = steps[j].undo
    if (!u) continue
    try {
      await within(UNDO_BOUND_MS, `undo ${steps[j].name}`, u())
      undone.push(steps[j].name)
      log(`undo ${steps[j].name}`)
    } catch (ue) {
      log(`undo ${steps[j].name} FAILED: ${ue instanceof Error ? ue.message : String(ue)}`)
    }
  }
  return undone
}

async function runSubStepsInner(steps: SubStep[], log: Log, opts: RunOptions): Promise<CutoverResult> {
  const t0 = performance.now()
  const done: SubStepResult[] = []
  const w: Window = {committed: false}
  const hasCommit = steps.some((s) => s.commit)
  const ctx: StepContext = {
    remainingMs: () =>
      w.deadline === undefined ? Number.POSITIVE_INFINITY : w.deadline - opts.limits.marginMs - performance.now(),
    untilDeadlineMs: () => (w.deadline === undefined ? Number.POSITIVE_INFINITY : w.deadline - performance.now()),
    signal: interrupt.signal,
  }
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]
    await opts.before?.(s.name)
    const st = performance.now()
    let started = false
    if (s.window === 'open') {
      w.opened = st
      w.deadline = st + opts.limits.maxWindowMs
    }
    try {
      if (interrupt.signal.aborted) throw new MigrateError('interrupted', {code: 'INTERRUPTED'})
      if (s.commit) {
        const probed = await checkBlocks(opts, w.closed === undefined ? w.deadline : undefined, w.opened)
        log(
          `ok   write block still in force before ${s.name} (${Math.round(performance.now() - st)} ms${probed ? `: ${probed}` : ''}, ${Math.round(st - (w.opened ?? st))} ms into the window)`,
        )
      }
      // Inside a cutover's window, before the commit point: no sub-step starts once the budget is spent.
      if (hasCommit && !w.committed && !s.commit && s.window !== 'open' && w.closed === undefined)
        checkBudget(opts, w.deadline, w.opened)
      const bound = stepBound(s, w, hasCommit, opts.limits)
      started = true
      const note = (await runBounded(s, ctx, bound, w.deadline !== undefined && s.boundMs === undefined)) ?? undefined
      const ms = Math.round(performance.now() - st)
      done.push({name: s.name, ms, note})
      log(`ok   ${s.name} (${ms} ms)${note ? `: ${note}` : ''}`)
      if (s.commit) w.committed = true
      if (s.window === 'close') {
        w.closed = performance.now()
        w.deadline = undefined
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e)
      log(`FAIL ${s.name}: ${msg}`)
      const undone = await undoAll(steps, i, started, log)
      // Failing to open the window (the pause was not reached in time, and was undone) changed nothing either.
      const before = w.opened === undefined || s.window === 'open'
      throw new MigrateError(
        `cutover stopped at ${s.name}${before ? ' (before any pause: nothing changed)' : ''}: ${msg}`,
        {
          code: e instanceof MigrateError ? e.code : 'CUTOVER_FAILED',
          hint: undone.length
            ? `Undone in reverse: ${undone.join(', ')}; the source is primary again`
            : e instanceof MigrateError && e.hint
              ? e.hint
              : 'Nothing had changed yet',
          data: {steps: done, failed: s.name, refusedBeforePause: before},
          cause: e,
        },
      )
    }
  }
  const end = performance.now()
  return {
    steps: done,
    windowMs: Math.round((w.closed ?? end) - (w.opened ?? t0)),
    totalMs: Math.round(end - t0),
    maxWindowMs: opts.limits.maxWindowMs,
  }
}

/** Milliseconds a sequential scan of `bytes` takes, for the window estimate (measured on a 2-core machine). */
export const SCAN_BYTES_PER_MS = 400_000

/** Fixed cost of each engine's window (its sub-steps' round trips), measured with the cutover benchmark. */
export const WINDOW_BASE_MS = {postgres: 700, mariadb: 600, redis: 300} as const

/** The expected window: the engine's fixed cost plus the in-pause counts over `scanBytes` (the larger side). */
export function estimateWindowMs(engine: keyof typeof WINDOW_BASE_MS, scanBytes: number): number {
  return Math.round(WINDOW_BASE_MS[engine] + scanBytes / SCAN_BYTES_PER_MS)
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`
}

/** The line the cutover's --check prints and the template captures for its gate. */
export function estimateLine(estimateMs: number, limits: WindowLimits): string {
  return `window estimate: about ${seconds(estimateMs)}, at most ${seconds(limits.maxWindowMs)}`
}
