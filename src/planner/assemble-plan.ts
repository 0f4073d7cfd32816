// The planner's pure core: (inventory, settings, prior state) → Plan, synchronous and deterministic.
// It builds the application graph and its move groups, assigns them to waves by the ranked rules, puts the waves on
// the calendar, sizes the targets, and writes down every reason. Same input, same output, byte for byte.
import {badInput} from '../errors.js'
import {inventoryDigest} from '../inventory/digest.js'
import {API_VERSION} from '../schema/common.js'
import type {Inventory} from '../schema/inventory.js'
import type {AppPlan, Plan, PlanSettings, Wave} from '../schema/plan.js'
import {assignWaves, checkPins, groupAttrs, rulesOf, scheduleWave, type AssignInput, type Assignment, type FixedWave} from './assign.js'
import {Calendar, dayOfIso, formatDay, parseDay} from './calendar.js'
import {buildGroups, describeGroup, groupName, type GroupGraph} from './graph.js'
import {buildModel, CRIT_ORDER, DB_TEMPLATES, ENV_ORDER, NO_TEMPLATE, REHOST_TEMPLATES, type EstateModel} from './model.js'
import {measure, type Quality} from './quality.js'
import {loadCatalogs, Sizer, type Catalogs} from './sizing.js'

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

const ENV_NAMES = ['dev', 'test', 'staging', 'prod'] as const

export function assemblePlan(inventory: Inventory, settings: PlanSettings, prior?: PriorState, options: AssembleOptions = {}): Plan {
  return assemble(inventory, settings, prior, options).plan
}

/** assemblePlan with the quality figures and internals, for the command's report and the benchmark. */
export function assemble(inventory: Inventory, settings: PlanSettings, prior?: PriorState, options: AssembleOptions = {}): {plan: Plan; quality: Quality} {
  const t = options.timings
  let t0 = t ? performance.now() : 0
  const lap = (name: string) => {
    if (!t) return
    const now = performance.now()
    t[name] = (t[name] ?? 0) + now - t0
    t0 = now
  }
  const cal = new Calendar(settings)
  if (cal.deadlineDay !== undefined && cal.deadlineDay <= cal.startDay) {
    throw badInput(`the deadline ${settings.deadline} is not after the start date ${settings.startDate}`, 'BAD_SETTINGS', 'Set settings.deadline (or --deadline) after settings.startDate')
  }
  const model = buildModel(inventory, settings)
  lap('model')
  const rules = rulesOf(settings)
  const gg = buildGroups(model, {mergeLinks: rules.groups, dependencyOrder: rules.deps})
  lap('groups')

  // Waves that have started keep their applications and dates.
  const fixedWaves: FixedWave[] = []
  const fixedOfApp = new Map<number, number>()
  if (prior) {
    for (const n of [...new Set(prior.startedWaves)].sort((a, b) => a - b)) {
      const pw = prior.plan.waves.find((w) => w.number === n)
      if (!pw) continue
      fixedWaves.push({number: n, name: pw.name, cutoverDay: dayOfIso(cal.timeZone, pw.cutover.start), replicationStart: pw.replicationStart, test: pw.test, cutover: pw.cutover})
      for (const name of pw.applications) {
        const i = model.appIndex.get(name)
        if (i !== undefined && model.apps[i].inScope && !fixedOfApp.has(i)) fixedOfApp.set(i, n)
      }
    }
  }
  const at = groupAttrs(model, gg, cal, fixedOfApp)
  const ub = checkPins(model, gg, at)
  const input: AssignInput = {model, gg, at, ub, cal, fixedWaves}
  let asg = assignWaves(input)
  if (notBeforeBroken(input, asg)) asg = assignWaves(input, {improve: false})
  checkPinDates(input, asg)
  checkDeadline(input, asg)
  lap('waves')

  const appWave = new Int32Array(model.apps.length)
  model.apps.forEach((_, a) => {
    const g = gg.groupOf[a]
    appWave[a] = g >= 0 ? asg.waveOf[g] : 0
  })
  const waveDay = (w: number): number => {
    const s = asg.waves[w - 1]
    return s.fixed ? s.fixed.cutoverDay : s.schedule!.slot.day
  }
  const quality = measure(
    model,
    gg,
    appWave,
    asg.waves.map((s) => ({number: s.number, cutoverDay: waveDay(s.number), inBlackout: s.fixed ? cal.cutoverBlackout(s.fixed.cutover.start, s.fixed.cutover.end) !== undefined : false})),
    cal,
  )
  const catalogs = options.catalogs ?? loadCatalogs()
  lap('quality')
  const applications = buildApps(model, gg, asg, appWave, catalogs, waveDay)
  lap('targets')
  const waves = buildWaves(model, gg, asg, appWave, applications, cal)
  lap('report')
  const metrics: Record<string, number> = {
    dependencyDaysSplit: quality.dependencyDaysSplit,
    durationDays: quality.durationDays,
    rulesViolated: quality.rulesViolated,
    splitDependencies: quality.splitDependencies,
    wavesUsed: quality.wavesUsed,
  }
  for (const [k, n] of Object.entries(quality.violations)) if (n > 0) metrics[`violations.${k}`] = n
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
    metrics: Object.fromEntries(Object.entries(metrics).sort(([a], [b]) => (a < b ? -1 : 1))),
  }
  return {plan, quality}
}

function notBeforeBroken(input: AssignInput, asg: Assignment): boolean {
  const {gg, at} = input
  for (let g = 0; g < gg.count; g++) {
    if (at.notBefore[g] === Number.NEGATIVE_INFINITY || at.pin[g] || at.fixed[g]) continue
    const s = asg.waves[asg.waveOf[g] - 1]
    if (s.schedule && s.schedule.slot.day < at.notBefore[g]) return true
  }
  return false
}

function checkPinDates(input: AssignInput, asg: Assignment): void {
  const {gg, at, model} = input
  const name = (g: number) => model.apps[gg.members[g][0]].name
  for (let g = 0; g < gg.count; g++) {
    if (at.notBefore[g] === Number.NEGATIVE_INFINITY) continue
    const s = asg.waves[asg.waveOf[g] - 1]
    const day = s.fixed ? s.fixed.cutoverDay : s.schedule!.slot.day
    if (day >= at.notBefore[g]) continue
    if (at.pin[g]) {
      throw badInput(
        `"${name(g)}" is pinned to wave ${at.pin[g]}, which cuts over on ${formatDay(day)}, but also not before ${formatDay(at.notBefore[g])}`,
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
      for (let k = gg.succStart[v]; k < gg.succStart[v + 1]; k++) {
        const t = gg.succList[k]
        if (seen.has(t)) continue
        seen.add(t)
        if (at.pin[t] || at.fixed[t]) {
          culprit = t
          break
        }
        queue.push(t)
      }
    }
    throw badInput(
      `"${name(g)}" may not move before ${formatDay(at.notBefore[g])}, but ${culprit >= 0 ? `"${name(culprit)}", which depends on it, is ${at.pin[culprit] ? 'pinned to' : 'already running in'} wave ${at.pin[culprit] || at.fixed[culprit]}` : `it had to move in wave ${asg.waveOf[g]}`} (cutover ${formatDay(day)})`,
      'PIN_CONTRADICTS_ORDER',
      'A dependency target moves in the same or an earlier wave: move the pin to a later wave, or drop the notBefore date in settings.pins',
    )
  }
}

function checkDeadline(input: AssignInput, asg: Assignment): void {
  const {cal, model} = input
  const s = model.settings
  if (cal.deadlineDay === undefined || asg.waves.length === 0) return
  const last = asg.waves[asg.waves.length - 1]
  const lastDay = last.fixed ? last.fixed.cutoverDay : last.schedule!.slot.day
  if (lastDay <= cal.deadlineDay) return
  // How many waves the calendar holds before the deadline, at best (no replication wait beyond a day).
  let fit = 0
  let prev: number | undefined
  for (const w of asg.waves) {
    const day = w.fixed ? w.fixed.cutoverDay : scheduleWave(cal, s, prev, 1, 0, w.number).slot.day
    if (day > cal.deadlineDay) break
    prev = day
    fit++
  }
  const needed = asg.waves.length
  let apps = 0
  let servers = 0
  let data = 0
  for (const w of asg.waves) {
    apps += w.apps
    servers += w.servers
    data += w.dataGiB
  }
  const factor = fit > 0 ? needed / fit : Number.POSITIVE_INFINITY
  const hint =
    fit === 0
      ? `No wave fits between ${s.startDate} and ${s.deadline} with these cutover windows and blackouts: move the deadline to ${formatDay(lastDay)} or later`
      : `${needed - fit} more wave${needed - fit === 1 ? '' : 's'} would be needed. To fit in ${fit} waves, raise settings.capacity to about apps ${Math.ceil(apps / fit)}, servers ${Math.max(s.capacity.servers, Math.ceil((servers / fit) * 1.2))}, dataTiB ${Math.max(s.capacity.dataTiB, Math.ceil((data / 1024 / fit) * 1.2))} (×${factor.toFixed(1)}), or shorten waveCadenceDays (now ${s.waveCadenceDays}), or move the deadline to ${formatDay(lastDay)}`
  throw Object.assign(
    badInput(`the plan needs ${needed} waves and the last cuts over on ${formatDay(lastDay)}, after the deadline ${s.deadline}; only ${fit} wave${fit === 1 ? '' : 's'} fit by then`, 'DEADLINE_UNREACHABLE', hint),
    {data: {wavesNeeded: needed, wavesThatFit: fit, lastCutover: formatDay(lastDay), deadline: s.deadline}},
  )
}

function buildApps(model: EstateModel, gg: GroupGraph, asg: Assignment, appWave: Int32Array, catalogs: Catalogs, waveDay: (w: number) => number): AppPlan[] {
  const {inventory, settings, edges} = model
  const sizers = {aws: new Sizer(catalogs.aws), alicloud: new Sizer(catalogs.alicloud)}
  // Outgoing dependencies per application, heaviest first, for the reasons.
  const outStart = new Int32Array(model.apps.length + 1)
  for (let e = 0; e < edges.count; e++) outStart[edges.from[e] + 1]++
  for (let i = 0; i < model.apps.length; i++) outStart[i + 1] += outStart[i]
  const fill = outStart.slice(0, model.apps.length)
  const outList = new Int32Array(edges.count)
  for (let e = 0; e < edges.count; e++) outList[fill[edges.from[e]]++] = e
  const afterOf = new Map<number, string[]>()
  for (const c of settings.constraints) {
    if (!('before' in c)) continue
    const b = model.appIndex.get(c.before[1])
    if (b !== undefined) afterOf.set(b, [...(afterOf.get(b) ?? []), c.before[0]])
  }
  const pinOf = new Map(settings.pins.map((p) => [p.app, p]))
  return model.apps.map((n, a) => {
    const g = gg.groupOf[a]
    const w = appWave[a]
    const sizer = sizers[n.cloud]
    const target = {cloud: n.cloud, region: n.region}
    const dbTargets = n.dbs
      .filter((di) => n.replatformed.has(di))
      .map((di) => {
        const d = inventory.databases[di]
        const hi = d.serverId !== undefined ? model.dbHosts.get(d.serverId) : undefined
        const host = hi !== undefined ? inventory.servers[hi] : undefined
        const sized = sizer.sizeDatabase(d, host)
        return sized ? {id: d.id, service: sized.service, instanceClass: sized.instanceClass, template: DB_TEMPLATES[d.engine], reason: `${d.engine} ${d.version ?? ''}`.trim() + `, ${d.sizeGiB} GiB: ${sized.reason}`} : undefined
      })
      .filter((x): x is NonNullable<typeof x> => x !== undefined)
      .sort((x, y) => (x.id < y.id ? -1 : 1))
    const serverTargets: AppPlan['servers'] = []
    if (n.inScope) {
      const replaced = n.replaced.size > 0 ? n.replaced : undefined
      for (let k = 0; k < n.servers.length; k++) {
        const si = n.servers[k]
        if (replaced?.has(si)) continue
        const s = inventory.servers[si]
        const sz = sizer.sizeServer(s)
        serverTargets.push({id: s.id, instanceType: sz.instanceType, vcpus: sz.vcpus, memoryMiB: sz.memoryMiB, reason: sz.reason})
      }
    }
    if (!sortedById(serverTargets)) serverTargets.sort((x, y) => (x.id < y.id ? -1 : 1))
    let template: string
    if (!n.inScope) template = NO_TEMPLATE
    else if (n.ruleTemplate) template = n.ruleTemplate
    else if (n.strategy === 'replatform' && serverTargets.length === 0 && dbTargets.length > 0) template = dbTargets[0].template
    else template = REHOST_TEMPLATES[n.cloud]
    const reasons: string[] = []
    if (!n.inScope) {
      reasons.push(`${n.strategyReason}: stays out of the waves`)
    } else {
      reasons.push(placementReason(model, gg, asg, appWave, a, w, outStart, outList, afterOf, pinOf.get(n.name), waveDay))
      const ms = gg.members[g]
      if (ms.length > 1) reasons.push(`moves with ${describeGroup(model, ms.filter((x) => x !== a), gg.why[g]).replace(/^move group /, '')}`)
      reasons.push(n.strategyReason)
      const replaced = n.replaced.size === 0 ? 0 : n.servers.filter((si) => n.replaced.has(si)).length
      if (replaced > 0) reasons.push(`${replaced} database/cache server${replaced === 1 ? '' : 's'} replaced by the managed service${dbTargets.length === 1 ? '' : 's'} (${[...new Set(dbTargets.map((d) => d.service))].join(', ')})`)
    }
    const out: AppPlan = {
      name: n.name,
      wave: w || null,
      moveGroup: g >= 0 ? groupName(model, gg.members[g]) : n.name,
      strategy: n.strategy,
      template,
      target,
      servers: serverTargets,
      databases: dbTargets,
      params: n.inScope && dbTargets.length === 1 ? sourceParams(inventory, n.dbs.find((di) => inventory.databases[di].id === dbTargets[0].id)!, model) : {},
      reasons,
    }
    return out
  })
}

function placementReason(
  model: EstateModel,
  gg: GroupGraph,
  asg: Assignment,
  appWave: Int32Array,
  a: number,
  w: number,
  outStart: Int32Array,
  outList: Int32Array,
  afterOf: Map<number, string[]>,
  pin: PlanSettings['pins'][number] | undefined,
  waveDay: (w: number) => number,
): string {
  const {edges, settings} = model
  const g = gg.groupOf[a]
  const slot = asg.waves[w - 1]
  const parts: string[] = []
  if (slot.fixed) parts.push('the wave had started before this re-plan: kept')
  if (slot.pilot) parts.push('pilot: among the lowest-risk applications, to prove the tooling first')
  if (pin?.wave) parts.push(`pinned to wave ${pin.wave}`)
  if (pin?.notBefore) parts.push(`pinned after ${pin.notBefore}`)
  // The three latest-moving dependencies (then the heaviest), without allocating per edge.
  const top = [-1, -1, -1]
  let others = 0
  const better = (e: number, f: number): boolean => {
    const we = appWave[edges.to[e]]
    const wf = appWave[edges.to[f]]
    if (we !== wf) return we > wf
    if (edges.weight[e] !== edges.weight[f]) return edges.weight[e] > edges.weight[f]
    return model.apps[edges.to[e]].name < model.apps[edges.to[f]].name
  }
  for (let k = outStart[a]; k < outStart[a + 1]; k++) {
    const e = outList[k]
    const b = edges.to[e]
    if (!appWave[b] || gg.groupOf[b] === g) continue
    others++
    let x = e
    for (let t = 0; t < 3; t++) {
      if (top[t] < 0 || better(x, top[t])) {
        const y = top[t]
        top[t] = x
        x = y
        if (x < 0) break
      }
    }
  }
  const shown = top.filter((e) => e >= 0)
  if (shown.length > 0) parts.push(`depends on ${shown.map((e) => `${model.apps[edges.to[e]].name} (wave ${appWave[edges.to[e]]})`).join(', ')}${others > 3 ? ` and ${others - 3} more` : ''}`)
  for (const before of afterOf.get(a) ?? []) {
    const b = model.appIndex.get(before)
    if (b !== undefined && appWave[b]) parts.push(`after ${before} (wave ${appWave[b]}, a before constraint)`)
  }
  const cw = asg.notes.capacityWave[g]
  if (cw && cw < w) parts.push(`capacity (${asg.notes.capacityWhat[g]}) full in wave ${cw}`)
  if (asg.notes.heldEarly[g]) {
    const n = model.apps[a]
    const what = n.crit >= CRIT_ORDER.high ? `${n.app.criticality} criticality` : n.complexity >= 2 ? 'high complexity' : 'a critical or complex application in its move group'
    parts.push(`${what}: kept out of waves 1–${settings.ramp.earlyWaves}`)
  }
  if (asg.notes.waitedEnv[g]) parts.push(model.apps[a].env === ENV_ORDER.prod ? 'production after dev/test, one environment per wave' : 'one environment per wave')
  if (asg.notes.waitedNotBefore[g] && !pin?.notBefore) parts.push(`not before ${formatDay(waveDay(w))}`)
  if (asg.notes.forced[g] && !pin?.wave) parts.push('placed early so that applications pinned after it can keep their waves')
  if (slot.relaxed.length > 0 && !slot.pilot) parts.push(`nothing else could move in wave ${w} (early-wave rules relaxed)`)
  if (parts.length === 0) parts.push(others === 0 ? 'no dependencies to wait for: the first wave with room' : 'the first wave with room')
  return `wave ${w}: ${parts.join(', ')}`
}

function buildWaves(model: EstateModel, gg: GroupGraph, asg: Assignment, appWave: Int32Array, apps: AppPlan[], cal: Calendar): Wave[] {
  const {settings, edges} = model
  const cap = settings.capacity
  const splitPerWave = new Map<number, number>()
  for (let e = 0; e < edges.count; e++) {
    const wa = appWave[edges.from[e]]
    const wb = appWave[edges.to[e]]
    if (!wa || !wb || wa === wb) continue
    splitPerWave.set(wa, (splitPerWave.get(wa) ?? 0) + 1)
    splitPerWave.set(wb, (splitPerWave.get(wb) ?? 0) + 1)
  }
  const seenTemplates = new Set<string>()
  const out: Wave[] = []
  for (const slot of asg.waves) {
    const members: number[] = []
    for (const g of slot.groups) for (const a of gg.members[g]) members.push(a)
    members.sort((x, y) => x - y)
    const names = members.map((a) => model.apps[a].name)
    const envs = new Set(members.map((a) => model.apps[a].env))
    const dbs = members.reduce((s, a) => s + model.apps[a].dbs.length, 0)
    let replicationStart: string
    let test: {start: string; end: string}
    let cutover: {start: string; end: string}
    let replDays: number | undefined
    const skipped: string[] = []
    if (slot.fixed) {
      replicationStart = slot.fixed.replicationStart
      test = slot.fixed.test
      cutover = slot.fixed.cutover
    } else {
      const sc = slot.schedule!
      replDays = sc.replicationDays
      replicationStart = cal.iso(sc.replicationStartDay, 9 * 60)
      test = {start: cal.iso(sc.testStartDay, 9 * 60), end: cal.iso(sc.slot.day, sc.slot.startMin)}
      cutover = {start: cal.iso(sc.slot.day, sc.slot.startMin), end: cal.iso(sc.slot.endDay, sc.slot.endMin)}
      skipped.push(...sc.slot.skipped)
    }
    // Risk and confidence, with the reasons.
    const risk: string[] = []
    const conf: string[] = []
    let score = 0
    const critical = members.filter((a) => model.apps[a].crit === CRIT_ORDER.critical).map((a) => model.apps[a].name)
    const high = members.filter((a) => model.apps[a].crit === CRIT_ORDER.high).map((a) => model.apps[a].name)
    const complex = members.filter((a) => model.apps[a].complexity >= 2).map((a) => model.apps[a].name)
    if (critical.length) {
      score += 3 * critical.length
      risk.push(`${critical.length} critical: ${list(critical)}`)
    }
    if (high.length) {
      score += 2 * high.length
      risk.push(`${high.length} high criticality: ${list(high)}`)
    }
    if (complex.length) {
      score += complex.length
      risk.push(`high complexity: ${list(complex)}`)
    }
    if (slot.servers > 0.8 * cap.servers) {
      score += 1
      risk.push(`${slot.servers} servers, near the capacity of ${cap.servers}`)
    }
    const templates = new Set<string>()
    for (const a of members) {
      const p = apps[a]
      templates.add(p.template)
      for (const d of p.databases) if (d.template) templates.add(d.template)
    }
    const fresh = [...templates].filter((t) => t !== 'none' && !seenTemplates.has(t)).sort()
    for (const t of fresh) seenTemplates.add(t)
    if (fresh.length && !slot.pilot && out.length > 0) {
      score += Math.min(2, fresh.length)
      risk.push(`first wave to use ${fresh.join(', ')}`)
    }
    const split = splitPerWave.get(slot.number) ?? 0
    if (split > 0) {
      score += 1
      risk.push(`${split} dependenc${split === 1 ? 'y' : 'ies'} to other waves run across sites meanwhile`)
    }
    if (slot.pilot) risk.push('pilot wave: low-risk applications to prove the tooling and runbooks')
    if (skipped.length) risk.push(`cutover moved past the ${skipped.join(', ')} blackout${skipped.length === 1 ? '' : 's'}`)
    let confidence = 5
    const observed = members.filter((a) => model.apps[a].observedDeps).length
    if (members.length > 0 && observed < members.length) {
      confidence--
      conf.push(observed === 0 ? 'dependencies are declared only, none observed on the wire' : `${members.length - observed} of ${members.length} applications have declared dependencies only`)
    }
    const servers = members.reduce((s, a) => s + model.apps[a].servers.length, 0)
    const util = members.reduce((s, a) => s + model.apps[a].utilKnown, 0)
    if (servers > 0 && util < servers / 2) {
      confidence--
      conf.push(`utilisation unknown for ${servers - util} of ${servers} servers: sizes follow the source`)
    }
    if (replDays !== undefined && replDays + settings.testDays > settings.waveCadenceDays) {
      confidence--
      conf.push(`replication (${replDays} d) and testing (${settings.testDays} d) take longer than the cadence`)
    }
    if (slot.relaxed.length || slot.forced.length) {
      confidence--
      conf.push(...slot.forced, ...(slot.relaxed.length ? ['early-wave rules relaxed to fill this wave'] : []))
    }
    if (fresh.length && !slot.pilot && out.length > 0) {
      confidence--
      conf.push(`no earlier wave has run ${fresh.join(', ')}`)
    }
    confidence = Math.max(1, confidence)
    if (conf.length === 0) conf.push('dependencies observed, utilisation known, well inside capacity and cadence')
    const level = slot.pilot ? 'low' : score <= 1 ? 'low' : score <= 6 ? 'medium' : 'high'
    const wave: Wave = {
      number: slot.number,
      name: slot.fixed ? slot.fixed.name : slot.pilot ? 'Pilot' : `Wave ${slot.number}`,
      pilot: slot.pilot,
      ...(envs.size === 1 ? {environment: ENV_NAMES[[...envs][0]]} : {}),
      applications: names,
      replicationStart,
      test,
      cutover,
      servers,
      databases: dbs,
      dataGiB: Math.round(slot.dataGiB * 10) / 10,
      ...(replDays !== undefined ? {replicationDays: replDays} : {}),
      splitDependencies: split,
      risk: level,
      confidence,
      reasons: [...risk.map((r) => `risk: ${r}`), ...conf.map((c) => `confidence: ${c}`)],
    }
    out.push(wave)
  }
  void parseDay
  return out
}

/**
 * Source-side template parameters of an application's one replatformed database (host, port, database name; never
 * credentials). With several databases the names would collide (params are per application): left to the operator.
 */
function sourceParams(inventory: Inventory, dbIndex: number, model: EstateModel): Record<string, string> {
  const d = inventory.databases[dbIndex]
  const hi = d.serverId !== undefined ? model.dbHosts.get(d.serverId) : undefined
  const hostServer = hi !== undefined ? inventory.servers[hi] : undefined
  const host = d.host ?? hostServer?.privateIps[0] ?? hostServer?.hostname
  if (!host) return {}
  const port = d.port ?? {postgres: 5432, mysql: 3306, mariadb: 3306, redis: 6379}[d.engine as 'postgres']
  switch (d.engine) {
    case 'postgres':
      return {source_conninfo: `host=${host} port=${port} dbname=${d.name}`, source_url: `postgresql://${host}:${port}/${d.name}`}
    case 'mysql':
    case 'mariadb':
      return {database: d.name, source_host: host, source_port: String(port)}
    case 'redis':
      return {source_url: `redis://${host}:${port}`}
    default:
      return {}
  }
}

function sortedById(xs: {id: string}[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i - 1].id > xs[i].id) return false
  return true
}

function list(names: string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ')
}
