// Rollback exactly once: a step the operator confirmed (--skip-step of an interrupted step: it took effect) is done,
// so a rollback undoes it; a compensation interrupted while it ran follows the rules of forward steps: run again when
// idempotent, else the operator decides (--skip-step: the undo took effect, --retry-step: it did not).
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {executeWave, rollbackWave} from '../../src/executor/engine.js'
import {EXIT} from '../../src/errors.js'
import type {ExecEvent} from '../../src/executor/types.js'
import {readJournal} from '../../src/state/journal.js'
import {planStatus} from '../../src/executor/plan-status.js'
import {lines, makePlanDir, NODE, template} from './helpers.js'

/** Appends its token, then (when `hang`) sleeps: a signal then lands after the side effect. */
const EFFECT =
  'require("fs").appendFileSync(process.argv[1], process.argv[2] + "\\n"); if (process.argv[3] === "hang") setTimeout(() => {}, 60000)'
const effect = (token: string, hang = '{{ params.hang }}'): string[] => [
  NODE,
  '-e',
  EFFECT,
  '{{ plan.dir }}/disk.log',
  token,
  hang,
]

/** Runs `fn` with a signal that aborts as soon as the line `token` is in disk.log. */
async function abortAfter<T>(dir: string, token: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  const t = setInterval(() => {
    if (lines(path.join(dir, 'disk.log')).includes(token)) ac.abort()
  }, 10)
  try {
    return await fn(ac.signal)
  } finally {
    clearInterval(t)
  }
}

function steps(opts: {rollbackIdempotent?: boolean} = {}): unknown[] {
  return [1, 2, 3, 4].map((i) => ({
    id: `s${i}`,
    run: effect(`s${i}`, i === 3 ? '{{ params.hangAt3 }}' : 'no'),
    rollback: effect(`undo-s${i}`, i === 2 ? '{{ params.hangUndo2 }}' : 'no'),
    idempotent: false,
    ...(opts.rollbackIdempotent !== undefined && i === 2 ? {rollbackIdempotent: opts.rollbackIdempotent} : {}),
  }))
}

function plan(opts: {rollbackIdempotent?: boolean} = {}): string {
  return makePlanDir({
    apps: [{name: 'a1', template: 't'}],
    templates: {t: template('t', steps(opts), {hang: 'no', hangAt3: 'no', hangUndo2: 'no'})},
  })
}

function setParam(dir: string, k: string, v: string): void {
  // The params are part of the plan: rewrite them in place (digest covers the inventory only).
  const f = path.join(dir, 'plan.yaml')
  const text = readFileSync(f, 'utf8')
  writeFileSync(
    f,
    text.includes(`${k}:`)
      ? text.replace(new RegExp(`${k}: .*`), `${k}: ${v}`)
      : text.replace('    params: {}', `    params:\n      ${k}: ${v}`),
  )
}

describe('rollback exactly once', () => {
  it('a step the operator confirmed after an interruption is done, and a rollback undoes it', async () => {
    const dir = plan()
    setParam(dir, 'hangAt3', 'hang')
    const r1 = await abortAfter(dir, 's3', (signal) => executeWave({planDir: dir, wave: 1, signal}))
    expect(r1.exitCode).toBe(EXIT.INTERRUPTED)
    setParam(dir, 'hangAt3', 'no')
    // s3 is not idempotent: the operator is asked; s3's line is there, so it did take effect.
    const r2 = await executeWave({planDir: dir, wave: 1})
    expect(r2.exitCode).toBe(EXIT.NEEDS_OPERATOR)
    const r3 = await executeWave({planDir: dir, wave: 1, skipSteps: ['a1/s3']})
    expect(r3.exitCode).toBe(0)
    const s3 = planStatus(dir).waves[0].apps[0].steps.find((s) => s.id === 's3')!
    expect(s3.status).toBe('succeeded')
    expect(s3.confirmed).toBe(true)
    const rb = await rollbackWave({planDir: dir, wave: 1})
    expect(rb.exitCode).toBe(0)
    expect(lines(path.join(dir, 'disk.log'))).toEqual([
      's1',
      's2',
      's3',
      's4',
      'undo-s4',
      'undo-s3',
      'undo-s2',
      'undo-s1',
    ])
    expect(planStatus(dir).waves[0].apps[0].status).toBe('rolled-back')
  })

  it('a compensation interrupted while it ran is not run again without a decision; --skip-step / --retry-step decide', async () => {
    for (const decision of ['skip', 'retry'] as const) {
      const dir = plan()
      expect((await executeWave({planDir: dir, wave: 1})).exitCode).toBe(0)
      setParam(dir, 'hangUndo2', 'hang')
      const rb1 = await abortAfter(dir, 'undo-s2', (signal) => rollbackWave({planDir: dir, wave: 1, signal}))
      expect(rb1.exitCode).toBe(EXIT.INTERRUPTED)
      setParam(dir, 'hangUndo2', 'no')
      expect(planStatus(dir).waves[0].apps[0].steps.find((s) => s.id === 's2')?.status).toBe('rolling-back')
      // Resumed without a decision: the undo of s2 does not run again, the operator is asked.
      const events: ExecEvent[] = []
      const rb2 = await rollbackWave({planDir: dir, wave: 1, emit: (e) => events.push(e)})
      expect(rb2.exitCode).toBe(EXIT.NEEDS_OPERATOR)
      expect(rb2.apps[0].outcome).toBe('needs-operator')
      expect(rb2.apps[0].message).toMatch(
        /rollback of s2 was running when a previous run stopped .* --skip-step a1\/s2 \(it did\) or --retry-step a1\/s2 \(it did not\)/,
      )
      expect(events.filter((e) => e.type === 'app-end')).toHaveLength(1)
      expect(lines(path.join(dir, 'disk.log')).filter((l) => l === 'undo-s2')).toHaveLength(1)
      // A typo in the decision is refused before anything runs.
      await expect(rollbackWave({planDir: dir, wave: 1, skipSteps: ['a1/s9']})).rejects.toMatchObject({
        code: 'PREFLIGHT_BLOCKED',
      })
      const rb3 = await rollbackWave({
        planDir: dir,
        wave: 1,
        ...(decision === 'skip' ? {skipSteps: ['a1/s2']} : {retrySteps: ['a1/s2']}),
      })
      expect(rb3.exitCode).toBe(0)
      const undo2 = decision === 'skip' ? ['undo-s2'] : ['undo-s2', 'undo-s2']
      expect(lines(path.join(dir, 'disk.log'))).toEqual([
        's1',
        's2',
        's3',
        's4',
        'undo-s4',
        'undo-s3',
        ...undo2,
        'undo-s1',
      ])
      const j = readJournal(path.join(dir, 'state.journal')).events
      expect(
        j.some(
          (e) =>
            e.type === (decision === 'skip' ? 'operator-skip' : 'operator-retry') &&
            e.mode === 'rollback' &&
            e.step === 's2',
        ),
      ).toBe(true)
      expect(planStatus(dir).waves[0].apps[0].status).toBe('rolled-back')
    }
  })

  it('an idempotent compensation (rollbackIdempotent) runs again by itself', async () => {
    const dir = plan({rollbackIdempotent: true})
    expect((await executeWave({planDir: dir, wave: 1})).exitCode).toBe(0)
    setParam(dir, 'hangUndo2', 'hang')
    await abortAfter(dir, 'undo-s2', (signal) => rollbackWave({planDir: dir, wave: 1, signal}))
    setParam(dir, 'hangUndo2', 'no')
    const rb = await rollbackWave({planDir: dir, wave: 1})
    expect(rb.exitCode).toBe(0)
    expect(lines(path.join(dir, 'disk.log')).slice(4)).toEqual(['undo-s4', 'undo-s3', 'undo-s2', 'undo-s2', 'undo-s1'])
  })
})
