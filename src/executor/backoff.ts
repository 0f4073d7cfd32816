// The wait before a step's retry: exponential, capped, and jittered so that the units of a wave that failed together
// (fifty servers against one API) do not retry in lockstep.
import {durationMs} from '../schema/common.js'
import type {Retries} from '../schema/template.js'

/**
 * Milliseconds before retry `n` (1 = the first retry): backoff × factor^(n-1), at most maxBackoff, then a random
 * point in the upper half of that ("equal jitter": never longer than the capped value, never shorter than half).
 */
export function retryDelay(r: Retries, n: number, random: () => number = Math.random): number {
  const capped = Math.min(durationMs(r.maxBackoff), durationMs(r.backoff) * r.factor ** (n - 1))
  return Math.round(capped / 2 + (capped / 2) * random())
}
