// Semantic checks of a (possibly hand-edited) plan, beyond its schema: applications and waves that agree, move
// groups kept whole, capacity per wave, cutovers outside blackouts, known applications and templates. With the
// inventory (metadata.inventory, relative to the plan file) the checks count servers, data and criticality too.
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {parse} from 'yaml'
import {nearest} from '../inventory/check.js'
import {loadWithSchema} from '../io/documents.js'
import {TEMPLATES_DIR} from '../paths.js'
import {Inventory} from '../schema/inventory.js'
import type {PathIssue} from '../schema/issues.js'
import type {Plan} from '../schema/plan.js'
import {Calendar, formatDay, dayOfIso} from './calendar.js'
import {buildModel, CRIT_ORDER, DB_TEMPLATES, NO_TEMPLATE, REHOST_TEMPLATES, type EstateModel} from './model.js'

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
    issues.push({path: ['metadata', 'inventory'], code: 'INVENTORY_NOT_FOUND', severity: 'warning', message: `the inventory ${plan.metadata.inventory} is not there; servers, data and criticality are not checked`, hint: 'Fix metadata.inventory (a path relative to the plan file)'})
    return undefined
  }
  const loaded = loadWithSchema(invFile, Inventory)
  if (!loaded.value) {
    issues.push({path: ['metadata', 'inventory'], code: 'INVENTORY_INVALID', severity: 'warning', message: `the inventory ${plan.metadata.inventory} has errors; servers, data and criticality are not checked`, hint: `Run \`migrate validate ${invFile}\``})
    return undefined
  }
  try {
    return buildModel(loaded.value, plan.settings)
  } catch (error) {
    issues.push({path: ['metadata', 'inventory'], code: 'INVENTORY_UNUSABLE', severity: 'warning', message: `the inventory cannot be planned (${(error as Error).message}); servers, data and criticality are not checked`})
    return undefined
  }
}

export function checkPlan(plan: Plan, file?: string): PathIssue[] {
  const issues: PathIssue[] = []
  const waveNumbers = new Set(plan.waves.map((w) => w.number))
  const appIndex = new Map(plan.applications.map((a, i) => [a.name, i]))
  const appNames = [...appIndex.keys()]
  const listedIn = new Map<string, number>()
  plan.waves.forEach((w, i) => {
    w.applications.forEach((name, j) => {
      const ai = appIndex.get(name)
      if (ai === undefined) {
        const near = nearest(name, appNames)
        issues.push({path: ['waves', i, 'applications', j], code: 'UNKNOWN_APP', message: `wave ${w.number} lists "${name}", which is not in applications`, hint: near ? `Did you mean "${near}"?` : 'Add the application or remove it from the wave'})
        return
      }
      if (listedIn.has(name)) issues.push({path: ['waves', i, 'applications', j], code: 'APP_IN_TWO_WAVES', message: `"${name}" is listed in wave ${listedIn.get(name)} and wave ${w.number}`, hint: 'An application moves in exactly one wave: remove one of the two'})
      else listedIn.set(name, w.number)
      const declared = plan.applications[ai].wave
      if (declared !== w.number) issues.push({path: ['waves', i, 'applications', j], code: 'WAVE_MISMATCH', message: `wave ${w.number} lists "${name}", but its applications entry says wave ${declared ?? 'null'}`, hint: `Make applications[${ai}].wave ${w.number}, or move the name to the right wave`})
    })
  })
  plan.applications.forEach((a, i) => {
    if (a.wave !== null && !waveNumbers.has(a.wave)) issues.push({path: ['applications', i, 'wave'], code: 'UNKNOWN_WAVE', message: `application "${a.name}" is in wave ${a.wave}, which does not exist`, hint: `Use one of: ${[...waveNumbers].join(', ') || 'none defined'}`})
    else if (a.wave !== null && !listedIn.has(a.name)) issues.push({path: ['applications', i, 'wave'], code: 'WAVE_MISMATCH', message: `application "${a.name}" says wave ${a.wave}, but that wave does not list it`, hint: `Add "${a.name}" to the applications of wave ${a.wave}`})
  })

  // Move groups kept whole.
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
    const first = ms[0].wave
    for (const m of ms) {
      if (m.wave === first) continue
      issues.push({path: ['applications', m.i, 'wave'], code: 'MOVE_GROUP_SPLIT', message: `move group ${name} is split across waves ${waves.join(' and ')}: ${ms.map((x) => `${x.name} (wave ${x.wave})`).join(', ')}`, hint: `Its applications depend on each other (a cycle, a latency-sensitive link or a together constraint): put "${m.name}" in wave ${first} with the others`})
    }
  }

  // Templates.
  const known = knownTemplates(file)
  const missing = new Map<string, {path: PathIssue['path']; who: string; count: number}>()
  const templateIssue = (p: PathIssue['path'], name: string, who: string) => {
    if (known.has(name)) return
    if (BUILT_IN.has(name)) {
      const m = missing.get(name)
      if (m) m.count++
      else missing.set(name, {path: p, who, count: 1})
    } else {
      const near = nearest(name, [...known])
      issues.push({path: p, code: 'UNKNOWN_TEMPLATE', message: `${who} uses template "${name}", which does not exist`, hint: near ? `Did you mean "${near}"?` : `Use one of: ${[...known].sort().join(', ')}`})
    }
  }
  plan.applications.forEach((a, i) => {
    templateIssue(['applications', i, 'template'], a.template, `application "${a.name}"`)
    a.databases.forEach((d, j) => {
      if (d.template) templateIssue(['applications', i, 'databases', j, 'template'], d.template, `database "${d.id}"`)
    })
  })

  for (const [name, m] of missing) {
    issues.push({path: m.path, code: 'TEMPLATE_NOT_SHIPPED', severity: 'warning', message: `template "${name}" (used by ${m.who}${m.count > 1 ? ` and ${m.count - 1} more` : ''}) is not in ${path.relative(process.cwd(), TEMPLATES_DIR) || 'templates'} yet`, hint: `Add templates/${name}.yaml before executing a wave that uses it`})
  }

  // Cutovers outside blackouts.
  let cal: Calendar | undefined
  try {
    cal = new Calendar(plan.settings)
  } catch (error) {
    issues.push({path: ['settings', 'timezone'], code: 'BAD_TIMEZONE', message: (error as Error).message, hint: 'Use an IANA zone name such as Asia/Jakarta'})
  }
  if (cal) {
    plan.waves.forEach((w, i) => {
      const b = cal!.cutoverBlackout(w.cutover.start, w.cutover.end)
      if (b) {
        const next = cal!.nextCutover(dayOfIso(cal!.timeZone, w.cutover.start))
        issues.push({path: ['waves', i, 'cutover', 'start'], code: 'CUTOVER_IN_BLACKOUT', message: `wave ${w.number} cuts over on ${w.cutover.start.slice(0, 10)}, inside the blackout "${b}"`, hint: `The next free cutover window is ${formatDay(next.day)}; move the cutover there or re-plan`})
      }
    })
  }

  // Capacity, with the inventory when it can be read.
  const model = file ? loadInventory(plan, file, issues) : undefined
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
    if (model && data > cap.dataTiB * 1024) over.push(`${(data / 1024).toFixed(1)} TiB (capacity.dataTiB ${cap.dataTiB})`)
    if (model && crit > cap.critical) over.push(`${crit} high/critical applications (capacity.critical ${cap.critical})`)
    if (over.length > 0) issues.push({path: ['waves', i, 'applications'], code: 'CAPACITY_EXCEEDED', message: `wave ${w.number} exceeds its capacity: ${over.join(', ')}`, hint: 'Move applications to another wave, or raise settings.capacity and re-plan'})
  })
  if (model) {
    plan.applications.forEach((a, i) => {
      if (!model.appIndex.has(a.name)) {
        const near = nearest(a.name, [...model.appIndex.keys()])
        issues.push({path: ['applications', i, 'name'], code: 'UNKNOWN_APP', message: `application "${a.name}" is not in the inventory ${plan.metadata.inventory}`, hint: near ? `Did you mean "${near}"?` : 'Remove it, or re-plan from the current inventory'})
      }
    })
    // A dependency target moving later than its user leaves the user calling across sites: worth a warning.
    const waveOf = new Map(plan.applications.map((a) => [a.name, a.wave]))
    const {edges, apps} = model
    for (let e = 0; e < edges.count; e++) {
      const from = apps[edges.from[e]].name
      const to = apps[edges.to[e]].name
      const wf = waveOf.get(from)
      const wt = waveOf.get(to)
      if (wf && wt && wt > wf) issues.push({path: ['applications', appIndex.get(from)!, 'wave'], code: 'DEPENDENCY_ORDER', severity: 'warning', message: `"${from}" (wave ${wf}) depends on "${to}", which moves later (wave ${wt})`, hint: `Move "${to}" to wave ${wf} or earlier, or "${from}" later`})
    }
  }
  return issues
}
