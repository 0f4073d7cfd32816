// Template variables: `{{ app.name }}`, `{{ params.X }}`, `{{ env.SECRET }}`, … Interpolation happens per argv
// element, so a value is always one literal argument, whatever characters it holds. Unknown names are caught
// statically (validation), missing values at pre-flight; secrets (env.*) are remembered so every log can redact them.

import path from 'node:path'

/** One `{{ … }}` occurrence in a string. */
export interface VarRef {
  /** The dotted name, trimmed: `app.name`, `env.PGPASSWORD`, `servers`. */
  name: string
  /** Typed placements applied in order: `{{ server.hostname | jmespath }}`. */
  filters: string[]
  start: number
  end: number
}

const VAR_RE = /\{\{\s*([^{}]*?)\s*\}\}/g

function parseRef(raw: string): {name: string; filters: string[]} {
  const [name, ...filters] = raw.split('|').map((x) => x.trim())
  return {name, filters}
}

export function findVars(text: string): VarRef[] {
  const out: VarRef[] = []
  for (const m of text.matchAll(VAR_RE)) out.push({...parseRef(m[1]), start: m.index, end: m.index + m[0].length})
  return out
}

/**
 * Typed placement of a value in the language it goes into, so that no value can change the meaning of what it is
 * put into (`{{ server.hostname | jmespath }}`):
 *  - jmespath: a JSON string literal in backticks (`"…"`), read as one string by JMESPath (the AWS CLI's --query);
 *  - sql_ident / sql_literal: a PostgreSQL (standard SQL) identifier ("…", quotes doubled; a plain lower-case name
 *    stays as it is) or string literal ('…', quotes doubled; E'…' with backslashes doubled when it holds one);
 *  - mysql_ident / mysql_literal: MySQL/MariaDB `…` (backticks doubled) and '…' (quotes doubled; a value with a
 *    backslash as _utf8mb4 X'hex', read alike with and without NO_BACKSLASH_ESCAPES);
 *  - json: a JSON string ("…"), for JSON documents such as the AWS CLI's --filters '{"k":[…]}'.
 * A value holding NUL is refused by all of them (no SQL or JSON text can carry it safely).
 */
export const FILTERS: Record<string, (v: string) => string> = {
  jmespath: (v) => '`' + JSON.stringify(v).replace(/`/g, '\\`') + '`',
  json: (v) => JSON.stringify(v),
  sql_ident: (v) => (/^[a-z_][a-z0-9_]*$/.test(v) && !SQL_RESERVED.has(v) ? v : `"${v.replace(/"/g, '""')}"`),
  sql_literal: (v) =>
    v.includes('\\') ? `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` : `'${v.replace(/'/g, "''")}'`,
  mysql_ident: (v) => '`' + v.replace(/`/g, '``') + '`',
  // A backslash means something else with and without NO_BACKSLASH_ESCAPES: such a value goes as hex, which both read alike.
  mysql_literal: (v) =>
    v.includes('\\') ? `_utf8mb4 X'${Buffer.from(v, 'utf8').toString('hex')}'` : `'${v.replace(/'/g, "''")}'`,
}

// PostgreSQL's reserved key words (appendix C): such a name is quoted even when it is plain lower case.
const SQL_RESERVED = new Set(
  'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral leading limit localtime localtimestamp not null offset on only or order placing primary references returning select session_user some symmetric system_user table then to trailing true union unique user using variadic when where window with'.split(
    ' ',
  ),
)

export const SERVER_FIELDS = [
  'id',
  'name',
  'hostname',
  'ip',
  'privateIp',
  'publicIp',
  'provider',
  'region',
  'zone',
  'os',
  'osVersion',
  'role',
  'vcpus',
  'memoryMiB',
  'instanceType',
  'sourceInstanceType',
] as const
export const DATABASE_FIELDS = [
  'id',
  'name',
  'engine',
  'host',
  'port',
  'version',
  'sizeGiB',
  'service',
  'instanceClass',
] as const
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

/** Why a filter list is not valid, or undefined. */
export function unknownFilterReason(filters: readonly string[]): string | undefined {
  const bad = filters.find((f) => !(f in FILTERS))
  return bad === undefined
    ? undefined
    : `"${bad}" is not a placement filter (known: ${Object.keys(FILTERS).join(', ')})`
}

/**
 * Why a variable name is not known, or undefined when it is. `declaredParams` are the template's metadata.params
 * keys: `{{ params.X }}` must name one of them (its default may be overridden per application in the plan).
 */
export function unknownVarReason(
  name: string,
  declaredParams: ReadonlySet<string>,
  captures: ReadonlySet<string> = new Set(),
): string | undefined {
  if (name === 'servers' || name === 'databases') return undefined
  const dot = name.indexOf('.')
  const root = dot < 0 ? name : name.slice(0, dot)
  const rest = dot < 0 ? '' : name.slice(dot + 1)
  if (root === 'steps')
    return captures.has(rest)
      ? undefined
      : `"${name}": no earlier step has capture: ${rest || '(name)'}${captures.size ? ` (captured before this step: ${[...captures].join(', ')})` : ''}`
  if (root === 'env')
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(rest)
      ? undefined
      : `"${name}": env needs a variable name, e.g. {{ env.PGPASSWORD }}`
  if (root === 'params' || (root === 'app' && rest.startsWith('params.'))) {
    const p = root === 'params' ? rest : rest.slice('params.'.length)
    if (!p || !NAME_RE.test(p)) return `"${name}": a parameter name is missing`
    if (!declaredParams.has(p))
      return `"${name}": parameter "${p}" is not declared in metadata.params${declaredParams.size ? ` (declared: ${[...declaredParams].join(', ')})` : ''}`
    return undefined
  }
  const fields = FIXED[root]
  if (!fields)
    return `"${name}" is not a variable (known: app.*, params.*, target.*, wave.*, server.*, servers, database.*, databases, env.*, steps.*, plan.*, run.id)`
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
    /** Set when the value exists but may not go where the template puts it (a path that leaves its directory, …). */
    readonly code?: 'PATH_ESCAPES' | 'OPTION_LIKE_VALUE' | 'UNSAFE_VALUE',
    readonly hint?: string,
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

interface Piece {
  /** Literal template text, or a variable's (filtered) value. */
  text: string
  /** The variable it came from. */
  variable?: string
}

/** Renders a template string into literal and value pieces (filters applied). */
function renderPieces(text: string, scope: VarScope, missing: 'throw' | 'empty'): Piece[] {
  const out: Piece[] = []
  let last = 0
  for (const m of text.matchAll(VAR_RE)) {
    if (m.index > last) out.push({text: text.slice(last, m.index)})
    last = m.index + m[0].length
    const {name, filters} = parseRef(m[1])
    let v = lookupVar(scope, name)
    if (v === undefined) {
      if (missing === 'empty') v = ''
      else
        throw new RenderError(
          name.startsWith('env.')
            ? `environment variable ${name.slice(4)} is not set`
            : `{{ ${name} }} has no value for this application`,
          name,
        )
    }
    for (const f of filters) {
      const fn = FILTERS[f]
      if (!fn) throw new RenderError(`{{ ${m[1].trim()} }}: ${unknownFilterReason([f])}`, name, 'UNSAFE_VALUE')
      if (v.includes('\0'))
        throw new RenderError(
          `{{ ${name} }} holds a NUL character, which cannot be placed with ${f}`,
          name,
          'UNSAFE_VALUE',
          'Fix the value in the inventory or plan',
        )
      v = fn(v)
    }
    out.push({text: v, variable: name})
  }
  if (last < text.length) out.push({text: text.slice(last)})
  return out
}

/**
 * A path built from {{ plan.dir }} and other values stays inside the plan directory: from where plan.dir is placed to
 * the end of the string (or the next space of the template's own text), the path, resolved, must be the plan
 * directory itself (plan.dir alone) or a path strictly inside it. An application name like `x/../../victim` or a
 * parameter `..` is refused here, whatever template uses it.
 */
function checkPaths(pieces: Piece[], scope: VarScope): void {
  const planDir = scope.values.get('plan.dir')
  if (!planDir) return
  for (let i = 0; i < pieces.length; i++) {
    if (pieces[i].variable !== 'plan.dir') continue
    let rest = ''
    const from: string[] = []
    for (let k = i + 1; k < pieces.length; k++) {
      const p = pieces[k]
      if (p.variable === undefined) {
        const sp = p.text.search(/\s/)
        if (sp >= 0) {
          rest += p.text.slice(0, sp)
          break
        }
      } else from.push(p.variable)
      rest += p.text
    }
    if (rest === '') continue
    const root = path.resolve(planDir)
    const full = path.resolve(root + rest)
    if (full.startsWith(root + path.sep) && !rest.includes('\0')) continue
    const blame = from.find((v) => v !== 'plan.dir') ?? 'plan.dir'
    throw new RenderError(
      `the path ${JSON.stringify(planDir + rest)} built from {{ ${blame} }} leaves the plan directory ${planDir} (resolves to ${full})`,
      blame,
      'PATH_ESCAPES',
      'Names used in paths must not hold "/" or ".."; fix the value (application names must match [A-Za-z0-9][A-Za-z0-9._-]*)',
    )
  }
}

/**
 * Renders one string. `missing` decides what an unset variable does: 'throw' (argv, pre-flight blocker) or
 * 'empty' (a `when` condition, where an absent value simply reads as false).
 */
export function renderString(text: string, scope: VarScope, missing: 'throw' | 'empty' = 'throw'): string {
  if (!text.includes('{{')) return text
  const pieces = renderPieces(text, scope, missing)
  checkPaths(pieces, scope)
  return pieces.map((p) => p.text).join('')
}

/**
 * Renders an argv list, each template element into one argument. A value may not begin an argument with "-" where
 * the program would read it as an option (`-oProxyCommand=…` to ssh, `--help` to a CLI): an argument whose first
 * character comes from a value is refused if it starts with "-", unless the template put it after a "--" (end of
 * options). Write such a value as `--opt={{ x }}`, or after `--`.
 */
export function renderArgv(argv: readonly string[], scope: VarScope): string[] {
  let endOfOptions = false
  return argv.map((a, i) => {
    if (a === '--') endOfOptions = true
    if (!a.includes('{{')) return a
    const pieces = renderPieces(a, scope, 'throw')
    checkPaths(pieces, scope)
    const out = pieces.map((p) => p.text).join('')
    const lead = pieces.find((p) => p.text !== '')
    if (i > 0 && !endOfOptions && lead?.variable !== undefined && out.startsWith('-')) {
      throw new RenderError(
        `argument ${i} of ${argv[0]} (${JSON.stringify(a)}) renders to ${JSON.stringify(out.length > 40 ? out.slice(0, 40) + '…' : out)}: a value starting with "-" would be read as an option`,
        lead.variable,
        'OPTION_LIKE_VALUE',
        `Fix the value, or place it after "--" in the template (or as --option={{ ${lead.variable} }})`,
      )
    }
    return out
  })
}

const FALSY = ['', 'false', '0', 'no', 'off']

/** The operator of a `when` in the template's own text (never in a value): its position, or undefined. */
function whenOperator(expr: string): {at: number; op: '==' | '!='} | undefined {
  // Mask the {{ … }} so an operator inside a variable reference (or a filter) is not seen.
  const masked = expr.replace(VAR_RE, (m) => ' '.repeat(m.length))
  const m = /(==|!=)/.exec(masked)
  return m ? {at: m.index, op: m[1] as '==' | '!='} : undefined
}

/** One side of a comparison: quotes written in the template are the template's, not the value's. */
function whenSide(text: string, scope: VarScope): string {
  let t = text.trim()
  if (/^(['"]).*\1$/s.test(t)) t = t.slice(1, -1)
  return renderString(t, scope, 'empty')
}

/**
 * `when`: `A == B` / `A != B` compare the two sides as values (the operator is found in the template's text, each
 * side rendered on its own: a value holding "!=" or quotes compares as itself); otherwise the rendered text is false
 * when it is "", false, 0, no or off (any case).
 */
export function evaluateWhen(expr: string, scope: VarScope): boolean {
  const op = whenOperator(expr)
  if (op) {
    const l = whenSide(expr.slice(0, op.at), scope)
    const r = whenSide(expr.slice(op.at + 2), scope)
    return op.op === '==' ? l === r : l !== r
  }
  const rendered = renderString(expr.trim(), scope, 'empty')
  return !FALSY.includes(rendered.trim().toLowerCase())
}

/** Replaces every secret value in `text` with `***`. Longest first, so a secret containing another is hidden whole. */
export function redact(text: string, secrets: ReadonlySet<string> | readonly string[]): string {
  const list = [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length)
  let out = text
  for (const s of list) if (out.includes(s)) out = out.split(s).join('***')
  return out
}
