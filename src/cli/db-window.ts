// The cutover commands' --max-window / --pause-wait / --margin flags as the window's limits, checked together.
import {badInput} from '../errors.js'
import {flagDuration} from '../db/connect.js'
import type {WindowLimits} from '../db/window.js'

export function windowLimits(flags: {'max-window': string; 'pause-wait': string; margin: string}): WindowLimits {
  const limits = {
    maxWindowMs: flagDuration(flags['max-window'], 'max-window'),
    pauseWaitMs: flagDuration(flags['pause-wait'], 'pause-wait'),
    marginMs: flagDuration(flags.margin, 'margin'),
  }
  if (limits.marginMs + limits.pauseWaitMs >= limits.maxWindowMs)
    throw badInput(
      `--max-window ${flags['max-window']} leaves no time once --pause-wait ${flags['pause-wait']} and --margin ${flags.margin} are taken`,
      'BAD_WINDOW',
      'Make --max-window longer than --pause-wait plus --margin (defaults: 5s, 2s, 1s)',
    )
  return limits
}
