// The pre-flight finding every engine reports about its cutover's window.
import type {Finding} from './types.js'
import {estimateLine, type WindowLimits} from './window.js'

/** The pre-flight's window estimate: info, or a warning when it exceeds the bound the cutover keeps. */
export function windowFinding(prefix: string, estimateMs: number, limits: WindowLimits, basis: string): Finding {
  const over = estimateMs > limits.maxWindowMs
  return {
    severity: over ? 'warning' : 'info',
    code: over ? `${prefix}_WINDOW_OVER_BOUND` : `${prefix}_WINDOW_ESTIMATE`,
    message: `${estimateLine(estimateMs, limits)} (${basis})${over ? ': the cutover would refuse to start' : ''}`,
    hint: over
      ? 'Raise --max-window (clients then wait that long), or move the heavy work out of the pause (verify: checksums runs before it)'
      : undefined,
  }
}
