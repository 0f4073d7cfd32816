// The live per-application view on a terminal (listr2), loaded only when a terminal shows it. Each line shows what its
// unit is doing and for how long; when it ends, the line says how it ended (never a step that is no longer running).
// The view steps aside (suspend) while approvals are asked, and comes back (resume) for the units still going.
import {Listr} from 'listr2'
import type {AppOutcome, ExecEvent} from './types.js'
import {printable} from '../runbook/printable.js'
import {ms, OUTCOME_WORD} from './view.js'

interface TaskHandle {
  title: string
  output?: string
  skip(msg?: string): void
}

interface UnitLine {
  /** What the unit is doing, without the elapsed time. */
  doing: string
  output?: string
  startedAt?: number
  end?: {outcome: AppOutcome; message?: string; at: number}
  task?: TaskHandle
  /** Ends the unit's listr task: at its end, or when the view is suspended. */
  wake?: () => void
}

/** Outcomes that are a success: for `rollback`, being rolled back is; for `execute`, it means a step failed. */
const GOOD: Record<'execute' | 'rollback', AppOutcome[]> = {
  execute: ['done', 'nothing-to-do'],
  rollback: ['done', 'nothing-to-do', 'rolled-back'],
}
const WAITING: AppOutcome[] = ['waiting-gate', 'pending', 'held', 'finalized']

export class LiveView {
  private readonly units = new Map<string, UnitLine>()
  private order: string[] = []
  private runPromise?: Promise<unknown>
  private suspended = false
  private ticker?: NodeJS.Timeout

  constructor(readonly _stream: NodeJS.WriteStream) {}

  private mode: 'execute' | 'rollback' = 'execute'

  start(apps: string[], mode: 'execute' | 'rollback' = 'execute'): void {
    this.mode = mode
    this.order = apps
    for (const a of apps) this.units.set(a, {doing: 'waiting for a slot'})
    this.render(apps)
    this.ticker = setInterval(() => this.tick(), 1000)
    this.ticker.unref()
  }

  /** The title of a unit: what it does and for how long, or how it ended and how long it took. */
  private title(name: string): string {
    // Values (hostnames, owners, messages built from them) are shown printable only: no forged line, no escape.
    return printable(this.rawTitle(name))
  }

  private rawTitle(name: string): string {
    const u = this.units.get(name)!
    if (u.end) {
      const took = u.startedAt !== undefined ? ` in ${ms(u.end.at - u.startedAt)}` : ''
      return `${name}: ${OUTCOME_WORD[u.end.outcome]}${took}${u.end.message ? ` — ${u.end.message}` : ''}`
    }
    const elapsed = u.startedAt !== undefined ? ` · ${ms(Date.now() - u.startedAt)}` : ''
    return `${name}: ${u.doing}${elapsed}`
  }

  private render(names: string[]): void {
    const tasks = names.map((name) => ({
      title: this.title(name),
      task: async (_ctx: unknown, task: TaskHandle) => {
        const u = this.units.get(name)!
        u.task = task
        task.title = this.title(name)
        if (!u.end && !this.suspended) await new Promise<void>((resolve) => (u.wake = resolve))
        u.wake = undefined
        u.task = undefined
        task.title = this.title(name)
        if (!u.end)
          return task.skip(
            `${this.title(name)}${u.doing.startsWith('waiting for your') ? '' : ' (paused while approvals are asked)'}`,
          )
        if (GOOD[this.mode].includes(u.end.outcome)) return
        if (WAITING.includes(u.end.outcome)) return task.skip(this.title(name))
        throw new Error(this.title(name))
      },
    }))
    const list = new Listr(
      tasks as never,
      {
        concurrent: true,
        exitOnError: false,
        // The title already says how the unit ended: no second copy of the message under it.
        rendererOptions: {
          collapseErrors: true,
          showErrorMessage: false,
          collapseSkips: true,
          showSkipMessage: true,
          suffixSkips: false,
        } as never,
        fallbackRenderer: 'simple',
        registerSignalListeners: false,
      } as never,
    )
    this.runPromise = list.run().catch(() => undefined)
  }

  private set(app: string, doing: string, rawOutput?: string): void {
    const output = rawOutput === undefined ? undefined : printable(rawOutput)
    const u = this.units.get(app)
    if (!u || u.end) return
    u.doing = doing
    if (output !== undefined) u.output = output
    if (u.task) {
      u.task.title = this.title(app)
      if (output !== undefined) u.task.output = output
    }
  }

  private tick(): void {
    for (const [name, u] of this.units)
      if (u.task && !u.end && u.startedAt !== undefined) u.task.title = this.title(name)
  }

  handle(e: ExecEvent): void {
    switch (e.type) {
      case 'app-start': {
        const u = this.units.get(e.app)
        if (u && u.startedAt === undefined) u.startedAt = Date.now()
        this.set(e.app, e.resumeAt ? `started (resuming at ${e.resumeAt})` : 'started')
        break
      }
      case 'step-start':
        this.set(
          e.app,
          `[${e.index + 1}/${e.total}] ${e.step}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`,
          e.command,
        )
        break
      case 'step-end':
        if (e.status === 'failed')
          this.set(
            e.app,
            `[${e.index + 1}/${e.total}] ${e.step} failed${e.retryInMs !== undefined ? `, retrying in ${ms(e.retryInMs)}` : ''}`,
            e.message,
          )
        break
      case 'rollback-step':
        if (e.status === 'started') this.set(e.app, `rolling back ${e.step}`, e.command)
        else if (e.status === 'failed') this.set(e.app, `rollback of ${e.step} failed`, e.message)
        break
      case 'app-end': {
        const u = this.units.get(e.app)
        if (!u) break
        u.startedAt ??= Date.now()
        u.end = {outcome: e.outcome, message: e.message, at: Date.now()}
        u.wake?.()
        break
      }
      default:
        break
    }
  }

  /** The units waiting for an answer say so (shown when the view is suspended for the questions). */
  waitingForAnswer(units: string[]): void {
    for (const a of units) this.set(a, 'waiting for your approval below')
  }

  /** Ends the live rendering (every line as it stands) so that questions can be asked on the terminal. */
  async suspend(): Promise<void> {
    if (this.suspended) return
    this.suspended = true
    for (const u of this.units.values()) u.wake?.()
    await this.runPromise
  }

  /** Renders the units still going again, after the questions. */
  resume(): void {
    if (!this.suspended) return
    this.suspended = false
    const going = this.order.filter((n) => !this.units.get(n)!.end)
    if (going.length > 0) this.render(going)
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker)
    for (const [name, u] of this.units) {
      if (!u.end) {
        u.end = {outcome: 'interrupted', at: Date.now()}
        u.wake?.()
      }
      void name
    }
    await this.runPromise
  }
}
