// Pins the scheduler cannot honour, refused with the real cause: a pinned (or pin-pulled) group that must go into
// a wave it does not fit, and a pin so far ahead that the waves before it would be empty.
import {badInput} from '../errors.js'
import {formatDay} from './calendar.js'
import {rulesOf} from './rule-ranking.js'
import type {AssignInput, GroupNotes, WaveSlot} from './waves.js'

/** The pinned group that pulls g into wave w: follow successors to a pin of this wave (-1 when none). */
function pinnedBy(input: AssignInput, g: number, w: number): number {
  const {graph, attrs, latestWave} = input
  const seen = new Set<number>([g])
  const queue = [g]
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q]
    if (attrs.pin[v] === w || (attrs.pin[v] && v !== g)) return v
    for (let k = graph.succStart[v]; k < graph.succStart[v + 1]; k++) {
      const t = graph.succList[k]
      if (!seen.has(t) && latestWave[t] <= latestWave[g] + 1) {
        seen.add(t)
        queue.push(t)
      }
    }
  }
  return -1
}

/** The capacities wave `slot` would exceed with group g in it, and the settings that would make room. */
function overCapacity(input: AssignInput, slot: WaveSlot, g: number): {over: string[]; raise: string[]} {
  const {attrs} = input
  const cap = input.model.settings.capacity
  const over: string[] = []
  const raise: string[] = []
  const capData = cap.dataTiB * 1024
  if (slot.apps + attrs.apps[g] > cap.apps) {
    over.push(`${slot.apps + attrs.apps[g]} applications (capacity.apps ${cap.apps})`)
    raise.push(`capacity.apps to ${slot.apps + attrs.apps[g]}`)
  }
  if (slot.servers + attrs.servers[g] > cap.servers) {
    over.push(`${slot.servers + attrs.servers[g]} servers (capacity.servers ${cap.servers})`)
    raise.push(`capacity.servers to ${slot.servers + attrs.servers[g]}`)
  }
  if (slot.dataGiB + attrs.dataGiB[g] > capData) {
    const tib = Math.ceil((slot.dataGiB + attrs.dataGiB[g]) / 1024)
    over.push(`${((slot.dataGiB + attrs.dataGiB[g]) / 1024).toFixed(1)} TiB (capacity.dataTiB ${cap.dataTiB})`)
    raise.push(`capacity.dataTiB to ${tib}`)
  }
  if (slot.crit + attrs.crit[g] > cap.critical) {
    over.push(`${slot.crit + attrs.crit[g]} high/critical applications (capacity.critical ${cap.critical})`)
    raise.push(`capacity.critical to ${slot.crit + attrs.crit[g]}`)
  }
  return {over, raise}
}

/** A pinned (or pin-pulled) group must go into wave w: refuse with the real cause when it cannot. */
export function forcePlacement(
  input: AssignInput,
  slot: WaveSlot,
  g: number,
  w: number,
  earliestDay: number,
  notes: GroupNotes,
): void {
  const {model, graph, attrs, latestWave} = input
  notes.forced[g] = 1
  const name = (x: number) => model.apps[graph.members[x][0]].name
  const by = attrs.pin[g] ? g : pinnedBy(input, g, w)
  const who = attrs.pin[g]
    ? `"${attrs.pinName[g]}" is pinned to wave ${w}`
    : `"${by >= 0 ? (attrs.pinName[by] ?? name(by)) : '?'}" is pinned to wave ${by >= 0 ? attrs.pin[by] : latestWave[g]} and depends (directly or through others) on "${name(g)}"`
  if (attrs.notBefore[g] > earliestDay) {
    throw badInput(
      `${who}, but "${name(g)}" may not move before ${formatDay(attrs.notBefore[g])} and wave ${w} cuts over on ${formatDay(earliestDay)} at the earliest`,
      'PIN_CONTRADICTS_ORDER',
      `A dependency moves in the same or an earlier wave: pin "${attrs.pinName[by] ?? name(by)}" to a later wave, or move the notBefore date of "${name(g)}" to ${formatDay(earliestDay)} or earlier, in settings.pins`,
    )
  }
  if (!rulesOf(model.settings).capacity) return
  const {over, raise} = overCapacity(input, slot, g)
  if (over.length === 0) return
  const inWave = slot.groups.map(name)
  throw badInput(
    `${who}, but wave ${w} would then hold ${over.join(', ')}${inWave.length ? `, with ${inWave.slice(0, 4).join(', ')}${inWave.length > 4 ? ` and ${inWave.length - 4} more` : ''} that must also move by then` : ''}`,
    'PIN_OVER_CAPACITY',
    `Raise settings.${raise.join(' and ')}, or pin fewer applications to wave ${w} (or to waves that need these dependencies first)`,
  )
}

/** A pin far ahead of where the plan ends: the waves in between would be empty. */
export function emptyWaves(input: AssignInput, g: number, w: number, day: number): Error {
  const {attrs, model, graph} = input
  const name = attrs.pinName[g] ?? model.apps[graph.members[g][0]].name
  return badInput(
    `"${name}" is pinned to wave ${attrs.pin[g]}, but every application it does not wait for is placed by wave ${w - 1}: waves ${w}–${attrs.pin[g] - 1} would be empty`,
    'PIN_LEAVES_EMPTY_WAVES',
    `Pin "${name}" to wave ${w} at the latest, or give it a date instead: {app: ${name}, notBefore: YYYY-MM-DD} (wave ${w} would cut over on ${formatDay(day)} at the earliest)`,
  )
}
