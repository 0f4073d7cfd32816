// The live per-application view on a terminal (listr2), loaded only when a terminal shows it.
import {Listr} from 'listr2'
import type {AppOutcome, ExecEvent} from './types.js'
import {ms, OUTCOME_WORD} from './view.js'

/** A live per-application view on a terminal, driven by executor events (listr2). */
export class LiveView {
  private apps = new Map<string, {title: string; output?: string; end?: {outcome: AppOutcome; message?: string}; wake?: () => void; task?: {title: string; output?: string}}>()
  private runPromise?: Promise<unknown>

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(apps: string[]): void {
    for (const a of apps) this.apps.set(a, {title: `${a}: waiting for a slot`})
    const tasks = apps.map((name) => ({
      title: `${name}: waiting for a slot`,
      task: async (_ctx: unknown, task: {title: string; output?: string; skip(msg?: string): void}) => {
        const st = this.apps.get(name)!
        st.task = task
        task.title = st.title
        await new Promise<void>((resolve) => {
          if (st.end) return resolve()
          st.wake = resolve
        })
        const end = st.end!
        if (end.outcome === 'done' || end.outcome === 'nothing-to-do') {
          task.title = `${name}: ${OUTCOME_WORD[end.outcome]}${end.message ? ` (${end.message})` : ''}`
          return
        }
        if (end.outcome === 'waiting-gate' || end.outcome === 'pending' || end.outcome === 'held') {
          task.skip(`${name}: ${OUTCOME_WORD[end.outcome]}${end.message ? `: ${end.message}` : ''}`)
          return
        }
        throw new Error(`${name}: ${OUTCOME_WORD[end.outcome]}${end.message ? `: ${end.message}` : ''}`)
      },
    }))
    const list = new Listr(tasks as never, {concurrent: true, exitOnError: false, rendererOptions: {collapseErrors: false, showErrorMessage: true} as never, fallbackRenderer: 'simple', registerSignalListeners: false} as never)
    this.runPromise = list.run().catch(() => undefined)
  }

  handle(e: ExecEvent): void {
    const set = (app: string, title: string, output?: string): void => {
      const st = this.apps.get(app)
      if (!st) return
      st.title = title
      if (st.task) {
        st.task.title = title
        if (output !== undefined) st.task.output = output
      }
    }
    switch (e.type) {
      case 'app-start':
        set(e.app, `${e.app}: started${e.resumeAt ? ` (resuming at ${e.resumeAt})` : ''}`)
        break
      case 'step-start':
        set(e.app, `${e.app}: [${e.index + 1}/${e.total}] ${e.step}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`, e.command)
        break
      case 'step-end':
        if (e.status === 'failed') set(e.app, `${e.app}: [${e.index + 1}/${e.total}] ${e.step} failed${e.retryInMs !== undefined ? `, retrying in ${ms(e.retryInMs)}` : ''}`, e.message)
        break
      case 'rollback-step':
        set(e.app, `${e.app}: rolling back ${e.step} (${e.status})`, e.message ?? e.command)
        break
      case 'app-end': {
        const st = this.apps.get(e.app)
        if (!st) break
        st.end = {outcome: e.outcome, message: e.message}
        st.wake?.()
        break
      }
      default:
        break
    }
  }

  async stop(): Promise<void> {
    for (const st of this.apps.values()) {
      if (!st.end) {
        st.end = {outcome: 'interrupted'}
        st.wake?.()
      }
    }
    await this.runPromise
  }
}
