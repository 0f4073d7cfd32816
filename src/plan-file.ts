// The IO shell around assemblePlan: read the inventory, the settings (a settings file, the plan's own, flags on
// top) and the state journal; plan; compare with the plan on disk; write plan.yaml atomically unless --diff.
import {existsSync} from 'node:fs'
import path from 'node:path'
import {badInput} from './errors.js'
import {loadWithSchema, readText} from './io/documents.js'
import {schemaHeader, toYaml} from './io/write-yaml.js'
import {writeFileAtomic} from './io/atomic.js'
import {PLAN_FILES} from './paths.js'
import {inventoryDigest} from './inventory/digest.js'
import type {Inventory} from './schema/inventory.js'
import {loadKind} from './file-kinds.js'
import {Plan, PlanSettings, type PlanSettingsInput, type SettingsFile} from './schema/plan.js'
import type {z} from 'zod'
import {startedWaves} from './state/started-waves.js'
import {assemble, type PriorState} from './planner/assemble-plan.js'
import {baselineQuality, type Quality} from './planner/quality.js'

export interface PlanOverrides {
  startDate?: string
  deadline?: string
  timezone?: string
  waveCadenceDays?: number
}

export interface PlanRequest {
  planDir: string
  inventoryFile?: string
  settingsFile?: string
  overrides: PlanOverrides
  /** Compute and compare only; write nothing. */
  dryRun: boolean
  /** Waves a shared state backend shows as started (with the journal file's, they are kept). */
  startedWaves?: number[]
}

export interface AppChange {
  app: string
  from: number | null
  to: number | null
}

/** An application whose runbook template changed (e.g. local-demo → aws-mgn-rehost when a strategy rule is gone). */
export interface RunbookChange {
  app: string
  from: string
  to: string
}

/** A target that changed for a server or database that is in both plans (a resize in the inventory, a new catalog). */
export interface TargetChange {
  app: string
  id: string
  kind: 'server' | 'database'
  from: string
  to: string
}

export interface WaveChange {
  wave: number
  what: 'added' | 'removed' | 'dates' | 'applications'
  from?: string
  to?: string
}

export interface PlanResult {
  planFile: string
  inventoryFile: string
  settingsFrom: string
  written: boolean
  /** A plan.yaml existed before this run. */
  previous: boolean
  /** The new plan differs from the one on disk (or there was none). */
  changed: boolean
  keptWaves: number[]
  changes: PlanChanges
  plan: Plan
  quality: Quality
  baseline: Quality
  warnings: string[]
}

function settingsFrom(
  req: PlanRequest,
  planFile: string,
  existing: Plan | undefined,
): {base: PlanSettingsInput | undefined; from: string} {
  const fromFile = (file: string) => ({
    base: loadKind<z.infer<typeof SettingsFile>>('settings', file).value.settings as PlanSettingsInput,
    from: file,
  })
  if (req.settingsFile) return fromFile(req.settingsFile)
  const local = path.join(req.planDir, PLAN_FILES.settings)
  if (existsSync(local)) return fromFile(local)
  if (existing) return {base: existing.settings, from: `${planFile} (settings)`}
  return {base: undefined, from: 'flags'}
}

/** The plan on disk, if any, and its text; one that fails the schema is replaced (with a warning). */
function readExisting(planFile: string, warnings: string[]): {existing?: Plan; existingText?: string} {
  if (!existsSync(planFile)) return {}
  const existingText = readText(planFile)
  const loaded = loadWithSchema(planFile, Plan, existingText)
  if (!loaded.value)
    warnings.push(
      `${planFile} does not match the plan schema; it is replaced (run \`migrate validate ${planFile}\` to see why)`,
    )
  return {existing: loaded.value ?? undefined, existingText}
}

/** The settings: from the settings file (or the plan on disk), overridden by flags; refused when missing or invalid. */
function resolveSettings(
  req: PlanRequest,
  planFile: string,
  existing: Plan | undefined,
): {settings: PlanSettings; from: string} {
  const {base, from} = settingsFrom(req, planFile, existing)
  const overrides = Object.fromEntries(Object.entries(req.overrides).filter(([, v]) => v !== undefined))
  if (!base && overrides.startDate === undefined) {
    throw badInput(
      `no planning settings: neither ${path.join(req.planDir, PLAN_FILES.settings)} nor a plan.yaml exists, and no --start was given`,
      'SETTINGS_REQUIRED',
      `Pass --start YYYY-MM-DD (and --deadline), or --settings FILE, or write ${path.join(req.planDir, PLAN_FILES.settings)} (see \`migrate schema settings\`)`,
    )
  }
  const parsed = PlanSettings.safeParse({...base, ...overrides})
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`)
    throw badInput(
      `invalid planning settings (from ${from} and flags): ${issues.join('; ')}`,
      'BAD_SETTINGS',
      'Fix the value named (dates as YYYY-MM-DD), in the settings file or the flag',
    )
  }
  return {settings: parsed.data, from}
}

/** The waves the journal (and a shared state backend) show as started, and the previous plan they are kept from (refused when it is missing). */
function priorOf(
  req: PlanRequest,
  planFile: string,
  existing: Plan | undefined,
): {prior?: PriorState; started: number[]} {
  const fromFile = startedWaves(path.join(req.planDir, PLAN_FILES.journal))
  const started = [...new Set([...fromFile, ...(req.startedWaves ?? [])])].sort((a, b) => a - b)
  if (started.length > 0 && !existing) {
    throw badInput(
      `the state journal shows wave${started.length === 1 ? '' : 's'} ${started.join(', ')} started, but ${planFile} is missing or unreadable, so they cannot be kept`,
      'STARTED_WAVES_WITHOUT_PLAN',
      `Restore ${planFile} from git before re-planning`,
    )
  }
  // The plan on disk is the previous plan: started waves are kept, and the rest moves as little as the rules allow.
  return {prior: existing ? {plan: existing, startedWaves: started} : undefined, started}
}

/** The plan as written to plan.yaml: schema header, a comment, the YAML. */
function planText(planFile: string, plan: Plan): string {
  return (
    schemaHeader('plan', planFile) +
    '# Written by `migrate plan`. Change the settings (settings.yaml or flags) and re-plan rather than editing waves by hand;\n# `migrate validate` checks a hand-edited plan.\n' +
    toYaml(plan)
  )
}

export function runPlan(req: PlanRequest): PlanResult {
  const planFile = path.join(req.planDir, PLAN_FILES.plan)
  const inventoryFile = req.inventoryFile ?? path.join(req.planDir, PLAN_FILES.inventory)
  const warnings: string[] = []
  const invText = readText(inventoryFile)
  const inventory = loadKind<Inventory>('inventory', inventoryFile, invText).value
  const {existing, existingText} = readExisting(planFile, warnings)
  const {settings, from} = resolveSettings(req, planFile, existing)
  const {prior, started} = priorOf(req, planFile, existing)
  const rel = path.relative(req.planDir, inventoryFile).split(path.sep).join('/') || PLAN_FILES.inventory
  const {plan, quality} = assemble(inventory, settings, prior, {
    name: path.basename(path.resolve(req.planDir)).replace(/[^A-Za-z0-9._:/-]/g, '-') || inventory.metadata.name,
    inventoryPath: rel,
    inventoryDigest: inventoryDigest(inventory),
  })
  const checked = Plan.safeParse(plan)
  if (!checked.success)
    throw new Error(
      `the planner produced a plan that fails its own schema: ${checked.error.issues[0]?.message} at ${checked.error.issues[0]?.path.join('.')}`,
    )
  const text = planText(planFile, plan)
  // The schema header is where this copy sits relative to the package's schemas, not part of the plan.
  const body = (t: string): string => t.replace(/^# yaml-language-server:[^\n]*\n/, '')
  const changed = existingText === undefined || body(text) !== body(existingText)
  const changes = diffPlans(existing, plan)
  const firstStart = plan.waves[0]?.replicationStart
  if (firstStart && Date.parse(firstStart) < Date.now())
    warnings.push(
      `the plan starts in the past (wave ${plan.waves[0].number} replicates from ${firstStart.slice(0, 10)}, settings.startDate ${settings.startDate}): pass --start YYYY-MM-DD or change startDate in ${from}`,
    )
  const baseline = baselineQuality(inventory, settings)
  const written = !req.dryRun && changed
  if (written) writeFileAtomic(planFile, text)
  return {
    planFile,
    inventoryFile,
    settingsFrom: from,
    written,
    previous: existingText !== undefined,
    changed,
    keptWaves: prior && started.length > 0 ? started.filter((n) => existing!.waves.some((w) => w.number === n)) : [],
    changes,
    plan,
    quality,
    baseline,
    warnings,
  }
}

export interface PlanChanges {
  apps: AppChange[]
  waves: WaveChange[]
  runbooks: RunbookChange[]
  targets: TargetChange[]
  /** Applications in a wave in either plan, and how many of them changed wave. */
  appsMoved: number
  appsPlanned: number
}

/** What moved between two plans: applications that changed wave, waves added, removed or moved in time, targets resized. */
export function diffPlans(before: Plan | undefined, after: Plan): PlanChanges {
  const apps: AppChange[] = []
  const waves: WaveChange[] = []
  const old = new Map((before?.applications ?? []).map((a) => [a.name, a.wave]))
  const now = new Map(after.applications.map((a) => [a.name, a.wave]))
  for (const name of [...new Set([...old.keys(), ...now.keys()])].sort()) {
    const f = old.has(name) ? old.get(name)! : null
    const t = now.has(name) ? now.get(name)! : null
    if (f !== t || old.has(name) !== now.has(name)) apps.push({app: name, from: f, to: t})
  }
  const ow = new Map((before?.waves ?? []).map((w) => [w.number, w]))
  const nw = new Map(after.waves.map((w) => [w.number, w]))
  for (const n of [...new Set([...ow.keys(), ...nw.keys()])].sort((a, b) => a - b)) {
    const o = ow.get(n)
    const w = nw.get(n)
    if (!o) waves.push({wave: n, what: 'added', to: w!.cutover.start})
    else if (!w) waves.push({wave: n, what: 'removed', from: o.cutover.start})
    else {
      if (o.cutover.start !== w.cutover.start)
        waves.push({wave: n, what: 'dates', from: o.cutover.start, to: w.cutover.start})
      if (o.applications.join(',') !== w.applications.join(','))
        waves.push({wave: n, what: 'applications', from: o.applications.join(', '), to: w.applications.join(', ')})
    }
  }
  const oldTemplate = new Map((before?.applications ?? []).map((a) => [a.name, a.template]))
  const runbooks = after.applications
    .filter((a) => oldTemplate.has(a.name) && oldTemplate.get(a.name) !== a.template)
    .map((a) => ({app: a.name, from: oldTemplate.get(a.name)!, to: a.template}))
  const targets: TargetChange[] = []
  const oldApps = new Map((before?.applications ?? []).map((a) => [a.name, a]))
  for (const a of after.applications) {
    const o = oldApps.get(a.name)
    if (!o) continue
    const oldServers = new Map(o.servers.map((x) => [x.id, x]))
    for (const x of a.servers) {
      const y = oldServers.get(x.id)
      if (y && y.instanceType !== x.instanceType)
        targets.push({app: a.name, id: x.id, kind: 'server', from: y.instanceType, to: x.instanceType})
    }
    const oldDbs = new Map(o.databases.map((x) => [x.id, x]))
    for (const x of a.databases) {
      const y = oldDbs.get(x.id)
      if (y && (y.instanceClass !== x.instanceClass || y.service !== x.service))
        targets.push({
          app: a.name,
          id: x.id,
          kind: 'database',
          from: `${y.service} ${y.instanceClass}`,
          to: `${x.service} ${x.instanceClass}`,
        })
    }
  }
  const planned = new Set(
    [...(before?.applications ?? []), ...after.applications].filter((a) => a.wave !== null).map((a) => a.name),
  )
  const appsMoved = apps.filter((c) => c.from !== null && c.to !== null).length
  return {apps, waves, runbooks, targets, appsMoved, appsPlanned: planned.size}
}
