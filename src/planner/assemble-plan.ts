// The planner's pure core: (inventory, settings, prior state) → Plan, synchronous and deterministic.
// It builds the application graph and its move groups, assigns them to waves by the ranked rules, puts the waves on
// the calendar, sizes the targets, and writes down every reason. Same input, same output, byte for byte.
import {badInput} from '../errors.js'
import {inventoryDigest} from '../inventory/digest.js'
import {API_VERSION} from '../schema/common.js'
import type {Inventory} from '../schema/inventory.js'
import type {Plan, PlanSettings} from '../schema/plan.js'
import {deadlineError, lastCutover} from './advice.js'
import {checkPins, groupAttrs} from './group-attrs.js'
import {rulesOf} from './rule-ranking.js'
import {assignWaves} from './wave-scheduler.js'
import type {AssignInput, Assignment, FixedWave} from './waves.js'
import {Calendar, dayOfIso, formatDay} from './calendar.js'
import {buildGroups, type GroupGraph} from './graph.js'
import {buildModel, type EstateModel} from './model.js'
import {finalTally, markPilots, type Placement} from './explain.js'
import {buildWaves} from './wave-ratings.js'
import {measure, type Quality, type WaveFacts} from './quality.js'
import {type Catalogs, loadCatalogs} from './sizing.js'
import {buildApps} from './app-plans.js'

export const PLANNER_VERSION = 'migrate-planner/1'

/** What a re-plan keeps: the previous plan and the waves the state journal shows as started or finished. */
export interface PriorState {
  plan: Plan
  startedWaves: number[]
}

export interface AssembleOptions {
  name?: string
  /** Path of the inventory relative to the plan file. */
  inventoryPath?: string
  /** sha256 of the inventory file; computed from the parsed inventory when absent. */
  inventoryDigest?: string
  catalogs?: Catalogs
  /** When given, filled with milliseconds per phase (model, groups, waves, targets, report). */
  timings?: Record<string, number>
}

export function assemblePlan(
  inventory: Inventory,
  settings: PlanSettings,
  prior?: PriorState,
  options: AssembleOptions = {},
): Plan {
  return assemble(inventory, settings, prior, options).plan
}

/** assemblePlan with the quality figures and internals, for the command's report and the benchmark. */
export function assemble(
  inventory: Inventory,
  settings: PlanSettings,
  prior?: PriorState,
  options: AssembleOptions = {},
): {plan: Plan; quality: Quality} {
  const lap = lapTimer(options.timings)
  const cal = new Calendar(settings)
  checkDeadlineAfterStart(cal, settings)
  const model = buildModel(inventory, settings)
  lap('model')
  const rules = rulesOf(settings)
  const graph = buildGroups(model, {mergeLinks: rules.groups, dependencyOrder: rules.deps})
  lap('groups')

  const {fixedWaves, fixedOfApp} = startedWavesOf(prior, model, cal)
  const attrs = groupAttrs(model, graph, fixedOfApp)
  const latestWave = checkPins(model, graph, attrs)
  const priorWaves =
    prior && sameSettings(prior.plan.settings, settings) ? priorWavesOf(model, graph, prior.plan) : undefined
  const input: AssignInput = {model, graph, attrs, latestWave, cal, fixedWaves, prior: priorWaves}
  const asg = assignChecked(input)
  if (cal.deadlineDay !== undefined && lastCutover(asg) > cal.deadlineDay)
    throw deadlineError(input, asg, (s) => assignWith(input, s))
  lap('waves')

  const appWave = new Int32Array(model.apps.length)
  model.apps.forEach((_, a) => {
    const g = graph.groupOf[a]
    appWave[a] = g >= 0 ? asg.waveOf[g] : 0
  })
  const waveDay = (w: number): number => {
    const s = asg.waves[w - 1]
    return s.fixed ? s.fixed.cutoverDay : s.schedule!.slot.day
  }
  const tally = finalTally(model, appWave, asg.waves.length)
  const placement: Placement = {model, graph, attrs, asg, appWave, tally, waveDay, prior: priorWaves}
  markPilots(placement)
  const quality = measure(model, graph, appWave, waveFacts(asg, cal, waveDay), cal)
  const catalogs = options.catalogs ?? loadCatalogs()
  lap('quality')
  const applications = buildApps(placement, catalogs)
  lap('targets')
  const waves = buildWaves(placement, applications, cal)
  lap('report')
  const plan: Plan = {
    apiVersion: API_VERSION,
    kind: 'Plan',
    metadata: {
      name: options.name ?? inventory.metadata.name,
      inventory: options.inventoryPath ?? 'inventory.yaml',
      inventoryDigest: options.inventoryDigest ?? inventoryDigest(inventory),
      plannerVersion: PLANNER_VERSION,
    },
    settings,
    waves,
    applications,
    metrics: planMetrics(quality),
  }
  return {plan, quality}
}

/** A lap of the phase timings: adds the milliseconds since the last lap to `name` (nothing when not asked for). */
function lapTimer(timings: Record<string, number> | undefined): (name: string) => void {
  if (!timings) return () => {}
  let t0 = performance.now()
  return (name) => {
    const now = performance.now()
    timings[name] = (timings[name] ?? 0) + now - t0
    t0 = now
  }
}

function checkDeadlineAfterStart(cal: Calendar, settings: PlanSettings): void {
  if (cal.deadlineDay !== undefined && cal.deadlineDay <= cal.startDay) {
    throw badInput(
      `the deadline ${settings.deadline} is not after the start date ${settings.startDate}`,
      'BAD_SETTINGS',
      'Set settings.deadline (or --deadline) after settings.startDate',
    )
  }
}

/** Each wave's number, cutover day, and whether a started wave's kept cutover falls in a blackout. */
function waveFacts(asg: Assignment, cal: Calendar, waveDay: (w: number) => number): WaveFacts[] {
  return asg.waves.map((s) => ({
    number: s.number,
    cutoverDay: waveDay(s.number),
    inBlackout: s.fixed ? cal.cutoverBlackout(s.fixed.cutover.start, s.fixed.cutover.end) !== undefined : false,
  }))
}

/** Waves that have started keep their applications and dates: those waves, and the wave of each of their applications. */
function startedWavesOf(
  prior: PriorState | undefined,
  model: EstateModel,
  cal: Calendar,
): {fixedWaves: FixedWave[]; fixedOfApp: Map<number, number>} {
  const fixedWaves: FixedWave[] = []
  const fixedOfApp = new Map<number, number>()
  if (prior) {
    for (const n of [...new Set(prior.startedWaves)].sort((a, b) => a - b)) {
      const pw = prior.plan.waves.find((w) => w.number === n)
      if (!pw) continue
      fixedWaves.push({
        number: n,
        name: pw.name,
        cutoverDay: dayOfIso(cal.timeZone, pw.cutover.start),
        replicationStart: pw.replicationStart,
        test: pw.test,
        cutover: pw.cutover,
        pilot: pw.pilot,
        ...(pw.replicationDays !== undefined ? {replicationDays: pw.replicationDays} : {}),
      })
      for (const name of pw.applications) {
        const i = model.appIndex.get(name)
        if (i !== undefined && model.apps[i].inScope && !fixedOfApp.has(i)) fixedOfApp.set(i, n)
      }
    }
  }
  return {fixedWaves, fixedOfApp}
}

/** The plan's metrics, sorted by name: the quality figures and each rule's violations. */
function planMetrics(quality: Quality): Record<string, number> {
  const metrics: Record<string, number> = {
    dependencyDaysSplit: quality.dependencyDaysSplit,
    durationDays: quality.durationDays,
    rulesViolated: quality.rulesViolated,
    splitDependencies: quality.splitDependencies,
    wavesUsed: quality.wavesUsed,
  }
  for (const [k, n] of Object.entries(quality.violations)) if (n > 0) metrics[`violations.${k}`] = n
  return Object.fromEntries(Object.entries(metrics).sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** Assigns waves; when local improvement broke a notBefore date (a wave's data grew), assigns again without it. */
function assignChecked(input: AssignInput): Assignment {
  let asg = assignWaves(input)
  if (notBeforeBroken(input, asg)) asg = assignWaves(input, {improve: false})
  checkPinDates(input, asg)
  return asg
}

/** The same planning problem under other settings (for advice): its assignment. */
function assignWith(input: AssignInput, settings: PlanSettings): Assignment {
  const model: EstateModel = {...input.model, settings}
  const fixedOfApp = new Map<number, number>()
  input.graph.groupOf.forEach((g, a) => {
    if (g >= 0 && input.attrs.fixed[g]) fixedOfApp.set(a, input.attrs.fixed[g])
  })
  const attrs = groupAttrs(model, input.graph, fixedOfApp)
  const latestWave = checkPins(model, input.graph, attrs)
  return assignChecked({...input, model, attrs, latestWave, cal: new Calendar(settings)})
}

function sameSettings(a: PlanSettings, b: PlanSettings): boolean {
  return stableJson(a) === stableJson(b)
}

function stableJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(stableJson).join(',')}]`
  if (x && typeof x === 'object')
    return `{${Object.keys(x)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((x as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(x) ?? 'null'
}

/** The previous plan's wave of each group: the earliest of its applications' (0 when none of them was placed). */
function priorWavesOf(model: EstateModel, graph: GroupGraph, plan: Plan): Int32Array {
  const out = new Int32Array(graph.count)
  for (const ap of plan.applications) {
    const a = model.appIndex.get(ap.name)
    if (a === undefined || ap.wave === null) continue
    const g = graph.groupOf[a]
    if (g >= 0 && (out[g] === 0 || ap.wave < out[g])) out[g] = ap.wave
  }
  return out
}

function notBeforeBroken(input: AssignInput, asg: Assignment): boolean {
  const {graph, attrs} = input
  for (let g = 0; g < graph.count; g++) {
    if (attrs.notBefore[g] === Number.NEGATIVE_INFINITY || attrs.pin[g] || attrs.fixed[g]) continue
    const s = asg.waves[asg.waveOf[g] - 1]
    if (s.schedule && s.schedule.slot.day < attrs.notBefore[g]) return true
  }
  return false
}

function checkPinDates(input: AssignInput, asg: Assignment): void {
  const {graph, attrs, model} = input
  const name = (g: number) => model.apps[graph.members[g][0]].name
  for (let g = 0; g < graph.count; g++) {
    if (attrs.notBefore[g] === Number.NEGATIVE_INFINITY) continue
    const s = asg.waves[asg.waveOf[g] - 1]
    const day = s.fixed ? s.fixed.cutoverDay : s.schedule!.slot.day
    if (day >= attrs.notBefore[g]) continue
    if (attrs.pin[g]) {
      throw badInput(
        `"${name(g)}" is pinned to wave ${attrs.pin[g]}, which cuts over on ${formatDay(day)}, but also not before ${formatDay(attrs.notBefore[g])}`,
        'PIN_CONFLICT',
        'Pin it to a later wave, or drop one of the two in settings.pins',
      )
    }
    // Pulled early by a pinned application that depends on it: find that one.
    let culprit = -1
    const seen = new Set<number>([g])
    const queue = [g]
    for (let q = 0; q < queue.length && culprit < 0; q++) {
      const v = queue[q]
      for (let k = graph.succStart[v]; k < graph.succStart[v + 1]; k++) {
        const t = graph.succList[k]
        if (seen.has(t)) continue
        seen.add(t)
        if (attrs.pin[t] || attrs.fixed[t]) {
          culprit = t
          break
        }
        queue.push(t)
      }
    }
    throw badInput(
      `"${name(g)}" may not move before ${formatDay(attrs.notBefore[g])}, but ${culprit >= 0 ? `"${name(culprit)}", which depends on it, is ${attrs.pin[culprit] ? 'pinned to' : 'already running in'} wave ${attrs.pin[culprit] || attrs.fixed[culprit]}` : `it had to move in wave ${asg.waveOf[g]}`} (cutover ${formatDay(day)})`,
      'PIN_CONTRADICTS_ORDER',
      'A dependency target moves in the same or an earlier wave: move the pin to a later wave, or drop the notBefore date in settings.pins',
    )
  }
}
