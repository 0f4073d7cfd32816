// Preparing a wave: load the plan and templates, build each unit's variable scope (resolve), and run the static
// pre-flight (templates and variables resolve, values exist, programs are on PATH, secrets are in the environment).
// Nothing here changes anything or talks to the network.
import path from 'node:path'
import {badInput} from '../errors.js'
import {PLAN_FILES} from '../paths.js'
import {whichProgram} from '../process/which.js'
import {templateStrings} from '../runbook/check.js'
import {redact, type VarScope} from '../runbook/vars.js'
import type {AppPlan, Wave} from '../schema/plan.js'
import type {RunbookTemplate} from '../schema/template.js'
import type {JournalEvent} from '../schema/state.js'
import {readJournal} from '../state/journal.js'
import {type Replay, replay} from '../state/status.js'
import {didYouMean} from '../suggest.js'
import {barrierIndex} from './barriers.js'
import {
  buildScope,
  findWave,
  type LoadedTemplate,
  loadPlanContext,
  loadTemplate,
  type PlanContext,
  unitsOf,
} from './context.js'
import {staticPreflight} from './static-preflight.js'
import {startedWavesOf} from '../state/started-waves.js'
import type {CommonOptions, Finding} from './types.js'

/**
 * One unit of work in a wave: an application's own runbook (name = the application), the runbook of one of its
 * databases that the plan gives a template (name = APP:DATABASE_ID, {{ database.* }} bound to that database), or,
 * for a per-server template, the runbook of one of its servers (name = APP:SERVER_ID, {{ server.* }} bound to it).
 */
export interface AppWork {
  name: string
  /** The plan application it belongs to. */
  app: string
  /** Set on the units of a per-server template: they wait for each other before cutover and roll back together. */
  group?: string
  plan: AppPlan
  templateName: string
  loaded: LoadedTemplate
  template?: RunbookTemplate
  scope: VarScope
}

export interface WavePrep {
  ctx: PlanContext
  wave: Wave
  apps: AppWork[]
  findings: Finding[]
  /** Every secret value read while rendering, shared by all scopes: redacted from every output. */
  secrets: Set<string>
  /** The journal as it was when the wave was prepared (before any lock: execute reads it again once it holds one). */
  journal: Replay
}

/** events: the journal as the state backend holds it (a shared backend); absent, the journal file is read. */
type PrepareOptions = CommonOptions & {dryRun?: boolean; stepRefs?: string[]; events?: readonly JournalEvent[]}

/** What loading the units of a wave shares. */
interface Loading {
  ctx: PlanContext
  wave: Wave
  runId: string
  journal: Replay
  secrets: Set<string>
  env: (n: string) => string | undefined
  findings: Finding[]
}

/**
 * The servers of a per-server runbook share their template and parameters, so most findings are the same for each of
 * them but for the unit's name: such a finding is said once, for the application, with how many servers it concerns.
 * A finding about one server only (an empty {{ server.hostname }} of that server) stays that server's.
 */
function perApplication(findings: Finding[], apps: readonly AppWork[]): Finding[] {
  const groupOf = new Map(apps.flatMap((a) => (a.group !== undefined ? [[a.name, a.group] as const] : [])))
  const servers = new Map<string, number>()
  for (const g of groupOf.values()) servers.set(g, (servers.get(g) ?? 0) + 1)
  const keyed = findings.map((f) => {
    const group = f.app !== undefined ? groupOf.get(f.app) : undefined
    if (group === undefined) return {f}
    const message = f.message.split(f.app!).join(group)
    return {f, group, message, key: [f.severity, f.code, f.step, f.file, f.line, f.column, message].join('\u0000')}
  })
  const count = new Map<string, number>()
  for (const k of keyed) if (k.key !== undefined) count.set(k.key, (count.get(k.key) ?? 0) + 1)
  const said = new Set<string>()
  const out: Finding[] = []
  for (const k of keyed) {
    const n = k.key !== undefined ? count.get(k.key)! : 1
    if (k.key === undefined || n === 1) out.push(k.f)
    else if (!said.has(k.key)) {
      said.add(k.key)
      out.push({
        ...k.f,
        app: k.group,
        message: `${k.message} (the same for ${n === servers.get(k.group!) ? 'all ' : ''}${n} of its servers)`,
      })
    }
  }
  return out
}

/**
 * The applications of the wave to run, and for those selected by unit (--app APP:DATABASE_ID), which units: --app
 * selects an application with its database units, or one unit.
 */
function selectApplications(
  wave: Wave,
  apps: string[] | undefined,
): {names: string[]; onlyUnits: Map<string, Set<string>>} {
  const onlyUnits = new Map<string, Set<string>>()
  const names = wave.applications
  if (!apps || apps.length === 0) return {names, onlyUnits}
  const whole = new Set<string>()
  const unknown: string[] = []
  for (const a of apps) {
    if (names.includes(a)) whole.add(a)
    else {
      const owner = names.find((n) => a.startsWith(`${n}:`))
      if (owner) onlyUnits.set(owner, (onlyUnits.get(owner) ?? new Set()).add(a))
      else unknown.push(a)
    }
  }
  if (unknown.length > 0)
    throw badInput(
      `not in wave ${wave.number}: ${unknown.join(', ')}`,
      'UNKNOWN_APP',
      `Wave ${wave.number} has ${names.join(', ') || 'no applications'} (a database runbook is APP:DATABASE_ID)`,
    )
  for (const w of whole) onlyUnits.delete(w)
  return {names: names.filter((a) => whole.has(a) || onlyUnits.has(a)), onlyUnits}
}

/** Warnings about how a template drives the servers of an application. */
function serverFindings(unit: ReturnType<typeof unitsOf>[number], plan: AppPlan, loaded: LoadedTemplate): Finding[] {
  const template = loaded.template
  const out: Finding[] = []
  // A template that is not per-server but names {{ server.* }}, for an application on several servers, drives the
  // first of them only: say so before anything runs.
  if (
    template &&
    !unit.group &&
    unit.name === plan.name &&
    plan.servers.length > 1 &&
    templateStrings(template).some(({text}) => /\{\{\s*server\./.test(text))
  )
    out.push({
      severity: 'warning',
      code: 'FIRST_SERVER_ONLY',
      app: plan.name,
      message: `template ${unit.template} uses {{ server.* }} but is not per-server, so of the ${plan.servers.length} servers of ${plan.name} it drives ${plan.servers[0].id} only`,
      hint: 'Set metadata.perServer: true in the template to run it once per server (they then cut over together), or give each server its own application',
      file: loaded.file,
    })
  if (template?.metadata.perServer && unit.serverIndex === 0 && barrierIndex(template.steps) === undefined)
    out.push({
      severity: 'warning',
      code: 'NO_BARRIER',
      app: plan.name,
      message: `template ${unit.template} runs per server but has no freeze/final-sync/cutover/verify/finalize step, so the servers of ${plan.name} do not wait for each other`,
      hint: 'Give the steps that switch traffic a phase (cutover, verify, …) so that the servers of an application cut over together',
      file: loaded.file,
    })
  return out
}

/** Loads one unit's template (its own problems once per application, not once per server) and builds its scope. */
function loadUnit(l: Loading, plan: AppPlan, unit: ReturnType<typeof unitsOf>[number]): AppWork {
  const loaded = loadTemplate(l.ctx.planDir, unit.template)
  if (unit.serverIndex === undefined || unit.serverIndex === 0)
    for (const d of loaded.diagnostics)
      l.findings.push({
        severity: d.severity === 'error' ? 'blocker' : d.severity,
        code: d.code,
        app: unit.name,
        message: d.message,
        hint: d.hint,
        file: d.file ?? loaded.file,
        line: d.line,
        column: d.column,
      })
  l.findings.push(...serverFindings(unit, plan, loaded))
  const template = loaded.template
  const scope = template
    ? buildScope(l.ctx, l.wave, plan, template, l.runId, l.env, unit.dbIndex, unit.serverIndex)
    : {values: new Map(), secrets: l.secrets, env: l.env}
  scope.secrets = l.secrets
  return {
    name: unit.name,
    app: plan.name,
    ...(unit.group ? {group: unit.group} : {}),
    plan,
    templateName: unit.template,
    loaded,
    template,
    scope,
  }
}

/** --approve / --retry-step / --skip-step must name real steps: a typo must not silently approve nothing. */
function unknownStepRefs(refs: readonly string[], apps: readonly AppWork[], wave: number): Finding[] {
  const names = apps.flatMap(
    (a) =>
      a.template?.steps.flatMap((s) => [
        s.id,
        `${a.name}/${s.id}`,
        ...(a.group !== undefined ? [`${a.group}/${s.id}`] : []),
      ]) ?? [],
  )
  return refs
    .filter((ref) => !names.includes(ref))
    .map((ref) => ({
      severity: 'blocker' as const,
      code: 'UNKNOWN_STEP',
      message: `"${ref}" names no step of the applications in wave ${wave}${didYouMean(ref, names)}`,
      hint: 'Use STEP or APP/STEP as `migrate execute wave N --dry-run` lists them',
    }))
}

export function prepareWave(opts: PrepareOptions, runId: string): WavePrep {
  // A shared backend's events (opts.events) say which waves started; the journal file beside the plan knows none.
  const startedWaves = opts.events ? startedWavesOf(opts.events) : undefined
  const ctx = loadPlanContext(opts.planDir, {allowStale: opts.allowStale, startedWaves})
  const wave = findWave(ctx.plan, opts.wave)
  const {names, onlyUnits} = selectApplications(wave, opts.apps)
  // Which units the journal already knows (by name), for applications whose template became per-server mid-wave.
  const journal = replay(opts.events ?? readJournal(path.join(ctx.planDir, PLAN_FILES.journal)).events)
  const l: Loading = {
    ctx,
    wave,
    runId,
    journal,
    secrets: new Set(),
    env: opts.env ?? ((n) => process.env[n]),
    findings: [],
  }
  const which = (p: string): boolean => p === 'migrate' || (opts.deps?.which ?? whichProgram)(p)
  const apps: AppWork[] = []
  if (ctx.staleWarning)
    l.findings.push({
      severity: 'warning',
      code: 'STALE_PLAN',
      message: `running a stale plan (--allow-stale): ${ctx.staleWarning}`,
    })
  for (const appName of names) {
    const plan = ctx.plan.applications.find((a) => a.name === appName)
    if (!plan) {
      l.findings.push({
        severity: 'blocker',
        code: 'UNKNOWN_APP',
        app: appName,
        message: `wave ${wave.number} lists "${appName}", which is not in the plan's applications`,
        hint: 'Fix plan.yaml (migrate validate shows where)',
      })
      continue
    }
    const selected = onlyUnits.get(appName)
    for (const unit of unitsOf(ctx.planDir, plan, journal.waves.get(wave.number)?.has(appName) ?? false)) {
      if (selected && !selected.has(unit.name)) continue
      const w = loadUnit(l, plan, unit)
      apps.push(w)
      if (w.template)
        l.findings.push(...staticPreflight(w, {dryRun: opts.dryRun, env: l.env, which, secrets: l.secrets}))
    }
  }
  l.findings.push(...unknownStepRefs(opts.stepRefs ?? [], apps, wave.number))
  // Every finding is redacted (a value built from a secret, e.g. a host, must not show it).
  const said = perApplication(l.findings, apps).map((f) => ({
    ...f,
    message: redact(f.message, l.secrets),
    ...(f.hint ? {hint: redact(f.hint, l.secrets)} : {}),
  }))
  return {ctx, wave, apps, findings: said, secrets: l.secrets, journal}
}
