// The static pre-flight of one unit's runbook, before anything runs or talks to the network: every interpolated
// string resolves, no value becomes an option of a program, no argument renders empty, the environment variables it
// needs are set (their values become secrets to redact), and the programs it calls are on PATH.
import {diagnosticAt, parseSource, readText} from '../io/documents.js'
import {requiredEnv, templateStrings} from '../runbook/check.js'
import {evaluateWhen, RenderError, renderArgv, renderString, type VarScope} from '../runbook/vars.js'
import type {HealthCheck, RunbookTemplate, Step} from '../schema/template.js'
import type {LoadedTemplate} from './context.js'
import type {AppWork} from './prepare.js'
import type {Finding} from './types.js'

/** What the checks of one unit share. */
interface Probe {
  w: AppWork
  t: RunbookTemplate
  /** The unit's values, with env.* as "x" and captures as <steps.NAME>: renders what a run would. */
  scope: VarScope
  /** Dry-run: what would stop a run is a warning. */
  dryRun: boolean
  out: Finding[]
}

type At = (string | number)[]

/** Where a template path is in its file (parsed on demand: a valid template is loaded without its YAML nodes). */
function positionIn(loaded: LoadedTemplate, at: At): {line?: number; column?: number} | undefined {
  try {
    loaded.source ??= parseSource(loaded.file, readText(loaded.file)).source
    return diagnosticAt(loaded.source, at, {code: 'POSITION', message: ''})
  } catch {
    return undefined
  }
}

function stepAt(t: RunbookTemplate, p: At): string | undefined {
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

/** A finding located in the unit's template file. */
function located(p: Probe, at: At, f: Omit<Finding, 'app' | 'file' | 'line' | 'column'>): Finding {
  const pos = positionIn(p.w.loaded, at)
  const {severity, code, step, message, hint} = f
  return {
    severity,
    code,
    app: p.w.name,
    step,
    message,
    hint,
    file: p.w.loaded.file,
    line: pos?.line,
    column: pos?.column,
  }
}

/** Every interpolated string must resolve (env.* aside: checked below, and never shown). */
function unresolved(p: Probe): void {
  const {w, t} = p
  for (const {path: at, text} of templateStrings(t)) {
    if (at.includes('when')) continue
    try {
      renderString(text, p.scope)
    } catch (e) {
      if (!(e instanceof RenderError)) throw e
      const step = stepAt(t, at)
      p.out.push(
        e.code
          ? located(p, at, {
              severity: 'blocker',
              code: e.code,
              step,
              message: `${e.message} (for ${w.name})`,
              hint: e.hint,
            })
          : located(p, at, {
              severity: 'blocker',
              code: 'MISSING_VALUE',
              step,
              message: `{{ ${e.variable} }} has no value for ${w.name}`,
              hint: missingHint(e.variable),
            }),
      )
    }
  }
}

/** The argv lists of a step, with where they are in the template. */
function argvsOf(s: Step, i: number): [At, readonly string[] | undefined][] {
  return [
    [['steps', i, 'run'], 'run' in s ? s.run : undefined],
    [['steps', i, 'rollback'], s.rollback],
    [['steps', i, 'check', 'run'], 'check' in s && s.check.type === 'command' ? s.check.run : undefined],
    [
      ['steps', i, 'wait', 'check', 'run'],
      'wait' in s && s.wait.check.type === 'command' ? s.wait.check.run : undefined,
    ],
    [['steps', i, 'soak', 'check', 'run'], s.soak?.check.type === 'command' ? s.soak.check.run : undefined],
  ]
}

/** Every argv as argv: a value that would start an argument with "-" (an option to the program) is refused. */
function optionLike(p: Probe): void {
  p.t.steps.forEach((s, i) => {
    for (const [at, argv] of argvsOf(s, i)) {
      if (!argv) continue
      try {
        renderArgv(argv, p.scope)
      } catch (e) {
        if (!(e instanceof RenderError) || e.code !== 'OPTION_LIKE_VALUE') continue
        const k = argv.findIndex((a) => a.includes(`{{`) && a.includes(e.variable))
        const message = `${e.message} (for ${p.w.name})`
        p.out.push(
          located(p, k >= 0 ? [...at, k] : at, {severity: 'blocker', code: e.code, step: s.id, message, hint: e.hint}),
        )
      }
    }
  })
}

function rendersEmpty(text: string, scope: VarScope): boolean {
  try {
    return renderString(text, scope).trim() === ''
  } catch {
    return false
  }
}

/** The arguments and check targets of one step that render to nothing. */
function emptiesOf(p: Probe, s: Step, i: number): Finding[] {
  const out: Finding[] = []
  const {w} = p
  const empty = (at: At, message: string): void => {
    const hint = 'Set the parameter per application in plan.yaml (applications[].params), or guard the step with when:'
    out.push(
      located(p, at, {severity: p.dryRun ? 'warning' : 'blocker', code: 'EMPTY_ARGUMENT', step: s.id, message, hint}),
    )
  }
  const lists: [string, readonly string[] | undefined][] = [
    ['run', 'run' in s ? s.run : undefined],
    ['rollback', s.rollback],
  ]
  for (const [key, argv] of lists)
    argv?.forEach((a, j) => {
      if (a.includes('{{') && rendersEmpty(a, p.scope))
        empty(['steps', i, key, j], `${key} argument ${JSON.stringify(a)} renders to an empty string for ${w.name}`)
    })
  const checks: [At, HealthCheck | undefined][] = [
    [['check'], 'check' in s ? s.check : undefined],
    [['wait', 'check'], 'wait' in s ? s.wait.check : undefined],
    [['soak', 'check'], s.soak?.check],
  ]
  for (const [sub, c] of checks) {
    if (!c || (c.type !== 'http' && c.type !== 'tcp')) continue
    const field = c.type === 'http' ? 'url' : 'host'
    const raw = c.type === 'http' ? c.url : c.host
    if (rendersEmpty(raw, p.scope))
      empty(
        ['steps', i, ...sub, field],
        `${c.type} check ${field} ${JSON.stringify(raw)} renders to an empty string for ${w.name}`,
      )
  }
  return out
}

/** An argument that renders to nothing is almost always a missing parameter (`aws mgn … --source-server-id ""`). */
function emptyArguments(p: Probe): void {
  const {w, t} = p
  const empties = t.steps.flatMap((s, i) =>
    s.when !== undefined && !evaluateWhen(s.when, p.scope) ? [] : emptiesOf(p, s, i),
  )
  if (empties.length <= 2) {
    p.out.push(...empties)
    return
  }
  // One finding per unit, naming the parameters to set, rather than one per argument.
  const names = new Set<string>()
  for (const s of t.steps) {
    for (const str of templateStrings({...t, steps: [s], preflight: []}).map((x) => x.text)) {
      for (const m of str.matchAll(/\{\{\s*((?:app\.)?params\.[A-Za-z0-9_.-]+)\s*(?:\|[^{}]*)?\}\}/g))
        if ((w.scope.values.get(m[1].replace(/^app\./, '')) ?? '') === '') names.add(m[1].replace(/^app\./, ''))
    }
  }
  p.out.push({
    ...empties[0],
    step: undefined,
    message: `${empties.length} arguments render to empty strings for ${w.name}, in steps ${[...new Set(empties.map((e) => e.step))].join(', ')}${names.size ? `: set ${[...names].join(', ')}` : ''}`,
    hint: `Set them per application in plan.yaml (applications[${w.plan.name}].params), or guard the steps with when:`,
  })
}

/** The environment variables the template needs are set; their values are secrets from now on. */
function environment(p: Probe, env: (n: string) => string | undefined, secrets: Set<string>): void {
  for (const envName of requiredEnv(p.t)) {
    const v = env(envName)
    if (v === undefined || v === '')
      p.out.push({
        severity: p.dryRun ? 'warning' : 'blocker',
        code: 'MISSING_ENV',
        app: p.w.name,
        message: `environment variable ${envName} is not set (template ${p.w.plan.template} needs it)`,
        hint: `Export ${envName} before running (secrets come only from the environment)`,
      })
    else secrets.add(v)
  }
}

/** Programs the steps call are on PATH. */
function programs(p: Probe, which: (program: string) => boolean): void {
  const found = new Map<string, string>()
  p.t.steps.forEach((s) => {
    const argvs: (readonly string[])[] = []
    if ('run' in s) argvs.push(s.run)
    if (s.rollback) argvs.push(s.rollback)
    for (const c of ['check' in s ? s.check : undefined, 'wait' in s ? s.wait.check : undefined, s.soak?.check])
      if (c?.type === 'command') argvs.push(c.run)
    for (const a of argvs) {
      try {
        const prog = renderArgv(a.slice(0, 1), p.scope)[0]
        if (!found.has(prog)) found.set(prog, s.id)
      } catch {
        /* reported above */
      }
    }
  })
  for (const pf of p.t.preflight) if (pf.check.type === 'command') found.set(pf.check.run[0], `preflight ${pf.id}`)
  for (const [prog, step] of found)
    if (!which(prog))
      p.out.push({
        severity: p.dryRun ? 'warning' : 'blocker',
        code: 'PROGRAM_NOT_FOUND',
        app: p.w.name,
        step,
        message: `program "${prog}" (used by ${step}) is not on PATH`,
        hint: `Install it on this machine or fix the template ${p.w.loaded.file}`,
      })
}

/** The static pre-flight findings of one unit with a template. */
export function staticPreflight(
  w: AppWork,
  opts: {dryRun?: boolean; env: (n: string) => string | undefined; which: (p: string) => boolean; secrets: Set<string>},
): Finding[] {
  const t = w.template!
  const out: Finding[] = []
  for (const k of Object.keys(w.plan.params))
    if (!(k in t.metadata.params))
      out.push({
        severity: 'info',
        code: 'UNUSED_PARAM',
        app: w.name,
        message: `the plan gives parameter "${k}", which template ${w.plan.template} does not declare`,
      })
  const scope: VarScope = {values: new Map(w.scope.values), secrets: new Set(), env: () => 'x'}
  for (const st of t.steps) if (st.capture) scope.values.set(`steps.${st.capture}`, `<steps.${st.capture}>`)
  const p: Probe = {w, t, scope, dryRun: !!opts.dryRun, out}
  unresolved(p)
  optionLike(p)
  emptyArguments(p)
  environment(p, opts.env, opts.secrets)
  programs(p, opts.which)
  return out
}
