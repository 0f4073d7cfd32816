// The window's budget in runSubSteps, without servers: inside the window of a cutover (a run with a commit point)
// every sub-step is bounded by what is left of it, the commit point included; a commit point given up on is undone
// after the others (clients are back first); runs without a commit point (rollbacks) keep their own waits.
import {describe, expect, test} from 'vitest'
import {runSubSteps, type SubStep} from '../../src/db/window.js'

const limits = {maxWindowMs: 1500, pauseWaitMs: 300, marginMs: 300}
const never = () => new Promise<void>(() => {})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('window budget', () => {
  test('a commit sub-step that never returns is given up within the window; undone after the others', async () => {
    const undone: string[] = []
    const steps: SubStep[] = [
      {name: 'pause', window: 'open', run: async () => {}, undo: async () => void undone.push('pause')},
      {name: 'block', run: async () => {}, undo: async () => void undone.push('block')},
      {name: 'commit', commit: true, run: never, undo: async () => void undone.push('commit')},
      {name: 'resume', window: 'close', run: async () => {}},
    ]
    const lines: string[] = []
    const t0 = performance.now()
    const err = await runSubSteps(steps, (l) => lines.push(l), {limits}).catch((e) => e)
    const ms = performance.now() - t0
    expect(err).toMatchObject({
      code: 'WINDOW_BOUND_EXCEEDED',
      message: expect.stringMatching(/commit did not finish within the \d+ ms left of the window/),
    })
    expect(ms).toBeLessThan(limits.maxWindowMs)
    expect(undone).toEqual(['block', 'pause', 'commit'])
  })

  test('a sub-step after the commit point is bounded by the deadline itself', async () => {
    const steps: SubStep[] = [
      {name: 'pause', window: 'open', run: async () => {}},
      {name: 'commit', commit: true, run: async () => {}},
      {name: 'repoint', run: never},
      {name: 'resume', window: 'close', run: async () => {}},
    ]
    const t0 = performance.now()
    const err = await runSubSteps(steps, () => {}, {limits}).catch((e) => e)
    expect(err).toMatchObject({code: 'WINDOW_BOUND_EXCEEDED', data: {failed: 'repoint'}})
    expect(performance.now() - t0).toBeLessThan(limits.maxWindowMs + 500)
  })

  test('a run without a commit point (a rollback) is not cut short by the window', async () => {
    const steps: SubStep[] = [
      {name: 'pause', window: 'open', run: async () => {}},
      {name: 'fail-back', run: async () => void (await sleep(limits.maxWindowMs + 300))},
      {name: 'resume', window: 'close', run: async () => {}},
    ]
    const r = await runSubSteps(steps, () => {}, {limits})
    expect(r.windowMs).toBeGreaterThan(limits.maxWindowMs)
  })
})
