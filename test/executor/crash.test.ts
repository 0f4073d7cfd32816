// Crash test: a wave of real local commands (each step appends one line to a file, each rollback an undo line) is
// killed with SIGKILL at MIGRATE_CRASH_KILLS random moments and resumed each time, as an operator would: an interrupted
// non-idempotent step is resolved with --skip-step when its line is in the file, --retry-step when it is not. Then the
// same for `migrate rollback` and its compensations. At the end every step's side effect and every undo happened
// exactly once, no step (or compensation) ever ran twice at once, and the journal replays to "done", then
// "rolled-back", with an intact hash chain.
import {execa, type ResultPromise} from 'execa'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {verifyJournal} from '../../src/state/journal.js'
import {backendStatus, planStatus, type StatusResult} from '../../src/executor/plan-status.js'
import {withPlanBackend} from '../../src/plan-backend.js'
import {useTestDb} from '../state/pg-db.js'
import {lines, makePlanDir, template} from './helpers.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')

/** Kills per phase: high in CI (.ci/run sets MIGRATE_CRASH_KILLS=25), low by default so a local run stays short. */
const KILLS = Number(process.env.MIGRATE_CRASH_KILLS ?? 6)

const APPS = ['alpha', 'bravo', 'charlie', 'delta', 'echo']
/**
 * Steps per application: enough work for every kill. A killed run gets through up to about 4 steps of work, so at
 * 25 kills 10 steps per application (50) ran out before the last kill in 2 of 5 runs ("expected 24 to be >= 25").
 */
const STEPS = Math.max(10, 2 * Math.ceil((KILLS * 4) / APPS.length / 2))

function appendStep(i: number, idempotent: boolean): Record<string, unknown> {
  const token = '{{ app.name }}-s' + i
  const file = '{{ plan.dir }}/effects.log'
  // sh is the test's own program here: each step is "append my token" (only if absent when idempotent), between
  // short pauses so kills land between the side effect and its journal line too. Each run of it also writes when it
  // begins and ends (runs.log), so the test sees whether two runs of one step ever overlapped.
  const runs = '"$2.runs"'
  const effect = (t: string): string =>
    `echo "begin ${t} $$" >> ${runs}; sleep 0.0$3; ${idempotent ? `grep -qx "${t}" "$2" || ` : ''}echo "${t}" >> "$2"; sleep 0.0$3; echo "end ${t} $$" >> ${runs}`
  const script = effect('$1')
  const undo = effect('undo-$1')
  const pause = String(2 + ((i * 7) % 7))
  return {
    id: `s${i}`,
    run: ['sh', '-c', script, 'step', token, file, pause],
    rollback: ['sh', '-c', undo, 'undo', token, file, pause],
    idempotent,
  }
}

/**
 * Pids of step processes still running (orphans of a killed CLI), found by the plan dir in their argv. The killed CLI
 * itself is gone by the time this is asked (its exit was awaited), so a process that still shows the CLI's own argv is
 * a child it forked just before the kill that has not yet exec'd its step command: that one counts too (under load it
 * would otherwise append its line after the operator looked, and the step would run twice).
 */
function orphans(planDir: string): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8')
      if (cmd.includes(planDir) && Number(d) !== process.pid) out.push(Number(d))
    } catch {
      /* gone */
    }
  }
  return out
}

/**
 * Waits until `left()` finds no process, for as long as it takes up to a minute, then fails naming them: the operator
 * must never decide on a view taken while a step still runs (a wait that gave up after 5 s without a word let one do
 * so under load: a --retry-step of a step whose process then took effect, its effect twice).
 */
async function waitUntilGone(left: () => number[], what: string): Promise<void> {
  const until = performance.now() + 60_000
  while (left().length > 0) {
    if (performance.now() > until) throw new Error(`${what} still running after 60 s: pids ${left().join(', ')}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

const waitForOrphans = (planDir: string): Promise<void> =>
  waitUntilGone(() => orphans(planDir), 'step processes of the killed run')

/** Only children the killed CLI forked that have not exec'd their step yet (they still show the CLI's argv). */
const waitForUnexecd = (planDir: string): Promise<void> =>
  waitUntilGone(
    () =>
      orphans(planDir).filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(BIN)
        } catch {
          return false
        }
      }),
    'children the killed CLI forked',
  )

/** Runs of one step (or compensation) that overlapped in time, from runs.log: none may. */
function overlappingRuns(file: string): string[] {
  const open = new Map<string, Set<string>>()
  const out: string[] = []
  for (const l of lines(file)) {
    const [what, token, pid] = l.split(' ')
    const running = open.get(token) ?? new Set<string>()
    open.set(token, running)
    if (what === 'begin') {
      if (running.size > 0) out.push(`${token}: pid ${pid} began while ${[...running].join(', ')} ran`)
      running.add(pid)
    } else running.delete(pid)
  }
  return out
}

const NON_IDEMPOTENT = new Set(Array.from({length: STEPS}, (_, i) => (i % 2 === 0 ? '' : `s${i + 1}`)).filter(Boolean))

type Phase = 'execute' | 'rollback'

/**
 * --skip-step when the step's line (or its undo's line) is in the file (it took effect), --retry-step when it is not.
 * Execute asks about interrupted steps, rollback about interrupted compensations.
 */
async function decide(
  dir: string,
  effects: string,
  phase: Phase,
  which: (step: string) => boolean,
  state?: string,
): Promise<string[]> {
  const out: string[] = []
  const seen = new Set(lines(effects))
  for (const app of (await status(dir, state, {wave: 1})).waves[0].apps) {
    for (const s of app.steps) {
      const open =
        phase === 'execute' ? s.status === 'running' || s.status === 'interrupted' : s.status === 'rolling-back'
      if (!open || !which(s.id)) continue
      out.push(
        seen.has(`${phase === 'rollback' ? 'undo-' : ''}${app.name}-${s.id}`) ? '--skip-step' : '--retry-step',
        `${app.name}/${s.id}`,
      )
    }
  }
  return out
}

/**
 * Runs `migrate execute|rollback wave 1` over and over, killing it with SIGKILL at KILLS random moments, as an operator
 * would resume it. The tool itself must wait for step processes a killed run left behind (idempotent steps rerun
 * with no decision); only an operator about to decide whether a step took effect waits for them first, as
 * STEP_STILL_RUNNING tells them to.
 */
async function crashLoop(
  dir: string,
  phase: Phase,
  seedStart: number,
  state?: string,
): Promise<{runs: number; kills: number; decisions: number}> {
  const effects = path.join(dir, 'effects.log')
  let kills = 0
  let decisions = 0
  let runs = 0
  let extra: string[] = []
  let stepMs = 50
  let seed = seedStart
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  const isStart = phase === 'execute' ? '"type":"step-start"' : '"status":"started"'
  const isEnd = phase === 'execute' ? '"type":"step-end"' : '"status":"succeeded"'
  for (;;) {
    runs++
    expect(runs).toBeLessThan(KILLS * 5 + 40)
    // Kill at a random moment of this run's work, measured in its own step events (so it does not depend on the
    // machine's speed): after the 1st–4th step start/end, plus a random part of a typical step's duration. That
    // lands before, during and after side effects, inside journal appends and while step processes still run.
    const killAfterEvents = kills < KILLS ? 1 + Math.floor(rand() * 4) : Infinity
    const jitterFraction = rand()
    const sub: ResultPromise = execa(
      'node',
      [
        BIN,
        phase,
        'wave',
        '1',
        '--plan',
        dir,
        '--concurrency',
        '2',
        '--json',
        ...(state ? ['--state', state] : []),
        ...extra,
      ],
      {reject: false, cwd: dir, env: {MIGRATE_DEBUG: '0'}},
    )
    let events = 0
    let armed = false
    sub.stderr!.on('data', (chunk: Buffer) => {
      for (const l of chunk.toString().split('\n')) {
        if (!l.includes(isStart) && !(l.includes(isEnd) && !l.includes('"already-done"'))) continue
        events++
        const d = /"durationMs":(\d+)/.exec(l)
        if (d) stepMs = 0.8 * stepMs + 0.2 * Number(d[1])
      }
      if (!armed && events >= killAfterEvents) {
        armed = true
        setTimeout(() => sub.kill('SIGKILL'), Math.floor(jitterFraction * stepMs))
      }
    })
    const r = await sub
    extra = []
    if (r.signal === 'SIGKILL') {
      kills++
      await waitForUnexecd(dir)
      // After each crash the operator looks at the status, and settles interrupted non-idempotent steps by
      // checking the file (once the step's processes are gone); idempotent ones are left to the tool.
      if ((await decide(dir, effects, phase, (step) => NON_IDEMPOTENT.has(step), state)).length > 0)
        await waitForOrphans(dir)
      extra = await decide(dir, effects, phase, (step) => NON_IDEMPOTENT.has(step), state)
      if (process.env.CRASH_DEBUG)
        console.log(phase, 'kill', kills, killAfterEvents, Math.round(stepMs), extra.join(' '))
      decisions += extra.length / 2
      continue
    }
    if (r.exitCode === 0) break
    // Exit 6: an interrupted non-idempotent step (or compensation). Decide as an operator would, by looking at the file.
    expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(6)
    await waitForOrphans(dir)
    extra = await decide(dir, effects, phase, () => true, state)
    decisions += extra.length / 2
    expect(extra.length, String(r.stdout)).toBeGreaterThan(0)
  }
  return {runs, kills, decisions}
}

/** The status as an operator sees it: from the journal file, or from the shared backend (--state). */
function status(
  dir: string,
  state: string | undefined,
  opts: {wave?: number; verify?: boolean},
): Promise<StatusResult> {
  return state
    ? withPlanBackend(dir, state, (b) => backendStatus(dir, b, opts))
    : Promise.resolve(planStatus(dir, opts))
}

/** The whole crash case on one backend: execute killed and resumed, then rollback killed and resumed. */
async function crashCase(state?: string): Promise<void> {
  const steps = Array.from({length: STEPS}, (_, i) => appendStep(i + 1, i % 2 === 0))
  const dir = makePlanDir({
    apps: APPS.map((name) => ({name, template: 'crash'})),
    templates: {crash: template('crash', steps)},
  })
  const effects = path.join(dir, 'effects.log')
  const fwd = await crashLoop(dir, 'execute', 20260117, state)
  expect(fwd.kills).toBeGreaterThanOrEqual(KILLS)
  // Every side effect exactly once.
  const want = APPS.flatMap((a) => Array.from({length: STEPS}, (_, i) => `${a}-s${i + 1}`))
  expect([...lines(effects)].sort()).toEqual([...want].sort())
  // Idempotent steps ran again after a kill (by design), but never beside a run of theirs still going.
  expect(overlappingRuns(`${effects}.runs`)).toEqual([])
  // The journal replays to done, and its hash chain is intact despite torn lines along the way.
  let st = await status(dir, state, {verify: true})
  expect(st.waves[0].apps.map((a) => a.status)).toEqual(APPS.map(() => 'done'))
  expect(st.verify?.ok, JSON.stringify(st.verify?.problems)).toBe(true)

  // The same for `migrate rollback`: every compensation exactly once.
  const back = await crashLoop(dir, 'rollback', 20260118, state)
  expect(back.kills).toBeGreaterThanOrEqual(KILLS)
  const undos = APPS.flatMap((a) => Array.from({length: STEPS}, (_, i) => `undo-${a}-s${i + 1}`))
  expect([...lines(effects)].sort()).toEqual([...want, ...undos].sort())
  expect(overlappingRuns(`${effects}.runs`)).toEqual([])
  // Per application newest first.
  for (const a of APPS)
    expect(lines(effects).filter((l) => l.startsWith(`undo-${a}-`))).toEqual(
      Array.from({length: STEPS}, (_, i) => `undo-${a}-s${STEPS - i}`),
    )
  st = await status(dir, state, {verify: true})
  expect(st.waves[0].apps.map((a) => a.status)).toEqual(APPS.map(() => 'rolled-back'))
  expect(st.verify?.ok, JSON.stringify(st.verify?.problems)).toBe(true)
  if (!state) expect(verifyJournal(path.join(dir, 'state.journal')).ok).toBe(true)
  expect(fwd.decisions + back.decisions).toBeGreaterThan(0)
  console.log(
    `crash test (${state ? 'PostgreSQL' : 'journal file'}): execute ${fwd.runs} runs, ${fwd.kills} kills, ${fwd.decisions} operator decisions; rollback ${back.runs} runs, ${back.kills} kills, ${back.decisions} operator decisions; ${want.length} effects and ${undos.length} undos each exactly once`,
  )
}

describe('crash safety', () => {
  it(
    `survives kill -9 at ${KILLS}+ random moments of execute, then of rollback: every side effect and every undo exactly once`,
    () => crashCase(),
    120_000 + KILLS * 12_000,
  )

  // The same harness against the shared PostgreSQL backend (the machine's server): a killed runner's session ends
  // with it, so its unit locks are freed by the server, and the resume applies the same rules.
  describe('with the PostgreSQL state backend', () => {
    const db = useTestDb('crash')
    it(
      `survives kill -9 at ${KILLS}+ random moments of execute and rollback, one chain in PostgreSQL`,
      () => crashCase(db.url),
      120_000 + KILLS * 12_000,
    )
  })
})
