// Loading what a wave needs: the plan, its inventory (refusing a stale plan), each application's runbook template
// (from <plan>/templates/ first, then the package's templates/), and the variable scope of each application.
import {checkDigest} from '../inventory/digest.js'
import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import type {Diagnostic} from '../diagnostics.js'
import type {SourceDocument} from '../io/documents.js'
import {badInput, EXIT, MigrateError} from '../errors.js'
import {PLAN_FILES, shellPath, TEMPLATES_DIR} from '../paths.js'
import {loadKind, validateFile} from '../file-kinds.js'
import {isTemplatePath, resolveTemplateFile, templatePathEscapes} from '../runbook/template-path.js'
import type {Inventory} from '../schema/inventory.js'
import type {AppPlan, Plan, Wave} from '../schema/plan.js'
import type {RunbookTemplate} from '../schema/template.js'
import type {VarScope} from '../runbook/vars.js'

export interface PlanContext {
  planDir: string
  planFile: string
  plan: Plan
  inventory: Inventory
  inventoryFile: string
  /** Set when the inventory changed since planning and --allow-stale was given. */
  staleWarning?: string
}

/** `startedWaves`: as a shared state backend says (else the journal file beside the plan does). */
export function loadPlanContext(
  planDir: string,
  opts: {allowStale?: boolean; startedWaves?: readonly number[]} = {},
): PlanContext {
  const planFile = path.join(planDir, PLAN_FILES.plan)
  if (!existsSync(planFile))
    throw badInput(
      `${planFile}: no such file`,
      'PLAN_NOT_FOUND',
      `Run \`migrate plan --plan ${shellPath(planDir)}\` first (it reads ${PLAN_FILES.inventory} there), or pass --plan with the right directory`,
    )
  const plan = loadKind<Plan>('plan', planFile, undefined, {startedWaves: opts.startedWaves}).value
  const inventoryFile = path.resolve(planDir, plan.metadata.inventory)
  const inventory = loadKind<Inventory>('inventory', inventoryFile).value
  const want = plan.metadata.inventoryDigest
  const bytes = () => readFileSync(inventoryFile)
  let staleWarning: string | undefined
  const digest = checkDigest(want, inventory, bytes)
  if (!digest.ok) {
    const short = (d: string) => d.replace(/^(content-)?sha256:/, '').slice(0, 12)
    const msg = `the plan was made from another version of ${path.relative(process.cwd(), inventoryFile) || inventoryFile} (inventory digest ${short(digest.current)}…, plan expects ${short(want)}…)`
    if (!opts.allowStale) {
      // A command that works pasted where the user stands: paths relative to here, --inventory only when not the default.
      const replan = `migrate plan --plan ${shellPath(planDir)}${plan.metadata.inventory === PLAN_FILES.inventory ? '' : ` --inventory ${shellPath(inventoryFile)}`}`
      throw new MigrateError(`stale plan: ${msg}`, {
        code: 'STALE_PLAN',
        exitCode: EXIT.STALE_PLAN,
        hint: `See what re-planning changes with \`${replan} --diff\`, then re-plan with \`${replan}\`; or pass --allow-stale to run the plan as it is`,
      })
    }
    staleWarning = msg
  }
  return {planDir, planFile, plan, inventory, inventoryFile, staleWarning}
}

export function findWave(plan: Plan, n: number): Wave {
  const w = plan.waves.find((x) => x.number === n)
  if (!w)
    throw badInput(
      `wave ${n} is not in the plan`,
      'UNKNOWN_WAVE',
      `The plan has waves ${plan.waves.map((x) => x.number).join(', ') || '(none)'}`,
    )
  return w
}

export interface LoadedTemplate {
  file: string
  template?: RunbookTemplate
  source?: SourceDocument
  diagnostics: Diagnostic[]
}

const templateCache = new Map<string, LoadedTemplate>()

export function loadTemplate(planDir: string, name: string): LoadedTemplate {
  const file = resolveTemplateFile(planDir, name)
  if (!file && isTemplatePath(name) && templatePathEscapes(planDir, name)) {
    return {
      file: name,
      diagnostics: [
        {
          severity: 'error',
          code: 'TEMPLATE_OUTSIDE_PLAN',
          message: `runbook template path "${name}" leaves the plan directory ${planDir}`,
          hint: 'A template given as a path is relative to the plan directory and stays inside it (e.g. runbooks/my-app.yaml); or put it in <plan>/templates/NAME.yaml and name it NAME',
        },
      ],
    }
  }
  if (!file) {
    return {
      file: name,
      diagnostics: [
        {
          severity: 'error',
          code: 'TEMPLATE_NOT_FOUND',
          message: `runbook template "${name}" not found`,
          hint: `Looked in ${path.join(planDir, 'templates')} and ${TEMPLATES_DIR}; fix applications[].template in plan.yaml or add the file`,
        },
      ],
    }
  }
  const st = statSync(file)
  const key = `${file}\0${st.mtimeMs}\0${st.size}`
  const cached = templateCache.get(key)
  if (cached) return cached
  const r = validateFile<RunbookTemplate>(file, 'template')
  const out: LoadedTemplate = {file, template: r.value, source: r.source, diagnostics: r.diagnostics}
  templateCache.set(key, out)
  return out
}

export function clearTemplateCache(): void {
  templateCache.clear()
}

/**
 * The units an application's plan entry runs as: its own runbook (named after the application) — or, for a
 * per-server template, one per server (APP:SERVER_ID, grouped) — and one per database the plan gives a template
 * (APP:DATABASE_ID). execute, rollback and status all name units this way.
 */
export interface UnitSpec {
  name: string
  template: string
  dbIndex: number
  serverIndex?: number
  group?: string
}

export function unitsOf(planDir: string, app: AppPlan, journaledAsOne = false): UnitSpec[] {
  // A wave the journal shows under the application's own name (started before its template became per-server)
  // goes on as one unit: splitting it now would strand what was done.
  const perServer =
    !journaledAsOne &&
    app.servers.length > 0 &&
    loadTemplate(planDir, app.template).template?.metadata.perServer === true
  const units: UnitSpec[] = perServer
    ? app.servers.map((srv, k) => ({
        name: `${app.name}:${srv.id}`,
        template: app.template,
        dbIndex: 0,
        serverIndex: k,
        group: app.name,
      }))
    : [{name: app.name, template: app.template, dbIndex: 0}]
  app.databases.forEach((d, k) => {
    const t = (d as {template?: string}).template
    if (t) units.push({name: `${app.name}:${d.id}`, template: t, dbIndex: k})
  })
  return units
}

/** The variable scope of one application in one wave. */
export function buildScope(
  ctx: PlanContext,
  wave: Wave,
  app: AppPlan,
  template: RunbookTemplate,
  runId: string,
  env: (name: string) => string | undefined = (n) => process.env[n],
  dbIndex = 0,
  serverIndex = 0,
): VarScope {
  const values = new Map<string, string | undefined>()
  const set = (k: string, v: unknown): void => {
    values.set(k, v === undefined || v === null ? undefined : String(v))
  }
  const invApp = ctx.inventory.applications.find((a) => a.name === app.name)
  set('app.name', app.name)
  set('app.owner', invApp?.owner)
  set('app.criticality', invApp?.criticality)
  set('app.environment', invApp?.environment)
  set('app.strategy', app.strategy)
  set('app.moveGroup', app.moveGroup)
  set('app.template', app.template)
  for (const [k, v] of Object.entries(template.metadata.params)) set(`params.${k}`, v)
  for (const [k, v] of Object.entries(app.params)) set(`params.${k}`, v)
  set('target.cloud', app.target.cloud)
  set('target.region', app.target.region)
  set('wave.number', wave.number)
  set('wave.name', wave.name)
  set('plan.dir', ctx.planDir)
  set('plan.name', ctx.plan.metadata.name)
  set('run.id', runId)
  set('servers', app.servers.length)
  set('databases', app.databases.length)
  const st = app.servers[serverIndex]
  const s = st ? ctx.inventory.servers.find((x) => x.id === st.id) : undefined
  if (st) {
    set('server.id', st.id)
    set('server.name', s?.name)
    set('server.hostname', s?.hostname)
    set('server.ip', s?.privateIps[0] ?? s?.publicIps[0])
    set('server.privateIp', s?.privateIps[0])
    set('server.publicIp', s?.publicIps[0])
    set('server.provider', s?.provider)
    set('server.region', s?.region)
    set('server.zone', s?.zone)
    set('server.os', s?.os.family)
    set('server.osVersion', s?.os.version)
    set('server.role', s?.role)
    set('server.vcpus', st.vcpus)
    set('server.memoryMiB', st.memoryMiB)
    set('server.instanceType', st.instanceType)
    set('server.sourceInstanceType', s?.instanceType)
  }
  const dt = app.databases[dbIndex]
  const d = dt ? ctx.inventory.databases.find((x) => x.id === dt.id) : undefined
  if (dt) {
    set('database.id', dt.id)
    set('database.name', d?.name)
    set('database.engine', d?.engine)
    const host =
      d?.host ?? (d?.serverId ? ctx.inventory.servers.find((x) => x.id === d.serverId)?.privateIps[0] : undefined)
    set('database.host', host)
    set('database.port', d?.port)
    set('database.version', d?.version)
    set('database.sizeGiB', d?.sizeGiB)
    set('database.service', dt.service)
    set('database.instanceClass', dt.instanceClass)
  }
  return {values, secrets: new Set(), env}
}
