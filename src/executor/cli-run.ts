// Glue shared by `migrate execute wave` and `migrate rollback`: signals (Ctrl-C stops cleanly), the choice of view
// (listr2 on a terminal, plain lines otherwise, NDJSON events on stderr with --json) and interactive confirmation.
import readline from 'node:readline'
import {ApprovalDesk, parseBatchAnswer} from './approvals.js'
import type {LiveView} from './live-view.js'
import {killAllSteps} from '../process/run.js'
import {formatEventLine} from './view.js'
import type {ExecEvent} from './types.js'

export interface CliRun {
  signal: AbortSignal
  emit: (e: ExecEvent) => void
  confirm?: (q: string, units: string[]) => Promise<boolean>
  finish(): Promise<void>
}

export async function startCliRun(opts: {
  json: boolean
  live: boolean
  interactive: boolean
  write: (line: string) => void
}): Promise<CliRun> {
  const Live = opts.live ? (await import('./live-view.js')).LiveView : undefined
  const ac = new AbortController()
  let signals = 0
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++
    if (signals === 1) {
      opts.write(
        `\n${sig}: stopping — no new step starts, running steps are being stopped (the journal records where). Press Ctrl-C again to quit at once.`,
      )
      ac.abort()
    } else {
      // Quit at once, but not leaving steps behind: every process of every running step is killed first.
      const n = killAllSteps()
      opts.write(
        `${sig} again: quitting now${n ? `; killed ${n} step process(es)` : ''}. The journal shows the steps that were running; the next run asks about them.`,
      )
      process.exit(130)
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let view: LiveView | undefined
  let width = 14
  // Approvals are gathered and asked together, once the running units have settled (see ApprovalDesk).
  const desk = opts.interactive
    ? new ApprovalDesk((qs) => askBatch(qs, view, opts.write, () => onSignal('SIGINT')), ac.signal)
    : undefined
  const emit = (e: ExecEvent): void => {
    if (opts.json) {
      process.stderr.write(JSON.stringify({time: new Date().toISOString(), ...e}) + '\n')
      return
    }
    desk?.observe(e)
    if (e.type === 'run-start') width = Math.min(28, Math.max(8, ...e.apps.map((a) => a.length)))
    if (Live && e.type === 'run-start' && e.mode !== 'dry-run') {
      view = new Live(process.stderr)
      view.start(e.apps, e.mode)
      return
    }
    if (view) {
      view.handle(e)
      return
    }
    const line = formatEventLine(e, width)
    if (line) opts.write(line)
  }
  const confirm = desk
    ? (q: string, units: string[]): Promise<boolean> => {
        view?.waitingForAnswer(units)
        return desk.question(q, units)
      }
    : undefined
  return {
    signal: ac.signal,
    emit,
    confirm,
    async finish() {
      desk?.close()
      if (view) await view.stop()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}

/** Asks a batch of approvals on the terminal, the live view set aside meanwhile: one answer for all, or by number. */
async function askBatch(
  questions: string[],
  view: LiveView | undefined,
  write: (line: string) => void,
  onInterrupt: () => void,
): Promise<boolean[]> {
  await view?.suspend()
  const rl = readline.createInterface({input: process.stdin, output: process.stderr})
  const ask = (q: string): Promise<string | undefined> =>
    new Promise((resolve) => {
      rl.once('SIGINT', () => (resolve(undefined), onInterrupt()))
      rl.question(q, resolve)
    })
  try {
    if (questions.length === 1) {
      const a = await ask(`\n${questions[0]} [y/N] `)
      return [a !== undefined && /^y(es)?$/i.test(a.trim())]
    }
    write(`\n${questions.length} approvals are needed:`)
    questions.forEach((q, i) => {
      write(`  ${i + 1}. ${q}`)
    })
    for (;;) {
      const a = await ask(`Approve all ${questions.length}? [y = all, N = none, or the numbers to approve, e.g. 1,3] `)
      if (a === undefined) return questions.map(() => false)
      const answers = parseBatchAnswer(a, questions.length)
      if (answers) return answers
      write(`  "${a.trim()}" is not an answer: y, n, or numbers from 1 to ${questions.length}`)
    }
  } finally {
    rl.close()
    view?.resume()
  }
}
