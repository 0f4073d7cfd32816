// Scope checks of a plan, part of checkPlan (src/plan-check.ts): no moving application dropped or left out, move
// groups whole and dependency order, against the inventory when the plan names one, else as the plan writes them.
import {nearest} from './inventory/check.js'
import type {PathIssue} from './schema/issues.js'
import type {Plan} from './schema/plan.js'
import {rulesOf} from './planner/rule-ranking.js'
import {buildGroups, describeGroup, type GroupGraph} from './planner/graph.js'
import type {EstateModel} from './planner/model.js'

/** Without the inventory: an application with no wave must say why (retire or retain). */
export function checkDroppedAsWritten(plan: Plan): PathIssue[] {
  const issues: PathIssue[] = []
  plan.applications.forEach((a, i) => {
    if (a.wave === null && a.strategy !== 'retire' && a.strategy !== 'retain')
      issues.push({
        path: ['applications', i, 'wave'],
        code: 'APP_DROPPED',
        message: `application "${a.name}" has no wave, but its strategy is ${a.strategy}: it would never be migrated`,
        hint: 'Give it a wave, or make it retire/retain in the inventory or with a settings.strategyRules entry, and re-plan',
      })
  })
  return issues
}

/** Move groups as the plan writes them (`moveGroup`), when the inventory cannot say which they are. */
export function checkMoveGroupsAsWritten(plan: Plan): PathIssue[] {
  const issues: PathIssue[] = []
  const groups = new Map<string, {name: string; wave: number; i: number}[]>()
  plan.applications.forEach((a, i) => {
    if (a.wave === null) return
    const g = groups.get(a.moveGroup) ?? []
    g.push({name: a.name, wave: a.wave, i})
    groups.set(a.moveGroup, g)
  })
  for (const [name, ms] of groups) {
    const waves = [...new Set(ms.map((m) => m.wave))].sort((x, y) => x - y)
    if (waves.length < 2) continue
    for (const m of ms) {
      if (m.wave === ms[0].wave) continue
      issues.push({
        path: ['applications', m.i, 'wave'],
        code: 'MOVE_GROUP_SPLIT',
        message: `move group ${name} is split across waves ${waves.join(' and ')}: ${ms.map((x) => `${x.name} (wave ${x.wave})`).join(', ')}`,
        hint: `Its applications depend on each other (a cycle, a latency-sensitive link or a together constraint): put "${m.name}" in wave ${ms[0].wave} with the others`,
      })
    }
  }
  return issues
}

/**
 * What only the inventory can tell: applications that must move (and were dropped or left out), the move groups and
 * the dependency order the planner derives from it. Order is an error: the planner never breaks it.
 */
export function checkAgainstInventory(plan: Plan, model: EstateModel, appIndex: Map<string, number>): PathIssue[] {
  const issues = [...unknownOrDropped(plan, model), ...missingFromPlan(model, appIndex)]
  const rules = rulesOf(plan.settings)
  let graph: GroupGraph
  try {
    graph = buildGroups(model, {mergeLinks: rules.groups, dependencyOrder: rules.deps})
  } catch (error) {
    issues.push({
      path: ['settings', 'constraints'],
      code: (error as {code?: string}).code ?? 'BAD_SETTINGS',
      message: (error as Error).message,
    })
    return issues
  }
  const waveOf = (a: number) => plan.applications[appIndex.get(model.apps[a].name) ?? -1]?.wave ?? null
  issues.push(...splitGroups(model, graph, appIndex, waveOf))
  if (rules.deps) issues.push(...dependencyOrder(model, graph, appIndex, waveOf))
  return issues
}

/** The plan's applications the inventory does not know, and those with no wave that the inventory says move. */
function unknownOrDropped(plan: Plan, model: EstateModel): PathIssue[] {
  const issues: PathIssue[] = []
  plan.applications.forEach((a, i) => {
    const mi = model.appIndex.get(a.name)
    if (mi === undefined) {
      const near = nearest(a.name, [...model.appIndex.keys()])
      issues.push({
        path: ['applications', i, 'name'],
        code: 'UNKNOWN_APP',
        message: `application "${a.name}" is not in the inventory ${plan.metadata.inventory}`,
        hint: near ? `Did you mean "${near}"?` : 'Remove it, or re-plan from the current inventory',
      })
    } else if (a.wave === null && model.apps[mi].inScope) {
      issues.push({
        path: ['applications', i, 'wave'],
        code: 'APP_DROPPED',
        message: `application "${a.name}" has no wave, but it moves (${model.apps[mi].strategy}): it would never be migrated`,
        hint: 'Give it a wave, or make it retire/retain in the inventory (tag lifecycle: retire|retain) or with a settings.strategyRules entry, and re-plan',
      })
    }
  })
  return issues
}

/** The inventory's applications that move but are not in the plan, as one issue. */
function missingFromPlan(model: EstateModel, appIndex: Map<string, number>): PathIssue[] {
  const missing = model.apps.filter((n) => n.inScope && !appIndex.has(n.name)).map((n) => n.name)
  if (!missing.length) return []
  return [
    {
      path: ['applications'],
      code: 'APP_MISSING',
      atKey: true,
      message: `${missing.length} application${missing.length === 1 ? '' : 's'} of the inventory that move${missing.length === 1 ? 's' : ''} ${missing.length === 1 ? 'is' : 'are'} not in the plan: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ` and ${missing.length - 8} more` : ''}`,
      hint: 'Re-plan (`migrate plan`) so every application gets a wave',
    },
  ]
}

/** Move groups whole: each application not in its group's first wave. */
function splitGroups(
  model: EstateModel,
  graph: GroupGraph,
  appIndex: Map<string, number>,
  waveOf: (a: number) => number | null,
): PathIssue[] {
  const issues: PathIssue[] = []
  for (let g = 0; g < graph.count; g++) {
    const ms = graph.members[g]
    if (ms.length < 2) continue
    const first = ms.map(waveOf).find((w) => w !== null) ?? null
    const waves = [...new Set(ms.map(waveOf).filter((w): w is number => w !== null))].sort((x, y) => x - y)
    if (waves.length < 2) continue
    for (const a of ms) {
      const w = waveOf(a)
      if (w === null || w === first) continue
      issues.push({
        path: ['applications', appIndex.get(model.apps[a].name)!, 'wave'],
        code: 'MOVE_GROUP_SPLIT',
        message: `${describeGroup(model, ms, graph.why[g])} is split across waves ${waves.join(' and ')}: "${model.apps[a].name}" is in wave ${w}`,
        hint: `Put "${model.apps[a].name}" in wave ${first} with the others (they depend on each other too closely to run on two sites)`,
      })
    }
  }
  return issues
}

/** Dependency order: a dependency moves in the same or an earlier wave than the application that uses it. */
function dependencyOrder(
  model: EstateModel,
  graph: GroupGraph,
  appIndex: Map<string, number>,
  waveOf: (a: number) => number | null,
): PathIssue[] {
  const issues: PathIssue[] = []
  const {edges, apps} = model
  for (let e = 0; e < edges.count; e++) {
    const a = edges.from[e]
    const b = edges.to[e]
    if (graph.groupOf[a] < 0 || graph.groupOf[b] < 0 || graph.groupOf[a] === graph.groupOf[b]) continue
    const wf = waveOf(a)
    const wt = waveOf(b)
    if (wf !== null && wt !== null && wt > wf)
      issues.push({
        path: ['applications', appIndex.get(apps[a].name)!, 'wave'],
        code: 'DEPENDENCY_ORDER',
        message: `"${apps[a].name}" (wave ${wf}) depends on "${apps[b].name}", which moves later (wave ${wt})`,
        hint: `Move "${apps[b].name}" to wave ${wf} or earlier, or "${apps[a].name}" to wave ${wt} or later (or turn the dependencies-first rule off in settings.rules and re-plan)`,
      })
  }
  return issues
}
