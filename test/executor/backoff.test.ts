// Retry waits: exponential, capped by maxBackoff, jittered into the upper half of the capped value.
import {describe, expect, it} from 'vitest'
import {retryDelay} from '../../src/executor/backoff.js'
import {Retries} from '../../src/schema/template.js'

describe('retryDelay', () => {
  it('grows by the factor, stops at maxBackoff, and stays within [half, whole] of the capped wait', () => {
    const r = Retries.parse({count: 8, backoff: '1s', factor: 3, maxBackoff: '20s'})
    const top = [1, 2, 3, 4, 5].map((n) => retryDelay(r, n, () => 0.999999))
    const low = [1, 2, 3, 4, 5].map((n) => retryDelay(r, n, () => 0))
    expect(top).toEqual([1000, 3000, 9000, 20_000, 20_000])
    expect(low).toEqual([500, 1500, 4500, 10_000, 10_000])
  })

  it('caps at 5 minutes by default, so a large factor cannot make a wave wait for hours', () => {
    const r = Retries.parse({count: 10, backoff: '30s', factor: 4})
    expect(retryDelay(r, 10, () => 0.999999)).toBe(300_000)
  })

  it('spreads the waits of units that failed together', () => {
    const r = Retries.parse({count: 1, backoff: '10s'})
    const waits = new Set(Array.from({length: 50}, () => retryDelay(r, 1)))
    expect(waits.size).toBeGreaterThan(25)
    for (const w of waits) expect(w).toBeGreaterThanOrEqual(5000)
  })
})
