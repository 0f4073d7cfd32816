// `migrate status`: the status of every wave, application and step, derived from the journal (and the plan, for
// what has not started yet), plus who holds the lock and whether the hash chain is intact.
import {existsSync} from 'node:fs'
import path from 'node:path'
import {loadTemplate, unitsOf} from './context.js'
import {PLAN_FILES} from '../paths.js'
import {loadKind} from '../file-kinds.js'
import type {Plan} from '../schema/plan.js'
import type {StateBackend} from '../state/backend.js'
import type {ChainInput} from '../state/chain.js'
import {readJournal, verifyJournal, type VerifyResult} from '../state/journal.js'
import {holderAlive, readLock, type LockInfo} from '../state/lock.js'
import type {UnitHolder} from '../state/pg/locks.js'
import {appState, replay, type AppState, type AppStatus} from '../state/status.js'
import {badInput} from '../errors.js'

export type WaveStatus = 'pending' | 'running' | 'in-progress' | 'done' | 'attention'

export interface StatusResult {
  planDir: string
  journal: {
    file: string
    events: number
    torn: boolean
    corruptLines: number[]
    lastRun?: {runId: string; finished: boolean; startedAt: string; message?: string}
  }
  lock: (LockInfo & {alive: boolean | null}) | null
  /** The state backend (file, or postgres with its redacted URL and plan id). */
  backend?: {kind: 'file' | 'postgres'; where: string}
  /** With a shared backend: the units runners hold now, and who they are. */
  holders?: UnitHolder[]
  verify?: VerifyResult
  waves: {
    number: number
    name?: string
    status: WaveStatus
    counts: Partial<Record<AppStatus, number>>
    apps: (AppState & {template?: string; durationMs?: number})[]
  }[]
}

export function planStatus(planDir: string, opts: {wave?: number; verify?: boolean} = {}): StatusResult {
  const file = path.join(planDir, PLAN_FILES.journal)
  requirePlan(planDir)
  const j = readJournal(file)
  const lockInfo = readLock(path.join(planDir, PLAN_FILES.lock))
  const alive = lockInfo ? holderAlive(lockInfo) : null
  return {
    ...buildStatus(planDir, j, !!lockInfo && alive !== false, opts.wave),
    lock: lockInfo ? {...lockInfo, alive} : null,
    verify: opts.verify ? verifyJournal(file) : undefined,
  }
}

function requirePlan(planDir: string): void {
  if (!existsSync(path.join(planDir, PLAN_FILES.plan)) && !existsSync(path.join(planDir, PLAN_FILES.journal))) {
    throw badInput(
      `${planDir} has neither a plan.yaml nor a state journal`,
      'PLAN_NOT_FOUND',
      'Pass --plan with a plan directory (made by `migrate plan`)',
    )
  }
}

/** The status from a shared backend: its events, the units runners hold now (live), and its verification. */
export async function backendStatus(
  planDir: string,
  backend: StateBackend,
  opts: {wave?: number; verify?: boolean} = {},
): Promise<StatusResult> {
  if (backend.kind === 'file') return {...planStatus(planDir, opts), backend: {kind: 'file', where: backend.where}}
  requirePlan(planDir)
  const j = await backend.read()
  const holders = (await backend.holders()).map(({alive, ...h}) => h)
  // A step shows as running only while a runner holds its unit; otherwise it was interrupted.
  const held = new Set(holders.map((h) => h.unit))
  const st = buildStatus(planDir, j, (unit) => held.has(unit), opts.wave)
  return {
    ...st,
    journal: {...st.journal, file: backend.where},
    lock: null,
    backend: {kind: backend.kind, where: backend.where},
    holders,
    verify: opts.verify ? await backend.verify() : undefined,
  }
}

function loadPlan(planDir: string): Plan | undefined {
  const planFile = path.join(planDir, PLAN_FILES.plan)
  if (!existsSync(planFile)) return undefined
  try {
    return loadKind<Plan>('plan', planFile).value
  } catch {
    return undefined
  }
}

function buildStatus(
  planDir: string,
  j: ChainInput,
  live: boolean | ((unit: string) => boolean),
  wave: number | undefined,
): Omit<StatusResult, 'lock' | 'verify'> {
  const file = path.join(planDir, PLAN_FILES.journal)
  const r = replay(j.events)
  const plan = loadPlan(planDir)
  const opts = {wave}
  const waveNumbers = new Set<number>([...(plan?.waves.map((w) => w.number) ?? []), ...r.waves.keys()])
  if (opts.wave !== undefined && !waveNumbers.has(opts.wave)) {
    throw badInput(
      `wave ${opts.wave} is not in the plan`,
      'UNKNOWN_WAVE',
      `The plan has wave${waveNumbers.size === 1 ? '' : 's'} ${[...waveNumbers].sort((a, b) => a - b).join(', ') || '(none)'}`,
    )
  }
  const waves: StatusResult['waves'] = []
  for (const n of [...waveNumbers].sort((a, b) => a - b)) {
    if (opts.wave !== undefined && n !== opts.wave) continue
    const pw = plan?.waves.find((w) => w.number === n)
    // Units: each application's own runbook (or one per server, APP:SERVER_ID), and one per database the plan gives
    // a template (APP:DATABASE_ID).
    const templates = new Map<string, string>()
    for (const name of pw?.applications ?? []) {
      const ap = plan?.applications.find((a) => a.name === name)
      if (!ap) continue
      for (const u of unitsOf(planDir, ap, r.waves.get(n)?.has(name) ?? false)) templates.set(u.name, u.template)
    }
    const names = [
      ...new Set([
        ...(pw?.applications ?? []).flatMap((a) =>
          [...templates.keys()].filter((k) => k === a || k.startsWith(`${a}:`)),
        ),
        ...(r.waves.get(n)?.keys() ?? []),
      ]),
    ]
    const apps = names.map((name) => {
      const tname = templates.get(name)
      let order: string[] | undefined
      if (tname) order = loadTemplate(planDir, tname).template?.steps.map((s) => s.id)
      const st = appState(r, n, name, order, typeof live === 'function' ? live(name) : live)
      const durationMs = st.steps.reduce((acc, s) => acc + (s.durationMs ?? 0), 0)
      return {...st, template: tname, durationMs}
    })
    const counts: Partial<Record<AppStatus, number>> = {}
    for (const a of apps) counts[a.status] = (counts[a.status] ?? 0) + 1
    const all = (s: AppStatus): boolean => apps.length > 0 && apps.every((a) => a.status === s)
    const status: WaveStatus = all('pending')
      ? 'pending'
      : all('done')
        ? 'done'
        : apps.some((a) => a.status === 'running')
          ? 'running'
          : apps.some((a) =>
                ['failed', 'rollback-incomplete', 'waiting-gate', 'interrupted', 'rolled-back', 'held'].includes(
                  a.status,
                ),
              )
            ? 'attention'
            : 'in-progress'
    waves.push({number: n, name: pw?.name, status, counts, apps})
  }
  return {
    planDir,
    journal: {file, events: j.events.length, torn: j.torn, corruptLines: j.bad.map((b) => b.line), lastRun: r.lastRun},
    waves,
  }
}
