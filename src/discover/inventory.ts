// The IO shell of discovery: merge the sources' records with the previous inventory at --out (keeping what other
// sources found there), derive applications, validate against the schema, write atomically, and say what changed.
import {existsSync} from 'node:fs'
import path from 'node:path'
import {formatDiagnostic, type Diagnostic} from '../diagnostics.js'
import {badInput, MigrateError, EXIT} from '../errors.js'
import {checkInventory} from '../inventory/check.js'
import {writeFileAtomic} from '../io/atomic.js'
import {collectGarbage} from '../io/gc.js'
import {schemaHeader} from '../io/write-yaml.js'
import {toYamlChunks} from '../io/fast-yaml-write.js'
import {API_VERSION} from '../schema/common.js'
import {Inventory, type Server} from '../schema/inventory.js'
import {loadKind} from '../schema/kinds.js'
import {assignServers, DEFAULT_TAG_KEYS, handAssignment, slug, type AssignRule, type Assignment, type TagKeys} from './assign.js'
import {diffInventories, type InventoryDiff} from './diff.js'
import {InventoryMerger} from './merge.js'
import type {SourceFailure, SourceResult} from './types.js'

export interface WriteOptions {
  out: string
  /** metadata.name; default: the plan directory's name. */
  name?: string
  tagKeys?: TagKeys
  assignRule?: AssignRule
  /** Start from nothing instead of keeping what other sources put in --out. The diff is still shown. */
  replace?: boolean
  /** Compute and report, but do not write. */
  dryRun?: boolean
  now?: Date
}

export interface DiscoverResult {
  out: string
  written: boolean
  name: string
  counts: {servers: number; databases: number; applications: number; dependencies: number; unassigned: number}
  sources: {kind: string; scope: string[]; count: number}[]
  /** Targets that could not be read (e.g. unreachable hosts); the rest went on. */
  failures: SourceFailure[]
  warnings: string[]
  /** Changes against the previous file at --out; absent when there was none. */
  diff?: InventoryDiff
}

/** Default name for --out when none given: plans/<name>/inventory.yaml. */
export function defaultOut(name: string | undefined): string {
  return path.join('plans', name ?? 'discovered', 'inventory.yaml')
}

/**
 * Whether a record of the previous inventory is one this run looked at again (so this run's view replaces it): its
 * source kind ran, over its region, file or host. Targets a source could not read (an unreachable host, a refused
 * database) are not covered: what the previous run found there stays. Sets, so 100,000 records check in O(n).
 */
export function coverage(results: SourceResult[]): (s: Server) => boolean {
  const scopes = new Map<string, Set<string>>()
  for (const r of results) {
    const failed = new Set(r.failures.map((f) => f.target))
    let set = scopes.get(r.kind)
    if (!set) scopes.set(r.kind, (set = new Set()))
    for (const x of r.scope) if (!failed.has(x)) set.add(x)
  }
  return (s) => {
    const kind = s.source?.kind
    const set = kind ? scopes.get(kind) : undefined
    if (!set) return false
    const ref = s.source?.ref ?? ''
    if (kind === 'aws' || kind === 'alicloud') {
      const slash = ref.indexOf('/')
      return slash >= 0 && set.has(ref.slice(0, slash))
    }
    if (set.has(ref)) return true
    // A CMDB row: FILE:ROW, where the file's name may itself hold colons.
    if (kind === 'file') for (let i = ref.indexOf(':'); i >= 0; i = ref.indexOf(':', i + 1)) if (set.has(ref.slice(0, i))) return true
    return false
  }
}

export function buildInventory(results: SourceResult[], previous: Inventory | undefined, o: WriteOptions): {inventory: Inventory; warnings: Diagnostic[]} {
  const now = (o.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z')
  const merger = new InventoryMerger()
  const isCovered = coverage(results)
  const keep = previous && !o.replace ? previous : undefined
  // Ids of the previous inventory stay: its servers go in first, so later sources merge into them.
  if (keep) {
    for (const a of keep.applications) merger.addApplication(a)
    for (const s of keep.servers) if (!isCovered(s)) merger.addServer(s)
  }
  const prevCovered = new Map<string, string>()
  if (previous) for (const s of previous.servers) if (isCovered(s)) for (const ip of s.privateIps) if (!prevCovered.has(ip)) prevCovered.set(ip, s.id)
  const previousIds = new Set(previous?.servers.map((p) => p.id))
  for (const r of results) {
    for (const a of r.applications) merger.addApplication(a)
    for (const s of r.servers) {
      // An on-premises host seen again under another name keeps its old id.
      const old = (s.source?.kind === 'ssh' || s.source?.kind === 'file') && !previousIds.has(s.id) ? s.privateIps.map((ip) => prevCovered.get(ip)).find(Boolean) : undefined
      const id = merger.addServer(old ? {...s, id: old} : s)
      if (old && s.id !== id) merger.renamed.set(s.id, id)
    }
  }
  if (keep) {
    // A database on a server this run looked at again is kept only if it was found again (then the fresh facts
    // merge into it, keeping settings an earlier --db run recorded); on other servers, or standalone, it stays.
    const coveredIds = new Set(keep.servers.filter((s) => isCovered(s)).map((s) => s.id))
    const fresh = new Set(results.flatMap((r) => r.databases.map((d) => d.id)))
    for (const d of keep.databases) if (!(d.serverId && coveredIds.has(d.serverId) && !fresh.has(d.id))) merger.addDatabase(d)
    for (const d of keep.dependencies) if (!(d.learnt === 'observed' && (coveredIds.has(d.from) || coveredIds.has(d.to)))) merger.addDependency(d)
  }
  for (const r of results) {
    for (const d of r.databases) merger.addDatabase(d)
    for (const d of r.dependencies) merger.addDependency(d)
  }
  const servers = [...merger.servers.values()]
  // Servers this run found again keep the application, role and environment a person gave them (what their tags
  // and the rule do not explain; an unassigned server assigned by hand stays assigned) unless their tags now say
  // otherwise. What came from tags follows the tags: a removed app tag leaves the server unassigned again.
  const keys = o.tagKeys ?? DEFAULT_TAG_KEYS
  const assigned = new Map<string, Assignment>()
  if (keep) {
    for (const p of keep.servers) {
      if (!isCovered(p)) continue
      const hand = handAssignment(p, keys, o.assignRule)
      if (hand) assigned.set(p.id, hand)
    }
  }
  const derived = assignServers(servers, keys, o.assignRule, assigned)
  for (const a of derived) merger.addApplication(a)
  const serverById = new Map(servers.map((s) => [s.id, s]))
  const databases = [...merger.databases.values()]
  for (const d of databases) {
    if (d.serverId && !serverById.has(d.serverId)) delete d.serverId
    if (!d.application && d.serverId) {
      const app = serverById.get(d.serverId)?.application
      if (app) d.application = app
    }
    if (d.application && !merger.applications.has(d.application)) merger.addApplication({name: d.application, criticality: 'medium', environment: 'prod', complexity: 'medium', tags: {}})
  }
  const nodes = new Set<string>([...merger.applications.keys(), ...serverById.keys(), ...databases.map((d) => d.id)])
  const warnings: Diagnostic[] = []
  const dependencies = merger.dependencies().filter((d) => {
    const ok = nodes.has(d.from) && nodes.has(d.to) && d.from !== d.to
    if (!ok && d.from !== d.to) warnings.push({severity: 'warning', code: 'DEPENDENCY_DROPPED', message: `dependency ${d.from} → ${d.to} names something no longer in the inventory; dropped`})
    return ok
  })
  const sources = [
    ...(keep?.metadata.sources ?? []).filter((s) => !results.some((r) => r.kind === s.kind && s.scope.every((x) => r.scope.includes(x)))),
    ...results.map((r) => ({kind: r.kind, scope: r.scope, at: now, count: r.servers.length + r.databases.length})),
  ]
  const name = slug(o.name ?? previous?.metadata.name ?? (path.basename(path.dirname(path.resolve(o.out))) || 'discovered')) || 'discovered'
  servers.sort((a, b) => a.id.localeCompare(b.id))
  databases.sort((a, b) => a.id.localeCompare(b.id))
  const raw = {
    apiVersion: API_VERSION,
    kind: 'Inventory',
    metadata: {name, ...(previous?.metadata.description ? {description: previous.metadata.description} : {}), generatedAt: now, sources},
    applications: [...merger.applications.values()].sort((a, b) => a.name.localeCompare(b.name)),
    servers,
    databases,
    dependencies: dependencies.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || (a.port ?? 0) - (b.port ?? 0)),
    unassigned: servers.filter((s) => !s.application).map((s) => s.id),
  }
  const parsed = Inventory.safeParse(raw)
  if (!parsed.success) {
    const first = parsed.error.issues[0]
    throw new MigrateError(`the discovered inventory does not match the schema: ${first.path.join('.')}: ${first.message}`, {code: 'INTERNAL_INVENTORY_INVALID', exitCode: EXIT.FAILURE, hint: 'This is a bug in migrate discover: run again with --debug and report it'})
  }
  const issues = checkInventory(parsed.data).filter((i) => (i.severity ?? 'error') === 'error')
  if (issues.length > 0) {
    throw new MigrateError(`the discovered inventory is inconsistent: ${issues[0].path.join('.')}: ${issues[0].message}`, {code: 'INTERNAL_INVENTORY_INVALID', exitCode: EXIT.FAILURE, hint: 'This is a bug in migrate discover: run again with --debug and report it'})
  }
  return {inventory: parsed.data, warnings}
}

/** Reads the previous inventory at `out`, if any. A broken one stops discovery (it may hold hand edits). */
export function readPrevious(out: string, replace = false): Inventory | undefined {
  if (!existsSync(out)) return undefined
  try {
    return loadKind<Inventory>('inventory', out).value
  } catch (error) {
    if (error instanceof MigrateError && !replace) {
      throw badInput(`${out} exists but is not a valid inventory; not overwriting it`, 'PREVIOUS_INVENTORY_INVALID', `Fix it (\`migrate validate ${out}\`), or pass --replace to start from the sources alone`, error.diagnostics)
    }
    return undefined
  }
}
export function writeInventory(results: SourceResult[], o: WriteOptions): DiscoverResult {
  // Every source is done: what their SDKs allocated is garbage now; collect it before the big allocations below.
  collectGarbage()
  let previous = readPrevious(o.out, o.replace)
  const {inventory, warnings} = buildInventory(results, previous, o)
  // What changed, now: then the previous inventory (10,000 servers) can go before the new one is written.
  const diff = previous ? diffInventories(previous, inventory) : undefined
  previous = undefined
  const comment = `Written by migrate discover (${results.map((r) => r.kind).join(', ')}); edit freely: applications, roles and unassigned servers.\nRun discover again to refresh: it keeps other sources and shows what changed.`
  // The layout of src/io/write-yaml.ts (schema header, comment, toYaml text), with the fast writer: same bytes.
  // Written in pieces as it is made: 10,000 servers never sit in memory as one 7 MB string.
  if (!o.dryRun) {
    writeFileAtomic(o.out, (write) => {
      write(schemaHeader('inventory', o.out) + comment.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n') + '\n')
      toYamlChunks(inventory as unknown as Record<string, unknown>, write)
    })
  }
  const allWarnings = [...results.flatMap((r) => r.warnings), ...warnings]
  return {
    out: o.out,
    written: !o.dryRun,
    name: inventory.metadata.name,
    counts: {
      servers: inventory.servers.length,
      databases: inventory.databases.length,
      applications: inventory.applications.length,
      dependencies: inventory.dependencies.length,
      unassigned: inventory.unassigned.length,
    },
    sources: results.map((r) => ({kind: r.kind, scope: r.scope, count: r.servers.length + r.databases.length})),
    failures: results.flatMap((r) => r.failures),
    warnings: allWarnings.map(formatDiagnostic),
    ...(diff ? {diff} : {}),
  }
}
