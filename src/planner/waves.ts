// The scheduler's result and input: waves (slots) with their groups and totals, the wave of each group, and the
// notes the reasons are written from.
import type {Calendar, CutoverSlot} from './calendar.js'
import type {GroupAttrs} from './group-attrs.js'
import type {GroupGraph} from './graph.js'
import type {EstateModel} from './model.js'

export interface Schedule {
  replicationDays: number
  slot: CutoverSlot
  testStartDay: number
  replicationStartDay: number
}

export interface FixedWave {
  number: number
  cutoverDay: number
  replicationStart: string
  test: {start: string; end: string}
  cutover: {start: string; end: string}
  name: string
  pilot?: boolean
  replicationDays?: number
}

export interface WaveSlot {
  number: number
  groups: number[]
  apps: number
  servers: number
  dataGiB: number
  changeGiB: number
  crit: number
  env: number
  pilot: boolean
  fixed?: FixedWave
  /** Rules relaxed to fill this wave (recorded as violations). */
  relaxed: string[]
  /** Placements forced by pins or started waves past a rule. */
  forced: string[]
  /** The cutover may not be earlier than this day (a wave that waited for notBefore pins). */
  minDay: number
  schedule?: Schedule
}

export interface GroupNotes {
  capacityWave: Int32Array
  capacityWhat: string[]
  heldEarly: Uint8Array
  waitedEnv: Uint8Array
  waitedNotBefore: Uint8Array
  forced: Uint8Array
}

export interface Assignment {
  waveOf: Int32Array
  waves: WaveSlot[]
  notes: GroupNotes
  /** The latest wave of each group (after pins and strict constraints), used in reasons. */
  latestWave: Float64Array
}

export interface AssignInput {
  model: EstateModel
  graph: GroupGraph
  attrs: GroupAttrs
  /** The latest wave each group may go in (checkPins). */
  latestWave: Float64Array
  cal: Calendar
  fixedWaves: FixedWave[]
  /** The previous plan's wave of each group (0: none), kept where the rules allow: re-plans move little. */
  prior?: Int32Array
}

export function newSlot(number: number): WaveSlot {
  return {
    number,
    groups: [],
    apps: 0,
    servers: 0,
    dataGiB: 0,
    changeGiB: 0,
    crit: 0,
    env: -1,
    pilot: false,
    relaxed: [],
    forced: [],
    minDay: Number.NEGATIVE_INFINITY,
  }
}

export function emptyNotes(count: number): GroupNotes {
  return {
    capacityWave: new Int32Array(count),
    capacityWhat: new Array<string>(count).fill(''),
    heldEarly: new Uint8Array(count),
    waitedEnv: new Uint8Array(count),
    waitedNotBefore: new Uint8Array(count),
    forced: new Uint8Array(count),
  }
}

/** Adds group g's apps, servers, data, change rate and critical count to a wave's totals (sign 1), or takes them off (-1). */
export function addGroupTotals(s: WaveSlot, attrs: GroupAttrs, g: number, sign: 1 | -1): void {
  s.apps += sign * attrs.apps[g]
  s.servers += sign * attrs.servers[g]
  s.dataGiB += sign * attrs.dataGiB[g]
  s.changeGiB += sign * attrs.changeGiB[g]
  s.crit += sign * attrs.crit[g]
}

/** The cutover day of wave w (1-based): the started wave's, else its schedule's. */
export function waveDay(waves: WaveSlot[], w: number): number {
  const s = waves[w - 1]
  return s.fixed ? s.fixed.cutoverDay : s.schedule!.slot.day
}
