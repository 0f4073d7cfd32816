// The one bounded-parallelism helper: order kept, the limit held, and after a failure nothing new starts and nothing
// is left running when the caller hears of it (the executor releases the plan's lock right after).
import {describe, expect, it} from 'vitest'
import {mapWithLimit} from '../src/map-limit.js'

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('mapWithLimit', () => {
  it('keeps input order and never has more than `limit` in flight', async () => {
    let inFlight = 0
    let most = 0
    const out = await mapWithLimit([5, 1, 4, 2, 3, 0], 3, async (x, i) => {
      most = Math.max(most, ++inFlight)
      await tick(x * 3)
      inFlight--
      return `${i}:${x}`
    })
    expect(out).toEqual(['0:5', '1:1', '2:4', '3:2', '4:3', '5:0'])
    expect(most).toBe(3)
  })

  it('after a failure starts nothing new, and throws the first failure only once those in flight have finished', async () => {
    const started: number[] = []
    const finished: number[] = []
    const run = mapWithLimit([0, 1, 2, 3, 4, 5], 2, async (x) => {
      started.push(x)
      await tick(x === 0 ? 5 : 30)
      finished.push(x)
      if (x === 0) throw new Error('first')
      if (x === 1) throw new Error('second')
      return x
    })
    await expect(run).rejects.toThrow('first')
    expect(started).toEqual([0, 1])
    expect(finished).toEqual([0, 1])
  })
})
