// Helpers for the database end-to-end tests: run `migrate` as a user would (node bin/run.js, built first) with the
// scenario's PATH, and read the plan's journal.
import {execa} from 'execa'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {parse, stringify} from 'yaml'
import path from 'node:path'
import {type Ports, writePlanDir, type Scenario} from '../../src/db/lab/scenarios.js'
import {onFreePorts} from '../helpers/ports.js'
import type {Load, LoadOptions, LoadStats} from '../../src/db/lab/load.js'

export const ROOT = path.resolve(import.meta.dirname, '../..')

export async function migrate(s: Scenario, args: string[]) {
  return execa('node', [path.join(ROOT, 'bin/run.js'), ...args], {
    reject: false,
    env: {...s.env, MIGRATE_DEBUG: '1'},
    cwd: s.planDir,
  })
}

export interface JournalEvent {
  type: string
  step?: string
  app?: string
  [k: string]: unknown
}

export function journal(planDir: string): JournalEvent[] {
  const f = path.join(planDir, 'state.journal')
  if (!existsSync(f)) return []
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
}

/** Step ids with an event of `type`, in journal order. */
export function stepsWith(events: JournalEvent[], type: string): string[] {
  return events.filter((e) => e.type === type && e.step).map((e) => e.step as string)
}

/** The events of the newest run (from its run-started on). */
export function lastRun(events: JournalEvent[]): JournalEvent[] {
  let i = events.length - 1
  while (i > 0 && events[i].type !== 'run-started') i--
  return events.slice(i)
}

/** Copies a shipped template into <plan>/templates/ with a short finalize soak, so a test can run finalize. */
export function shortSoakTemplate(planDir: string, name: string): void {
  const tpl = parse(readFileSync(path.join(ROOT, 'templates', `${name}.yaml`), 'utf8'))
  const fin = tpl.steps.find((x: {id: string}) => x.id === 'finalize')
  fin.soak = {duration: '1s', interval: '500ms', check: fin.soak.check}
  mkdirSync(path.join(planDir, 'templates'), {recursive: true})
  writeFileSync(path.join(planDir, 'templates', `${name}.yaml`), stringify(tpl))
}

/** What an engine's end-to-end file runs: its template, the source database in the inventory and its writer. */
export interface Lab {
  template: string
  db: {host: string; port: number; name: string}
  startLoad: (opts: LoadOptions) => Load
}

/**
 * Writes the plan (template `lab.template` with `params`) and runs `execute wave 1 --yes` while a writer runs
 * against the clients' URL; with `warmup` the writer runs 300ms before. The writer stops 300ms after the run.
 */
export async function executeWaveUnderLoad(
  s: Scenario,
  lab: Lab,
  params: Record<string, string>,
  opts: {warmup?: boolean} = {},
): Promise<{r: Awaited<ReturnType<typeof migrate>>; stats: LoadStats}> {
  writePlanDir(s.planDir, s.engine, lab.template, params, lab.db)
  const load = lab.startLoad({url: s.clientUrl, workers: 2, intervalMs: 5})
  if (opts.warmup) await new Promise((r) => setTimeout(r, 300))
  const r = await migrate(s, ['execute', 'wave', '1', '--plan', s.planDir, '--yes'])
  await new Promise((r) => setTimeout(r, 300))
  const stats = await load.stop()
  return {r, stats}
}

/**
 * A lab scenario (scenarios.ts, managed.ts) on four reserved ports: the source on the first, the target on the
 * second, the proxy on the third (HAProxy's frontend on the fourth); started again elsewhere if a port was taken.
 */
export function onLabPorts<T>(setup: (ports: Ports) => Promise<T>): Promise<T> {
  return onFreePorts(4, (base) => setup({db: base, proxy: base + 2}))
}
