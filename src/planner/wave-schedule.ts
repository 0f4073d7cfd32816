// Waves on the calendar: each wave's replication start, test window and cutover, after the previous wave's.
import {badInput} from '../errors.js'
import type {PlanSettings} from '../schema/plan.js'
import {type Calendar, replicationDays} from './calendar.js'
import type {GroupAttrs} from './group-attrs.js'
import {ENV_NAMES} from './model.js'
import type {Assignment, AssignInput, Schedule, WaveSlot} from './waves.js'

/** The replication start, test window and cutover of a wave after `prevCutoverDay`. */
export function scheduleWave(
  cal: Calendar,
  settings: PlanSettings,
  prevCutoverDay: number | undefined,
  dataGiB: number,
  changeGiB: number,
  waveNumber: number,
  minDay = Number.NEGATIVE_INFINITY,
  environments: readonly string[] = [],
): Schedule {
  const replication = replicationDays(dataGiB, changeGiB, settings.bandwidthMbps)
  if (!Number.isFinite(replication)) {
    throw badInput(
      `wave ${waveNumber} changes ${changeGiB.toFixed(0)} GiB a day, more than ${settings.bandwidthMbps} Mbit/s can ship: replication would never catch up`,
      'REPLICATION_CANNOT_CATCH_UP',
      'Raise settings.bandwidthMbps, or lower settings.capacity.dataTiB so fewer busy databases share a wave',
    )
  }
  let earliest = cal.startDay + replication + settings.testDays
  if (prevCutoverDay !== undefined) earliest = Math.max(earliest, prevCutoverDay + settings.waveCadenceDays)
  earliest = Math.max(earliest, minDay)
  const slot = cal.nextCutover(earliest, environments)
  const testStartDay = slot.day - settings.testDays
  return {replicationDays: replication, slot, testStartDay, replicationStartDay: testStartDay - replication}
}

/** The environments of a wave's groups, by name: its cutover may use only the windows open to all of them. */
export function slotEnvironments(s: WaveSlot, attrs: GroupAttrs): string[] {
  const seen = new Set<string>()
  for (const g of s.groups) seen.add(ENV_NAMES[attrs.env[g]])
  return [...seen]
}

/** Recomputes every open wave's schedule in order (after local improvement changed their data). */
export function rescheduleAll(input: AssignInput, a: Assignment): void {
  const {cal, model} = input
  let prev: number | undefined
  for (const s of a.waves) {
    if (s.fixed) {
      prev = s.fixed.cutoverDay
      continue
    }
    s.schedule = scheduleWave(
      cal,
      model.settings,
      prev,
      s.dataGiB,
      s.changeGiB,
      s.number,
      s.minDay,
      slotEnvironments(s, input.attrs),
    )
    prev = s.schedule.slot.day
  }
}
