// Template variables: `{{ app.name }}`, `{{ params.X }}`, `{{ env.SECRET }}`, … Interpolation happens per argv
// element, so a value is always one literal argument, whatever characters it holds. Unknown names are caught
// statically (validation), missing values at pre-flight; secrets (env.*) are remembered so every log can redact them.

/** One `{{ … }}` occurrence in a string. */
export interface VarRef {
  /** The dotted name, trimmed: `app.name`, `env.PGPASSWORD`, `servers`. */
  name: string
  start: number
  end: number
}

const VAR_RE = /\{\{\s*([^{}]*?)\s*\}\}/g

export function findVars(text: string): VarRef[] {
  const out: VarRef[] = []
  for (const m of text.matchAll(VAR_RE)) out.push({name: m[1], start: m.index, end: m.index + m[0].length})
  return out
}

export const SERVER_FIELDS = ['id', 'name', 'hostname', 'ip', 'privateIp', 'publicIp', 'provider', 'region', 'zone', 'os', 'osVersion', 'role', 'vcpus', 'memoryMiB', 'instanceType', 'sourceInstanceType'] as const
export const DATABASE_FIELDS = ['id', 'name', 'engine', 'host', 'port', 'version', 'sizeGiB', 'service', 'instanceClass'] as const
export const APP_FIELDS = ['name', 'owner', 'criticality', 'environment', 'strategy', 'moveGroup', 'template'] as const

const FIXED: Record<string, readonly string[]> = {
  app: APP_FIELDS,
  target: ['cloud', 'region'],
  wave: ['number', 'name'],
  server: SERVER_FIELDS,
  database: DATABASE_FIELDS,
  plan: ['dir', 'name'],
  run: ['id'],
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/

/**
 * Why a variable name is not known, or undefined when it is. `declaredParams` are the template's metadata.params
 * keys: `{{ params.X }}` must name one of them (its default may be overridden per application in the plan).
 */
export function unknownVarReason(name: string, declaredParams: ReadonlySet<string>, captures: ReadonlySet<string> = new Set()): string | undefined {
  if (name === 'servers' || name === 'databases') return undefined
  const dot = name.indexOf('.')
  const root = dot < 0 ? name : name.slice(0, dot)
  const rest = dot < 0 ? '' : name.slice(dot + 1)
  if (root === 'steps') return captures.has(rest) ? undefined : `"${name}": no earlier step has capture: ${rest || '(name)'}${captures.size ? ` (captured before this step: ${[...captures].join(', ')})` : ''}`
  if (root === 'env') return /^[A-Za-z_][A-Za-z0-9_]*$/.test(rest) ? undefined : `"${name}": env needs a variable name, e.g. {{ env.PGPASSWORD }}`
  if (root === 'params' || (root === 'app' && rest.startsWith('params.'))) {
    const p = root === 'params' ? rest : rest.slice('params.'.length)
    if (!p || !NAME_RE.test(p)) return `"${name}": a parameter name is missing`
    if (!declaredParams.has(p)) return `"${name}": parameter "${p}" is not declared in metadata.params${declaredParams.size ? ` (declared: ${[...declaredParams].join(', ')})` : ''}`
    return undefined
  }
  const fields = FIXED[root]
  if (!fields) return `"${name}" is not a variable (known: app.*, params.*, target.*, wave.*, server.*, servers, database.*, databases, env.*, steps.*, plan.*, run.id)`
  if (!fields.includes(rest)) return `"${name}" is not a variable: ${root}.* has ${fields.join(', ')}`
  return undefined
}

/** Resolved values for one application; `undefined` means "known name, but no value for this application". */
export interface VarScope {
  values: Map<string, string | undefined>
  /** env.* values read: redacted wherever output is recorded. */
  secrets: Set<string>
  /** Read an environment variable (process.env by default). */
  env: (name: string) => string | undefined
}

export class RenderError extends Error {
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message)
    this.name = 'RenderError'
  }
}

/** Looks a variable up in the scope; env.* comes from the environment and is remembered as a secret. */
export function lookupVar(scope: VarScope, name: string): string | undefined {
  if (name.startsWith('env.')) {
    const v = scope.env(name.slice(4))
    if (v !== undefined && v !== '') scope.secrets.add(v)
    return v
  }
  if (name.startsWith('app.params.')) name = name.slice(4)
  return scope.values.get(name)
}

/**
 * Renders one string. `missing` decides what an unset variable does: 'throw' (argv, pre-flight blocker) or
 * 'empty' (a `when` condition, where an absent value simply reads as false).
 */
export function renderString(text: string, scope: VarScope, missing: 'throw' | 'empty' = 'throw'): string {
  if (!text.includes('{{')) return text
  return text.replace(VAR_RE, (_m, raw: string) => {
    const name = raw.trim()
    const v = lookupVar(scope, name)
    if (v === undefined) {
      if (missing === 'empty') return ''
      throw new RenderError(name.startsWith('env.') ? `environment variable ${name.slice(4)} is not set` : `{{ ${name} }} has no value for this application`, name)
    }
    return v
  })
}

export function renderArgv(argv: readonly string[], scope: VarScope): string[] {
  return argv.map((a) => renderString(a, scope))
}

/** `when`: after rendering, "", false, 0, no are false; `A == B` / `A != B` compare the two sides as strings. */
export function evaluateWhen(expr: string, scope: VarScope): boolean {
  const rendered = renderString(expr, scope, 'empty').trim()
  const cmp = /^(.*?)\s*(==|!=)\s*(.*)$/.exec(rendered)
  if (cmp) {
    const [l, r] = [unquote(cmp[1]), unquote(cmp[3])]
    return cmp[2] === '==' ? l === r : l !== r
  }
  return !['', 'false', '0', 'no', 'off'].includes(rendered.toLowerCase())
}

function unquote(s: string): string {
  const t = s.trim()
  return /^(['"]).*\1$/.test(t) ? t.slice(1, -1) : t
}

/** Replaces every secret value in `text` with `***`. Longest first, so a secret containing another is hidden whole. */
export function redact(text: string, secrets: ReadonlySet<string> | readonly string[]): string {
  const list = [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length)
  let out = text
  for (const s of list) if (out.includes(s)) out = out.split(s).join('***')
  return out
}
