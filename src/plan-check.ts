// Semantic checks of a (possibly hand-edited) plan, beyond its schema: every promise the planner keeps, re-checked.
// Applications and waves that agree, known applications and templates; the calendar (planner/check-calendar.ts: windows,
// blackouts, start, deadline, date order, daylight-saving-safe timestamps); `before`/`together` constraints and pins;
// capacity per wave. With the inventory (metadata.inventory, relative to the plan file): no moving application
// dropped or left out, move groups whole and dependency order as the planner derives them, servers, data and
// criticality counted.
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {parse} from 'yaml'
import {nearest} from './inventory/check.js'
import {loadWithSchema} from './io/documents.js'
import {Inventory} from './schema/inventory.js'
import type {PathIssue} from './schema/issues.js'
import type {Plan} from './schema/plan.js'
import {PLAN_FILES, TEMPLATES_DIR} from './paths.js'
import {startedWaves} from './state/started-waves.js'
import {formatDay, localOfIso, parseDay, type Calendar} from './planner/calendar.js'
import {checkSettings, checkWaveCalendar} from './planner/check-calendar.js'
import {isTemplatePath, resolveTemplateFile, templatePathEscapes} from './runbook/template-path.js'
import {
  buildModel,
  CRIT_ORDER,
  DB_TEMPLATES,
  ENV_NAMES,
  NO_TEMPLATE,
  REHOST_TEMPLATES,
  type EstateModel,
} from './planner/model.js'

import {checkAgainstInventory, checkDroppedAsWritten, checkMoveGroupsAsWritten} from './plan-check-scope.js'

/** Names of the runbook templates available to a plan: templates/*.yaml of the package and of the plan directory. */
export function knownTemplates(planFile?: string): Set<string> {
  const names = new Set<string>([NO_TEMPLATE])
  const dirs = [TEMPLATES_DIR]
  if (planFile) dirs.push(path.join(path.dirname(path.resolve(planFile)), 'templates'))
  for (const dir of dirs) {
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir)) {
      if (!/\.ya?ml$/.test(f)) continue
      names.add(f.replace(/\.ya?ml$/, ''))
      try {
        const doc = parse(readFileSync(path.join(dir, f), 'utf8')) as {metadata?: {name?: unknown}}
        if (typeof doc?.metadata?.name === 'string') names.add(doc.metadata.name)
      } catch {
        // A broken template is reported when it is validated itself.
      }
    }
  }
  return names
}

const BUILT_IN = new Set<string>([...Object.values(DB_TEMPLATES), ...Object.values(REHOST_TEMPLATES)])

function loadInventory(plan: Plan, file: string, issues: PathIssue[]): EstateModel | undefined {
  const invFile = path.resolve(path.dirname(path.resolve(file)), plan.metadata.inventory)
  if (!existsSync(invFile)) {
    issues.push({
      path: ['metadata', 'inventory'],
      code: 'INVENTORY_NOT_FOUND',
      severity: 'warning',
      message: `the inventory ${plan.metadata.inventory} is not there; servers, data and criticality are not checked`,
      hint: 'Fix metadata.inventory (a path relative to the plan file)',
    })
    return undefined
  }
  const loaded = loadWithSchema(invFile, Inventory)
  if (!loaded.value) {
    issues.push({
      path: ['metadata', 'inventory'],
      code: 'INVENTORY_INVALID',
      severity: 'warning',
      message: `the inventory ${plan.metadata.inventory} has errors; servers, data and criticality are not checked`,
      hint: `Run \`migrate validate ${invFile}\``,
    })
    return undefined
  }
  try {
    return buildModel(loaded.value, plan.settings)
  } catch (error) {
    issues.push({
      path: ['metadata', 'inventory'],
      code: 'INVENTORY_UNUSABLE',
      severity: 'warning',
      message: `the inventory cannot be planned (${(error as Error).message}); servers, data and criticality are not checked`,
    })
    return undefined
  }
}

/** Waves and applications that agree: every listed application exists, in one wave, the wave its entry names. */
function checkWaveLists(plan: Plan, appIndex: Map<string, number>, issues: PathIssue[]): void {
  const waveNumbers = new Set(plan.waves.map((w) => w.number))
  const appNames = [...appIndex.keys()]
  const listedIn = new Map<string, number>()
  plan.waves.forEach((w, i) => {
    w.applications.forEach((name, j) => {
      const ai = appIndex.get(name)
      if (ai === undefined) {
        const near = nearest(name, appNames)
        issues.push({
          path: ['waves', i, 'applications', j],
          code: 'UNKNOWN_APP',
          message: `wave ${w.number} lists "${name}", which is not in applications`,
          hint: near ? `Did you mean "${near}"?` : 'Add the application or remove it from the wave',
        })
        return
      }
      if (listedIn.has(name))
        issues.push({
          path: ['waves', i, 'applications', j],
          code: 'APP_IN_TWO_WAVES',
          message: `"${name}" is listed in wave ${listedIn.get(name)} and wave ${w.number}`,
          hint: 'An application moves in exactly one wave: remove one of the two',
        })
      else listedIn.set(name, w.number)
      const declared = plan.applications[ai].wave
      if (declared !== w.number)
        issues.push({
          path: ['waves', i, 'applications', j],
          code: 'WAVE_MISMATCH',
          message: `wave ${w.number} lists "${name}", but its applications entry says wave ${declared ?? 'null'}`,
          hint: `Make applications[${ai}].wave ${w.number}, or move the name to the right wave`,
        })
    })
  })
  plan.applications.forEach((a, i) => {
    if (a.wave !== null && !waveNumbers.has(a.wave))
      issues.push({
        path: ['applications', i, 'wave'],
        code: 'UNKNOWN_WAVE',
        message: `application "${a.name}" is in wave ${a.wave}, which does not exist`,
        hint: `Use one of: ${[...waveNumbers].join(', ') || 'none defined'}`,
      })
    else if (a.wave !== null && !listedIn.has(a.name))
      issues.push({
        path: ['applications', i, 'wave'],
        code: 'WAVE_MISMATCH',
        message: `application "${a.name}" says wave ${a.wave}, but that wave does not list it`,
        hint: `Add "${a.name}" to the applications of wave ${a.wave}`,
      })
  })
}

/** Templates: every application's and database's template is known, shipped, or a path inside the plan directory. */
function checkTemplates(plan: Plan, file: string | undefined, issues: PathIssue[]): void {
  const known = knownTemplates(file)
  const missing = new Map<string, {path: PathIssue['path']; who: string; count: number}>()
  const templateIssue = (p: PathIssue['path'], name: string, who: string) => {
    if (known.has(name)) return
    // A path relative to the plan directory (docs/execute.md), inside it.
    if (isTemplatePath(name) && file !== undefined) {
      const planDir = path.dirname(path.resolve(file))
      if (templatePathEscapes(planDir, name))
        issues.push({
          path: p,
          code: 'TEMPLATE_OUTSIDE_PLAN',
          message: `${who} uses template path "${name}", which leaves the plan directory`,
          hint: 'A template path is relative to the plan directory and stays inside it (e.g. runbooks/my-app.yaml)',
        })
      else if (!resolveTemplateFile(planDir, name))
        issues.push({
          path: p,
          code: 'UNKNOWN_TEMPLATE',
          message: `${who} uses template path "${name}", which does not exist (relative to the plan directory)`,
          hint: 'Fix the path, or put the template in <plan>/templates/NAME.yaml and name it NAME',
        })
      return
    }
    if (BUILT_IN.has(name)) {
      const m = missing.get(name)
      if (m) m.count++
      else missing.set(name, {path: p, who, count: 1})
    } else {
      const near = nearest(name, [...known])
      issues.push({
        path: p,
        code: 'UNKNOWN_TEMPLATE',
        message: `${who} uses template "${name}", which does not exist`,
        hint: near ? `Did you mean "${near}"?` : `Use one of: ${[...known].sort().join(', ')}`,
      })
    }
  }
  plan.applications.forEach((a, i) => {
    templateIssue(['applications', i, 'template'], a.template, `application "${a.name}"`)
    a.databases.forEach((d, j) => {
      if (d.template) templateIssue(['applications', i, 'databases', j, 'template'], d.template, `database "${d.id}"`)
    })
  })

  for (const [name, m] of missing) {
    issues.push({
      path: m.path,
      code: 'TEMPLATE_NOT_SHIPPED',
      severity: 'warning',
      message: `template "${name}" (used by ${m.who}${m.count > 1 ? ` and ${m.count - 1} more` : ''}) is not in ${path.relative(process.cwd(), TEMPLATES_DIR) || 'templates'} yet`,
      hint: `Add templates/${name}.yaml before executing a wave that uses it`,
    })
  }
}

/**
 * Every problem of a plan. `startedWaves`: the waves its state shows as started (they keep their dates); by default
 * the journal file beside the plan says, which knows nothing of a shared state backend's (see file-kinds.ts).
 */
export function checkPlan(plan: Plan, file?: string, startedWaves_?: readonly number[]): PathIssue[] {
  const issues: PathIssue[] = []
  const appIndex = new Map(plan.applications.map((a, i) => [a.name, i]))
  checkWaveLists(plan, appIndex, issues)
  checkTemplates(plan, file, issues)
  // Capacity, order and scope need the inventory; the calendar and the constraints do not.
  const model = file ? loadInventory(plan, file, issues) : undefined
  const started = new Set(
    startedWaves_ ?? (file ? startedWaves(path.join(path.dirname(path.resolve(file)), PLAN_FILES.journal)) : []),
  )
  const settings = checkSettings(plan.settings, ['settings'])
  issues.push(...settings.issues)
  if (settings.calendar)
    issues.push(
      ...checkWaveCalendar({plan, calendar: settings.calendar, environments: waveEnvironments(plan, model), started}),
    )
  issues.push(...checkConstraints(plan, settings.calendar))
  issues.push(...checkCapacity(plan, model, appIndex))
  if (model) issues.push(...checkAgainstInventory(plan, model, appIndex))
  else issues.push(...checkMoveGroupsAsWritten(plan), ...checkDroppedAsWritten(plan))
  return issues
}

/** The environments of each wave's applications: from the inventory, else the wave's own `environment`. */
function waveEnvironments(plan: Plan, model: EstateModel | undefined): (i: number) => string[] {
  return (i) => {
    const w = plan.waves[i]
    if (!model) return w.environment ? [w.environment] : []
    const envs = new Set<string>()
    for (const name of w.applications) {
      const mi = model.appIndex.get(name)
      if (mi !== undefined) envs.add(ENV_NAMES[model.apps[mi].env])
    }
    return [...envs]
  }
}

/** `before` and `together` constraints and pins, from the plan alone. */
function checkConstraints(plan: Plan, cal: Calendar | undefined): PathIssue[] {
  const issues: PathIssue[] = []
  const index = new Map(plan.applications.map((a, i) => [a.name, i]))
  const waveOf = (name: string) => plan.applications[index.get(name) ?? -1]?.wave ?? null
  const known = (name: string, p: PathIssue['path']): boolean => {
    if (index.has(name)) return true
    const near = nearest(name, [...index.keys()])
    issues.push({
      path: p,
      code: 'UNKNOWN_APP',
      message: `settings names "${name}", which is not in applications`,
      hint: near ? `Did you mean "${near}"?` : 'Fix the name, or remove it',
    })
    return false
  }
  plan.settings.constraints.forEach((c, i) => {
    if ('before' in c) {
      const [a, b] = c.before
      if (
        !known(a, ['settings', 'constraints', i, 'before', 0]) ||
        !known(b, ['settings', 'constraints', i, 'before', 1])
      )
        return
      const wa = waveOf(a)
      const wb = waveOf(b)
      if (wa !== null && wb !== null && wa >= wb) {
        issues.push({
          path: ['applications', index.get(b)!, 'wave'],
          code: 'BEFORE_CONSTRAINT',
          message: `"${b}" moves in wave ${wb}, but settings.constraints[${i}] says "${a}" (wave ${wa}) moves strictly before it`,
          hint: `Move "${b}" to wave ${wa + 1} or later, or "${a}" to wave ${wb - 1} or earlier, or re-plan`,
        })
      }
    } else {
      const names = c.together.filter((n, j) => known(n, ['settings', 'constraints', i, 'together', j]))
      const waves = [...new Set(names.map(waveOf))]
      if (waves.length > 1) {
        const first = waveOf(names[0])
        for (const n of names.filter((x) => waveOf(x) !== first))
          issues.push({
            path: ['applications', index.get(n)!, 'wave'],
            code: 'TOGETHER_CONSTRAINT',
            message: `"${n}" moves in wave ${waveOf(n) ?? 'null'}, but settings.constraints[${i}] keeps it together with ${names.filter((x) => x !== n).join(', ')} (wave ${first ?? 'null'})`,
            hint: `Put all of ${names.join(', ')} in one wave, or re-plan`,
          })
      }
    }
  })
  const cutoverDay = new Map(
    cal ? plan.waves.map((w) => [w.number, localOfIso(cal.timeZone, w.cutover.start).day]) : [],
  )
  plan.settings.pins.forEach((p, i) => {
    if (!known(p.app, ['settings', 'pins', i, 'app'])) return
    const w = waveOf(p.app)
    const at = ['applications', index.get(p.app)!, 'wave']
    if (p.wave !== undefined && w !== p.wave)
      issues.push({
        path: at,
        code: 'PIN_BROKEN',
        message: `"${p.app}" is in wave ${w ?? 'null'}, but settings.pins[${i}] pins it to wave ${p.wave}`,
        hint: `Put it back in wave ${p.wave}, or change the pin and re-plan`,
      })
    const day = w !== null ? cutoverDay.get(w) : undefined
    if (p.notBefore && day !== undefined && day < parseDay(p.notBefore))
      issues.push({
        path: at,
        code: 'PIN_BROKEN',
        message: `"${p.app}" cuts over on ${formatDay(day)} (wave ${w}), before ${p.notBefore}, the date settings.pins[${i}] allows`,
        hint: 'Move it to a wave that cuts over on or after that date, or change the pin and re-plan',
      })
  })
  return issues
}

function checkCapacity(plan: Plan, model: EstateModel | undefined, appIndex: Map<string, number>): PathIssue[] {
  const issues: PathIssue[] = []
  const cap = plan.settings.capacity
  plan.waves.forEach((w, i) => {
    const over: string[] = []
    if (w.applications.length > cap.apps) over.push(`${w.applications.length} applications (capacity.apps ${cap.apps})`)
    let servers = 0
    let data = 0
    let crit = 0
    for (const name of w.applications) {
      const a = plan.applications[appIndex.get(name) ?? -1]
      const mi = model?.appIndex.get(name)
      if (model && mi !== undefined) {
        const n = model.apps[mi]
        servers += n.servers.length
        data += n.dataGiB
        if (n.crit >= CRIT_ORDER.high) crit++
      } else if (a) servers += a.servers.length
    }
    if (servers > cap.servers) over.push(`${servers} servers (capacity.servers ${cap.servers})`)
    if (model && data > cap.dataTiB * 1024)
      over.push(`${(data / 1024).toFixed(1)} TiB (capacity.dataTiB ${cap.dataTiB})`)
    if (model && crit > cap.critical)
      over.push(`${crit} high/critical applications (capacity.critical ${cap.critical})`)
    if (over.length > 0)
      issues.push({
        path: ['waves', i, 'applications'],
        code: 'CAPACITY_EXCEEDED',
        message: `wave ${w.number} exceeds its capacity: ${over.join(', ')}`,
        hint: 'Move applications to another wave, or raise settings.capacity and re-plan',
      })
  })
  return issues
}
