// Preparing a wave: load the plan and templates, build each application's variable scope, and run the static
// pre-flight (templates and variables resolve, values exist, programs are on PATH, secrets are in the environment).
// Nothing here changes anything or talks to the network.
import path from 'node:path'
import {badInput} from '../errors.js'
import {diagnosticAt, parseSource, readText} from '../io/documents.js'
import {requiredEnv, templateStrings} from '../runbook/check.js'
import {evaluateWhen, redact, RenderError, renderArgv, renderString, type VarScope} from '../runbook/vars.js'
import type {AppPlan, Wave} from '../schema/plan.js'
import type {HealthCheck, RunbookTemplate, Step} from '../schema/template.js'
import {
  buildScope,
  findWave,
  loadPlanContext,
  loadTemplate,
  unitsOf,
  type LoadedTemplate,
  type PlanContext,
} from './context.js'
import type {CommonOptions, Finding, StepKind} from './types.js'
import {whichProgram} from './which.js'
import {PLAN_FILES} from '../paths.js'
import {readJournal} from '../state/journal.js'
import {didYouMean} from '../suggest.js'
import {replay, type Replay} from '../state/status.js'

export {whichProgram}

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

export function stepKind(s: Step): StepKind {
  return 'run' in s ? 'run' : 'check' in s ? 'check' : 'wait' in s ? 'wait' : 'gate'
}

/** Renders every string field of a check. A string port becomes a number. */
export function renderCheck(c: HealthCheck, scope: VarScope): HealthCheck {
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? renderString(v, scope)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v
  const out = walk(c) as HealthCheck
  // A command check's argv follows the rules of every argv (no value may start an argument with "-").
  if (c.type === 'command' && out.type === 'command') out.run = renderArgv(c.run, scope)
  if (out.type === 'tcp' && typeof out.port === 'string' && /^\d+$/.test(out.port)) out.port = Number(out.port)
  return out
}

export function renderEnv(
  env: Record<string, string> | undefined,
  scope: VarScope,
): Record<string, string> | undefined {
  if (!env) return undefined
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, renderString(v, scope)]))
}

/** Phases from which an application no longer serves from its source alone: its servers enter them together. */
const BARRIER_PHASES = new Set(['freeze', 'final-sync', 'cutover', 'verify', 'finalize'])

/**
 * The cutover barrier of a per-server runbook: the first step, at or after the first freeze/final-sync/cutover/
 * verify/finalize step, that is not a gate. Gates before it (approve the cutover) are decided by every server first.
 */
export function barrierIndex(steps: readonly Step[]): number | undefined {
  const first = steps.findIndex((s) => s.phase !== undefined && BARRIER_PHASES.has(s.phase))
  if (first < 0) return undefined
  const i = steps.findIndex((s, k) => k >= first && stepKind(s) !== 'gate')
  return i < 0 ? undefined : i
}

/** The first finalize step (the point of no return): every server soaks and is approved before any runs it. */
export function finalizeIndex(steps: readonly Step[]): number | undefined {
  const i = steps.findIndex((s) => s.finalize)
  return i < 0 ? undefined : i
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

/** Matches `--approve STEP` / `--approve APP/STEP` style lists (APP: any of the unit's names). */
export function matchesStep(
  list: readonly string[] | undefined,
  app: string | readonly string[],
  step: string,
): boolean {
  const names = typeof app === 'string' ? [app] : app
  return !!list && list.some((x) => x === step || names.some((n) => x === `${n}/${step}`))
}

export function prepareWave(opts: CommonOptions & {dryRun?: boolean; stepRefs?: string[]}, runId: string): WavePrep {
  const ctx = loadPlanContext(opts.planDir, {allowStale: opts.allowStale})
  const wave = findWave(ctx.plan, opts.wave)
  let names = wave.applications
  // --app selects an application with its database units, or one unit (APP:DATABASE_ID).
  const onlyUnits = new Map<string, Set<string>>()
  if (opts.apps && opts.apps.length > 0) {
    const whole = new Set<string>()
    const unknown: string[] = []
    for (const a of opts.apps) {
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
    names = names.filter((a) => whole.has(a) || onlyUnits.has(a))
  }
  const findings: Finding[] = []
  // Which units the journal already knows (by name), for applications whose template became per-server mid-wave.
  const journal = replay(readJournal(path.join(ctx.planDir, PLAN_FILES.journal)).events)
  const secrets = new Set<string>()
  const envFn = opts.env ?? ((n: string) => process.env[n])
  const which = (p: string): boolean => p === 'migrate' || (opts.deps?.which ?? whichProgram)(p)
  const apps: AppWork[] = []
  if (ctx.staleWarning)
    findings.push({
      severity: 'warning',
      code: 'STALE_PLAN',
      message: `running a stale plan (--allow-stale): ${ctx.staleWarning}`,
    })
  for (const appName of names) {
    const plan = ctx.plan.applications.find((a) => a.name === appName)
    if (!plan) {
      findings.push({
        severity: 'blocker',
        code: 'UNKNOWN_APP',
        app: appName,
        message: `wave ${wave.number} lists "${appName}", which is not in the plan's applications`,
        hint: 'Fix plan.yaml (migrate validate shows where)',
      })
      continue
    }
    const units = unitsOf(ctx.planDir, plan, journal.waves.get(wave.number)?.has(appName) ?? false)
    const selected = onlyUnits.get(appName)
    for (const unit of units) {
      if (selected && !selected.has(unit.name)) continue
      const name = unit.name
      const loaded = loadTemplate(ctx.planDir, unit.template)
      // A template's own problems once per application, not once per server.
      if (unit.serverIndex === undefined || unit.serverIndex === 0)
        for (const d of loaded.diagnostics) {
          findings.push({
            severity: d.severity === 'error' ? 'blocker' : d.severity,
            code: d.code,
            app: name,
            message: d.message,
            hint: d.hint,
            file: d.file ?? loaded.file,
            line: d.line,
            column: d.column,
          })
        }
      const template = loaded.template
      // A template that is not per-server but names {{ server.* }}, for an application on several servers, drives the
      // first of them only: say so before anything runs.
      if (
        template &&
        !unit.group &&
        unit.name === appName &&
        plan.servers.length > 1 &&
        templateStrings(template).some(({text}) => /\{\{\s*server\./.test(text))
      ) {
        findings.push({
          severity: 'warning',
          code: 'FIRST_SERVER_ONLY',
          app: appName,
          message: `template ${unit.template} uses {{ server.* }} but is not per-server, so of the ${plan.servers.length} servers of ${appName} it drives ${plan.servers[0].id} only`,
          hint: 'Set metadata.perServer: true in the template to run it once per server (they then cut over together), or give each server its own application',
          file: loaded.file,
        })
      }
      if (template?.metadata.perServer && unit.serverIndex === 0 && barrierIndex(template.steps) === undefined) {
        findings.push({
          severity: 'warning',
          code: 'NO_BARRIER',
          app: appName,
          message: `template ${unit.template} runs per server but has no freeze/final-sync/cutover/verify/finalize step, so the servers of ${appName} do not wait for each other`,
          hint: 'Give the steps that switch traffic a phase (cutover, verify, …) so that the servers of an application cut over together',
          file: loaded.file,
        })
      }
      const scope = template
        ? buildScope(ctx, wave, plan, template, runId, envFn, unit.dbIndex, unit.serverIndex)
        : {values: new Map(), secrets, env: envFn}
      scope.secrets = secrets
      apps.push({
        name,
        app: appName,
        ...(unit.group ? {group: unit.group} : {}),
        plan,
        templateName: unit.template,
        loaded,
        template,
        scope,
      })
      if (!template) continue
      for (const k of Object.keys(plan.params)) {
        if (!(k in template.metadata.params))
          findings.push({
            severity: 'info',
            code: 'UNUSED_PARAM',
            app: name,
            message: `the plan gives parameter "${k}", which template ${plan.template} does not declare`,
          })
      }
      // Every interpolated string must resolve (env.* aside: checked below, and never shown).
      const probe: VarScope = {values: new Map(scope.values), secrets: new Set(), env: () => 'x'}
      for (const st of template.steps) if (st.capture) probe.values.set(`steps.${st.capture}`, `<steps.${st.capture}>`)
      for (const {path: p, text} of templateStrings(template)) {
        if (p.includes('when')) continue
        try {
          renderString(text, probe)
        } catch (e) {
          if (!(e instanceof RenderError)) throw e
          const pos = positionIn(loaded, p)
          if (e.code)
            findings.push({
              severity: 'blocker',
              code: e.code,
              app: name,
              step: stepAt(template, p),
              message: `${e.message} (for ${name})`,
              hint: e.hint,
              file: loaded.file,
              line: pos?.line,
              column: pos?.column,
            })
          else
            findings.push({
              severity: 'blocker',
              code: 'MISSING_VALUE',
              app: name,
              step: stepAt(template, p),
              message: `{{ ${e.variable} }} has no value for ${name}`,
              hint: missingHint(e.variable),
              file: loaded.file,
              line: pos?.line,
              column: pos?.column,
            })
        }
      }
      // Every argv as argv: a value that would start an argument with "-" (an option to the program) is refused.
      template.steps.forEach((s, i) => {
        const lists: [(string | number)[], readonly string[] | undefined][] = [
          [['steps', i, 'run'], 'run' in s ? s.run : undefined],
          [['steps', i, 'rollback'], s.rollback],
          [['steps', i, 'check', 'run'], 'check' in s && s.check.type === 'command' ? s.check.run : undefined],
          [
            ['steps', i, 'wait', 'check', 'run'],
            'wait' in s && s.wait.check.type === 'command' ? s.wait.check.run : undefined,
          ],
          [['steps', i, 'soak', 'check', 'run'], s.soak?.check.type === 'command' ? s.soak.check.run : undefined],
        ]
        for (const [at, argv] of lists) {
          if (!argv) continue
          try {
            renderArgv(argv, probe)
          } catch (e) {
            if (!(e instanceof RenderError) || e.code !== 'OPTION_LIKE_VALUE') continue
            const k = argv.findIndex((a) => a.includes(`{{`) && a.includes(e.variable))
            const pos = positionIn(loaded, k >= 0 ? [...at, k] : at)
            findings.push({
              severity: 'blocker',
              code: e.code,
              app: name,
              step: s.id,
              message: `${e.message} (for ${name})`,
              hint: e.hint,
              file: loaded.file,
              line: pos?.line,
              column: pos?.column,
            })
          }
        }
      })
      // An argument that renders to nothing is almost always a missing parameter (`aws mgn … --source-server-id ""`).
      const empties: Finding[] = []
      const rendersEmpty = (text: string): boolean => {
        try {
          return renderString(text, probe).trim() === ''
        } catch {
          return false
        }
      }
      const emptyArgument = (s: {id: string}, at: (string | number)[], message: string): void => {
        const pos = positionIn(loaded, at)
        empties.push({
          severity: opts.dryRun ? 'warning' : 'blocker',
          code: 'EMPTY_ARGUMENT',
          app: name,
          step: s.id,
          message,
          hint: 'Set the parameter per application in plan.yaml (applications[].params), or guard the step with when:',
          file: loaded.file,
          line: pos?.line,
          column: pos?.column,
        })
      }
      template.steps.forEach((s, i) => {
        if (s.when !== undefined && !evaluateWhen(s.when, probe)) return
        const lists: [string, readonly string[] | undefined][] = [
          ['run', 'run' in s ? s.run : undefined],
          ['rollback', s.rollback],
        ]
        for (const [key, argv] of lists) {
          argv?.forEach((a, j) => {
            if (a.includes('{{') && rendersEmpty(a))
              emptyArgument(
                s,
                ['steps', i, key, j],
                `${key} argument ${JSON.stringify(a)} renders to an empty string for ${name}`,
              )
          })
        }
        const checks: [(string | number)[], HealthCheck | undefined][] = [
          [['check'], 'check' in s ? s.check : undefined],
          [['wait', 'check'], 'wait' in s ? s.wait.check : undefined],
          [['soak', 'check'], s.soak?.check],
        ]
        for (const [sub, c] of checks) {
          if (!c || (c.type !== 'http' && c.type !== 'tcp')) continue
          const field = c.type === 'http' ? 'url' : 'host'
          const raw = c.type === 'http' ? c.url : c.host
          if (rendersEmpty(raw))
            emptyArgument(
              s,
              ['steps', i, ...sub, field],
              `${c.type} check ${field} ${JSON.stringify(raw)} renders to an empty string for ${name}`,
            )
        }
      })
      if (empties.length <= 2) findings.push(...empties)
      else {
        // One finding per unit, naming the parameters to set, rather than one per argument.
        const names = new Set<string>()
        for (const s of template.steps) {
          for (const str of templateStrings({...template, steps: [s], preflight: []}).map((x) => x.text)) {
            for (const m of str.matchAll(/\{\{\s*((?:app\.)?params\.[A-Za-z0-9_.-]+)\s*(?:\|[^{}]*)?\}\}/g))
              if ((scope.values.get(m[1].replace(/^app\./, '')) ?? '') === '') names.add(m[1].replace(/^app\./, ''))
          }
        }
        const first = empties[0]
        findings.push({
          ...first,
          step: undefined,
          message: `${empties.length} arguments render to empty strings for ${name}, in steps ${[...new Set(empties.map((e) => e.step))].join(', ')}${names.size ? `: set ${[...names].join(', ')}` : ''}`,
          hint: `Set them per application in plan.yaml (applications[${plan.name}].params), or guard the steps with when:`,
        })
      }
      for (const envName of requiredEnv(template)) {
        const v = envFn(envName)
        if (v === undefined || v === '') {
          findings.push({
            severity: opts.dryRun ? 'warning' : 'blocker',
            code: 'MISSING_ENV',
            app: name,
            message: `environment variable ${envName} is not set (template ${plan.template} needs it)`,
            hint: `Export ${envName} before running (secrets come only from the environment)`,
          })
        } else secrets.add(v)
      }
      // Programs the steps call.
      const programs = new Map<string, string>()
      template.steps.forEach((s) => {
        const argvs: (readonly string[])[] = []
        if ('run' in s) argvs.push(s.run)
        if (s.rollback) argvs.push(s.rollback)
        for (const c of ['check' in s ? s.check : undefined, 'wait' in s ? s.wait.check : undefined, s.soak?.check])
          if (c?.type === 'command') argvs.push(c.run)
        for (const a of argvs) {
          try {
            const prog = renderArgv(a.slice(0, 1), probe)[0]
            if (!programs.has(prog)) programs.set(prog, s.id)
          } catch {
            /* reported above */
          }
        }
      })
      for (const p of template.preflight)
        if (p.check.type === 'command') programs.set(p.check.run[0], `preflight ${p.id}`)
      for (const [prog, step] of programs) {
        if (!which(prog))
          findings.push({
            severity: opts.dryRun ? 'warning' : 'blocker',
            code: 'PROGRAM_NOT_FOUND',
            app: name,
            step,
            message: `program "${prog}" (used by ${step}) is not on PATH`,
            hint: `Install it on this machine or fix the template ${loaded.file}`,
          })
      }
    }
  }
  // --approve / --retry-step / --skip-step must name real steps: a typo must not silently approve nothing.
  for (const ref of opts.stepRefs ?? []) {
    const ok = apps.some((a) =>
      a.template?.steps.some(
        (s) => ref === s.id || ref === `${a.name}/${s.id}` || (a.group !== undefined && ref === `${a.group}/${s.id}`),
      ),
    )
    const names = apps.flatMap(
      (a) =>
        a.template?.steps.flatMap((s) => [
          s.id,
          `${a.name}/${s.id}`,
          ...(a.group !== undefined ? [`${a.group}/${s.id}`] : []),
        ]) ?? [],
    )
    if (!ok)
      findings.push({
        severity: 'blocker',
        code: 'UNKNOWN_STEP',
        message: `"${ref}" names no step of the applications in wave ${wave.number}${didYouMean(ref, names)}`,
        hint: 'Use STEP or APP/STEP as `migrate execute wave N --dry-run` lists them',
      })
  }
  // Every finding is redacted (a value built from a secret, e.g. a host, must not show it).
  const said = perApplication(findings, apps).map((f) => ({
    ...f,
    message: redact(f.message, secrets),
    ...(f.hint ? {hint: redact(f.hint, secrets)} : {}),
  }))
  return {ctx, wave, apps, findings: said, secrets, journal}
}

/** Where a template path is in its file (parsed on demand: a valid template is loaded without its YAML nodes). */
function positionIn(loaded: LoadedTemplate, at: (string | number)[]): {line?: number; column?: number} | undefined {
  try {
    loaded.source ??= parseSource(loaded.file, readText(loaded.file)).source
    return diagnosticAt(loaded.source, at, {code: 'POSITION', message: ''})
  } catch {
    return undefined
  }
}

function stepAt(t: RunbookTemplate, p: (string | number)[]): string | undefined {
  return p[0] === 'steps' && typeof p[1] === 'number'
    ? t.steps[p[1]]?.id
    : p[0] === 'preflight' && typeof p[1] === 'number'
      ? `preflight ${t.preflight[p[1]]?.id}`
      : undefined
}

function missingHint(v: string): string {
  if (v.startsWith('server.'))
    return 'The application has no server in the plan, or the inventory server lacks that field: fix inventory.yaml, or guard the step with when:'
  if (v.startsWith('database.'))
    return 'The application has no database in the plan, or the inventory database lacks that field: fix inventory.yaml, or guard the step with when:'
  if (v.startsWith('params.') || v.startsWith('app.params.'))
    return 'Give the parameter a default in metadata.params or set it per application in plan.yaml'
  if (v.startsWith('app.')) return 'Fill that field for the application in inventory.yaml'
  return 'Fill that value in the plan or inventory'
}
