// Progress of discovery per source and region/host: a listr2 view on a terminal, nothing otherwise.
// The sources only emit events; this module turns them into listr2 tasks. listr2 is imported lazily.
import type {Emit, ProgressEvent} from './types.js'

export type ProgressMode = 'tty' | 'none'

interface Deferred {
  resolve: (message?: string) => void
  reject: (error: Error) => void
  update: (message: string) => void
  promise: Promise<string | undefined>
}

function deferred(): Deferred {
  let resolve!: Deferred['resolve']
  let reject!: Deferred['reject']
  const promise = new Promise<string | undefined>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {})
  return {resolve, reject, promise, update: () => {}}
}

/**
 * Runs `work` with an emit function. In 'tty' mode, each task name becomes a listr2 line (tasks that show up
 * later are added as they start); events settle them. Resolves with work's result; the view never changes it.
 */
export async function withProgress<T>(
  mode: ProgressMode,
  tasks: string[],
  work: (emit: Emit) => Promise<T>,
): Promise<T> {
  if (mode === 'none') return work(() => {})
  const {Listr} = await import('listr2')
  const slots = new Map<string, Deferred>()
  const slot = (name: string) => {
    let d = slots.get(name)
    if (!d) {
      d = deferred()
      slots.set(name, d)
    }
    return d
  }
  const makeTask = (name: string) => ({
    title: name,
    task: async (_ctx: unknown, task: {title: string; output: string}) => {
      const d = slot(name)
      d.update = (m) => {
        task.output = m
      }
      const message = await d.promise
      if (message) task.title = `${name}: ${message}`
    },
  })
  const list = new Listr(tasks.map(makeTask), {
    concurrent: true,
    exitOnError: false,
    rendererOptions: {collapseErrors: false},
  })
  const emit: Emit = (e: ProgressEvent) => {
    if (!slots.has(e.task) && !tasks.includes(e.task)) {
      tasks.push(e.task)
      list.add(makeTask(e.task))
    }
    const d = slot(e.task)
    if (e.status === 'progress' && e.message) d.update(e.message)
    else if (e.status === 'done' || e.status === 'skipped') d.resolve(e.message)
    else if (e.status === 'failed') d.reject(new Error(e.message ?? 'failed'))
  }
  const view = list.run().catch(() => {})
  try {
    return await work(emit)
  } finally {
    for (const d of slots.values()) d.resolve()
    for (const name of tasks) slot(name).resolve()
    await view
  }
}
