// Crash test: a wave of real local commands (each step appends one line to a file) is killed with SIGKILL at 20+
// random moments and resumed each time, as an operator would: an interrupted non-idempotent step is resolved with
// --skip-step when its line is in the file, --retry-step when it is not. At the end every step's side effect
// happened exactly once, and the journal replays to "done" with an intact hash chain.
import {execa, type ResultPromise} from 'execa'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {verifyJournal} from '../../src/state/journal.js'
import {planStatus} from '../../src/state/report.js'
import {lines, makePlanDir, template} from './helpers.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')

const APPS = ['alpha', 'bravo', 'charlie', 'delta', 'echo']
const STEPS = 10

function appendStep(i: number, idempotent: boolean): Record<string, unknown> {
  const token = '{{ app.name }}-s' + i
  const file = '{{ plan.dir }}/effects.log'
  // sh is the test's own program here: each step is "append my token" (only if absent when idempotent), followed by
  // a short pause so kills land between the side effect and its journal line too.
  const script = idempotent ? 'sleep 0.0$3; grep -qx "$1" "$2" || echo "$1" >> "$2"; sleep 0.0$3' : 'sleep 0.0$3; echo "$1" >> "$2"; sleep 0.0$3'
  return {id: `s${i}`, run: ['sh', '-c', script, 'step', token, file, String(2 + ((i * 7) % 7))], idempotent}
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

async function waitForOrphans(planDir: string): Promise<void> {
  for (let i = 0; i < 200 && orphans(planDir).length > 0; i++) await new Promise((r) => setTimeout(r, 25))
}

const NON_IDEMPOTENT = new Set(Array.from({length: STEPS}, (_, i) => (i % 2 === 0 ? '' : `s${i + 1}`)).filter(Boolean))

/** --skip-step when the step's line is in the file (it took effect), --retry-step when it is not. */
function decide(dir: string, effects: string, which: (step: string) => boolean): string[] {
  const out: string[] = []
  const seen = new Set(lines(effects))
  for (const app of planStatus(dir, {wave: 1}).waves[0].apps) {
    for (const s of app.steps) {
      if ((s.status !== 'running' && s.status !== 'interrupted') || !which(s.id)) continue
      out.push(seen.has(`${app.name}-${s.id}`) ? '--skip-step' : '--retry-step', `${app.name}/${s.id}`)
    }
  }
  return out
}

describe('crash safety', () => {
  it('survives kill -9 at 20+ random moments: every side effect exactly once, journal replays to done', async () => {
    const steps = Array.from({length: STEPS}, (_, i) => appendStep(i + 1, i % 2 === 0))
    const dir = makePlanDir({apps: APPS.map((name) => ({name, template: 'crash'})), templates: {crash: template('crash', steps)}})
    const effects = path.join(dir, 'effects.log')
    let kills = 0
    let operatorDecisions = 0
    let runs = 0
    let extra: string[] = []
    let stepMs = 50
    let seed = 20260117
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    for (;;) {
      runs++
      expect(runs).toBeLessThan(120)
      // Kill at a random moment of this run's work, measured in its own step events (so it does not depend on the
      // machine's speed): after the 1st–4th step start/end, plus a random part of a typical step's duration. That
      // lands before, during and after side effects, inside journal appends and while step processes still run.
      const killAfterEvents = kills < 22 ? 1 + Math.floor(rand() * 4) : Infinity
      const jitterFraction = rand()
      const sub: ResultPromise = execa('node', [BIN, 'execute', 'wave', '1', '--plan', dir, '--concurrency', '2', '--json', ...extra], {reject: false, cwd: dir, env: {MIGRATE_DEBUG: '0'}})
      let events = 0
      let armed = false
      sub.stderr!.on('data', (chunk: Buffer) => {
        for (const l of chunk.toString().split('\n')) {
          if (!l.includes('"type":"step-start"') && !(l.includes('"type":"step-end"') && !l.includes('"already-done"'))) continue
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
        await waitForOrphans(dir)
        // After each crash the operator looks at the status, and settles interrupted non-idempotent steps by
        // checking the file; idempotent ones are left to the tool, which reruns them.
        extra = decide(dir, effects, (step) => NON_IDEMPOTENT.has(step))
        if (process.env.CRASH_DEBUG) console.log("kill", kills, killAfterEvents, Math.round(stepMs), extra.join(" "), JSON.stringify(planStatus(dir, {wave: 1}).waves[0].apps.map((a) => [a.name, a.steps.filter((x) => x.status !== "pending").map((x) => x.id + ":" + x.status).join(",")])))
        operatorDecisions += extra.length / 2
        continue
      }
      if (r.exitCode === 0) break
      // Exit 6: an interrupted non-idempotent step. Decide as an operator would, by looking at the file.
      expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(6)
      extra = decide(dir, effects, () => true)
      operatorDecisions += extra.length / 2
      expect(extra.length).toBeGreaterThan(0)
    }
    expect(kills).toBeGreaterThanOrEqual(20)
    expect(operatorDecisions).toBeGreaterThan(0)
    // Every side effect exactly once.
    const got = lines(effects)
    const want = APPS.flatMap((a) => Array.from({length: STEPS}, (_, i) => `${a}-s${i + 1}`))
    expect([...got].sort()).toEqual([...want].sort())
    // The journal replays to done, and its hash chain is intact despite torn lines along the way.
    const st = planStatus(dir, {verify: true})
    expect(st.waves[0].apps.map((a) => a.status)).toEqual(APPS.map(() => 'done'))
    expect(st.verify?.ok, JSON.stringify(st.verify?.problems)).toBe(true)
    expect(verifyJournal(path.join(dir, 'state.journal')).ok).toBe(true)
    console.log(`crash test: ${runs} runs, ${kills} kills, ${operatorDecisions} operator decisions`)
  }, 240_000)
})
