// Glue shared by `migrate execute wave` and `migrate rollback`: signals (Ctrl-C stops cleanly), the choice of view
// (listr2 on a terminal, plain lines otherwise, NDJSON events on stderr with --json) and interactive confirmation.
import readline from 'node:readline'
import type {LiveView} from './live-view.js'
import {killAllSteps} from './process.js'
import {formatEventLine} from './view.js'
import type {ExecEvent} from './types.js'

export interface CliRun {
  signal: AbortSignal
  emit: (e: ExecEvent) => void
  confirm?: (q: string) => Promise<boolean>
  finish(): Promise<void>
}

export async function startCliRun(opts: {json: boolean; live: boolean; interactive: boolean; write: (line: string) => void}): Promise<CliRun> {
  const Live = opts.live ? (await import('./live-view.js')).LiveView : undefined
  const ac = new AbortController()
  let signals = 0
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++
    if (signals === 1) {
      opts.write(`\n${sig}: stopping — no new step starts, running steps are being stopped (the journal records where). Press Ctrl-C again to quit at once.`)
      ac.abort()
    } else {
      // Quit at once, but not leaving steps behind: every process of every running step is killed first.
      const n = killAllSteps()
      opts.write(`${sig} again: quitting now${n ? `; killed ${n} step process(es)` : ''}. The journal shows the steps that were running; the next run asks about them.`)
      process.exit(130)
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let view: LiveView | undefined
  let width = 14
  const emit = (e: ExecEvent): void => {
    if (opts.json) {
      process.stderr.write(JSON.stringify({time: new Date().toISOString(), ...e}) + '\n')
      return
    }
    if (e.type === 'run-start') width = Math.min(28, Math.max(8, ...e.apps.map((a) => a.length)))
    if (Live && e.type === 'run-start' && e.mode !== 'dry-run') {
      view = new Live(process.stderr)
      view.start(e.apps)
      return
    }
    if (view) return view.handle(e)
    const line = formatEventLine(e, width)
    if (line) opts.write(line)
  }
  const confirm = opts.interactive
    ? (q: string): Promise<boolean> =>
        new Promise((resolve) => {
          const rl = readline.createInterface({input: process.stdin, output: process.stderr})
          rl.question(`${q} [y/N] `, (a) => {
            rl.close()
            resolve(/^y(es)?$/i.test(a.trim()))
          })
        })
    : undefined
  return {
    signal: ac.signal,
    emit,
    confirm,
    async finish() {
      if (view) await view.stop()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}
