// One discovery run's records plus the previous inventory → the new inventory. Pure and synchronous (no IO), so
// the rule it keeps can be property-tested in-process: a record of the previous inventory goes away only when this
// run read where it came from (its region, file, host or --db endpoint) and did not find it again. Everything else
// (other regions, other files, hosts that could not be read, databases found by an earlier --db) stays as it was.
import path from 'node:path'
import type {Diagnostic} from '../diagnostics.js'
import {MigrateError, EXIT} from '../errors.js'
import {checkInventory} from '../inventory/check.js'
import {API_VERSION} from '../schema/common.js'
import {Inventory, type Database, type Dependency, type Server} from '../schema/inventory.js'
import {
  assignServers,
  DEFAULT_TAG_KEYS,
  handAssignment,
  slug,
  type AssignRule,
  type Assignment,
  type TagKeys,
} from './app-tags.js'
import {InventoryMerger} from './merge.js'
import {generatedDbId, isGeneratedDbId, RunScope} from './scope.js'
import type {SourceResult} from './types.js'

export interface BuildOptions {
  out: string
  /** metadata.name; default: the plan directory's name. */
  name?: string
  tagKeys?: TagKeys
  assignRule?: AssignRule
  /** Start from nothing instead of keeping what other sources put in --out. The diff is still shown. */
  replace?: boolean
  now?: Date
}

export interface BuildResult {
  inventory: Inventory
  warnings: Diagnostic[]
  /** Database ids of the previous inventory that are now another id (old → new), for the diff. */
  renamed: Map<string, string>
}

/**
 * Older versions gave MariaDB the id `mysql:host:port`; the docs (and this version) say `mariadb:host:port`. The
 * previous inventory's ids are moved over, with the dependencies that name them, so nothing points at a lost id.
 */
export function migrateLegacyIds(previous: Inventory): {inventory: Inventory; renamed: Map<string, string>} {
  const renamed = new Map<string, string>()
  const taken = new Set(previous.databases.map((d) => d.id))
  for (const d of previous.databases) {
    if (
      d.engine !== 'mariadb' ||
      d.host === undefined ||
      d.port === undefined ||
      !isGeneratedDbId(d) ||
      !d.id.startsWith('mysql:')
    )
      continue
    const id = generatedDbId('mariadb', d.host, d.port)
    if (!taken.has(id)) renamed.set(d.id, id)
  }
  if (renamed.size === 0) return {inventory: previous, renamed}
  const to = (x: string) => renamed.get(x) ?? x
  return {
    inventory: {
      ...previous,
      databases: previous.databases.map((d) => (renamed.has(d.id) ? {...d, id: to(d.id)} : d)),
      dependencies: previous.dependencies.map((d) =>
        renamed.has(d.from) || renamed.has(d.to) ? {...d, from: to(d.from), to: to(d.to)} : d,
      ),
    },
    renamed,
  }
}

/** What every step of one build shares. */
interface Run {
  results: SourceResult[]
  /** The previous inventory (legacy ids moved), for ids and hand assignments; `keep` is it unless --replace. */
  prev: Inventory | undefined
  keep: Inventory | undefined
  scope: RunScope
  merger: InventoryMerger
  warnings: Diagnostic[]
}

export function buildInventory(results: SourceResult[], previous: Inventory | undefined, o: BuildOptions): BuildResult {
  const now = (o.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z')
  const migrated = previous ? migrateLegacyIds(previous) : undefined
  const prev = migrated?.inventory
  const run: Run = {
    results,
    prev,
    keep: prev && !o.replace ? prev : undefined,
    scope: new RunScope(results),
    merger: new InventoryMerger(),
    warnings: [],
  }
  for (const [from, to] of migrated?.renamed ?? []) {
    run.warnings.push({
      severity: 'warning',
      code: 'DATABASE_ID_RENAMED',
      message: `database ${from} is MariaDB: its id is now ${to} (ids are <engine>:host:port); a plan made before names the old id: run migrate plan again`,
    })
  }
  mergeServers(run)
  const probed = probedHosts(run)
  mergeDatabases(run, probed)
  mergeDependencies(run, probed)
  const inventory = assemble(run, o, now)
  const {merger} = run
  const renamed = new Map(migrated?.renamed ?? [])
  if (prev) for (const d of prev.databases) if (merger.resolve(d.id) !== d.id) renamed.set(d.id, merger.resolve(d.id))
  for (const [from, to] of migrated?.renamed ?? []) renamed.set(from, merger.resolve(to))
  return {inventory, warnings: run.warnings, renamed}
}

/**
 * The previous inventory's servers go in first (so later sources merge into them and ids stay), except those this
 * run read again: those are replaced by what it found, and go if it found nothing.
 */
function mergeServers({results, prev, keep, scope, merger}: Run): void {
  if (keep) {
    for (const a of keep.applications) merger.addApplication(a)
    for (const s of keep.servers) if (!scope.coversServer(s)) merger.addServer(s)
  }
  const prevCovered = new Map<string, string>()
  if (prev)
    for (const s of prev.servers)
      if (scope.coversServer(s)) for (const ip of s.privateIps) if (!prevCovered.has(ip)) prevCovered.set(ip, s.id)
  const previousIds = new Set(prev?.servers.map((p) => p.id))
  for (const r of results) {
    for (const a of r.applications) merger.addApplication(a)
    for (const s of r.servers) {
      // An on-premises host seen again under another name keeps its old id.
      const old =
        (s.source?.kind === 'ssh' || s.source?.kind === 'file') && !previousIds.has(s.id)
          ? s.privateIps.map((ip) => prevCovered.get(ip)).find(Boolean)
          : undefined
      const id = merger.addServer(old ? {...s, id: old} : s)
      if (old && s.id !== id) merger.renamed.set(s.id, id)
    }
  }
}

/** The hosts the SSH probe read in this run (by the id they are kept under), and the ports that listen there now. */
function probedHosts({results, merger}: Run): Map<string, Set<number>> {
  const probed = new Map<string, Set<number>>()
  for (const r of results) {
    if (r.kind !== 'ssh') continue
    for (const s of r.servers) probed.set(merger.resolve(s.id), new Set((s.services ?? []).map((x) => x.port)))
  }
  return probed
}

/**
 * A database of the previous inventory goes only if this run covered it and did not find it again: its CMDB file
 * or --db endpoint was read, or the host it runs on was probed and nothing listens on its port any more.
 */
function mergeDatabases({results, keep, scope, merger}: Run, probed: Map<string, Set<number>>): void {
  const fresh = results.flatMap((r) => r.databases)
  if (keep) {
    const freshIds = new Set(fresh.map((d) => d.id))
    const freshEndpoints = new Set(fresh.flatMap((d) => endpointKeys(d, merger)))
    const probedGone = (d: Database) => {
      const ports = d.serverId !== undefined ? probed.get(merger.resolve(d.serverId)) : undefined
      return ports !== undefined && d.port !== undefined && !ports.has(d.port)
    }
    for (const d of keep.databases) {
      const foundAgain = freshIds.has(d.id) || endpointKeys(d, merger).some((k) => freshEndpoints.has(k))
      if (foundAgain || !(scope.coversDatabaseSource(d) || probedGone(d))) merger.addDatabase(d, false)
    }
  }
  for (const d of fresh) merger.addDatabase(d)
}

/**
 * An observed dependency goes when the probe read both of its ends in this run and did not see it; a declared one
 * is a person's or a CMDB's statement and stays (it goes with an end that went).
 */
function mergeDependencies({results, keep, merger}: Run, probed: Map<string, Set<number>>): void {
  const dbServer = new Map<string, string | undefined>([...merger.databases.values()].map((d) => [d.id, d.serverId]))
  const readNow = (end: string) => {
    const id = merger.resolve(end)
    const host = dbServer.has(id) ? dbServer.get(id) : id
    return host !== undefined && probed.has(merger.resolve(host))
  }
  if (keep)
    for (const d of keep.dependencies)
      if (!(d.learnt === 'observed' && readNow(d.from) && readNow(d.to))) merger.addDependency(d)
  for (const r of results) for (const d of r.dependencies) merger.addDependency(d)
}

/** Applications and servers assigned, databases attached, dangling dependencies dropped: the validated inventory. */
function assemble({results, prev, keep, scope, merger, warnings}: Run, o: BuildOptions, now: string): Inventory {
  const servers = [...merger.servers.values()]
  // Servers this run found again keep the application, role and environment a person gave them (what their tags
  // and the rule do not explain; an unassigned server assigned by hand stays assigned) unless their tags now say
  // otherwise. What came from tags follows the tags: a removed app tag leaves the server unassigned again.
  const keys = o.tagKeys ?? DEFAULT_TAG_KEYS
  const assigned = new Map<string, Assignment>()
  if (keep) {
    for (const p of keep.servers) {
      if (!scope.coversServer(p)) continue
      const hand = handAssignment(p, keys, o.assignRule)
      if (hand) assigned.set(p.id, hand)
    }
  }
  for (const a of assignServers(servers, keys, o.assignRule, assigned)) merger.addApplication(a)
  const serverById = new Map(servers.map((s) => [s.id, s]))
  const databases = [...merger.databases.values()]
  attachDatabases(databases, servers)
  for (const d of databases) {
    if (d.serverId && !serverById.has(d.serverId)) delete d.serverId
    if (!d.application && d.serverId) {
      const app = serverById.get(d.serverId)?.application
      if (app) d.application = app
    }
    if (d.application && !merger.applications.has(d.application))
      merger.addApplication({
        name: d.application,
        criticality: 'medium',
        environment: 'prod',
        complexity: 'medium',
        tags: {},
      })
  }
  const nodes = new Set<string>([...merger.applications.keys(), ...serverById.keys(), ...databases.map((d) => d.id)])
  const dependencies = merger.dependencies().filter((d) => {
    const ok = nodes.has(d.from) && nodes.has(d.to) && d.from !== d.to
    if (!ok && d.from !== d.to)
      warnings.push({
        severity: 'warning',
        code: 'DEPENDENCY_DROPPED',
        message: `dependency ${d.from} → ${d.to} names something no longer in the inventory; dropped`,
      })
    return ok
  })
  const sources = [
    ...(keep?.metadata.sources ?? []).filter(
      (s) => !results.some((r) => r.kind === s.kind && s.scope.every((x) => r.scope.includes(x))),
    ),
    ...results.map((r) => ({kind: r.kind, scope: r.scope, at: now, count: r.servers.length + r.databases.length})),
  ]
  const name =
    slug(o.name ?? prev?.metadata.name ?? (path.basename(path.dirname(path.resolve(o.out))) || 'discovered')) ||
    'discovered'
  servers.sort((a, b) => a.id.localeCompare(b.id))
  databases.sort((a, b) => a.id.localeCompare(b.id))
  return validated({
    apiVersion: API_VERSION,
    kind: 'Inventory',
    metadata: {
      name,
      ...(prev?.metadata.description ? {description: prev.metadata.description} : {}),
      generatedAt: now,
      sources,
    },
    applications: [...merger.applications.values()].sort((a, b) => a.name.localeCompare(b.name)),
    servers,
    databases,
    dependencies: dependencies.sort(compareDependencies),
    unassigned: servers.filter((s) => !s.application).map((s) => s.id),
  })
}

function endpointKeys(d: Database, m: InventoryMerger): string[] {
  if (d.port === undefined) return []
  return [
    ...(d.host !== undefined ? [`h|${d.host}|${d.port}`] : []),
    ...(d.serverId !== undefined ? [`s|${m.resolve(d.serverId)}|${d.port}`] : []),
  ]
}

/**
 * A database without a server (introspected by --db, declared in a CMDB) is attached to the one server of the
 * inventory — from this run or an earlier one — whose address or name is its host. Two servers with that address
 * (private IPs repeat across VPCs) attach it to neither.
 */
export function attachDatabases(databases: Database[], servers: Server[]): void {
  const byAddress = new Map<string, Set<string>>()
  const note = (k: string | undefined, id: string) => {
    if (!k) return
    let set = byAddress.get(k)
    if (!set) byAddress.set(k, (set = new Set()))
    set.add(id)
  }
  for (const s of servers) {
    for (const ip of [...s.privateIps, ...s.publicIps]) note(ip, s.id)
    note(s.hostname, s.id)
    note(s.name, s.id)
  }
  const ids = new Set(servers.map((s) => s.id))
  for (const d of databases) {
    if ((d.serverId !== undefined && ids.has(d.serverId)) || d.host === undefined) continue
    const hits = byAddress.get(d.host)
    if (hits?.size === 1) d.serverId = [...hits][0]
  }
}

const compareDependencies = (a: Dependency, b: Dependency) =>
  a.from.localeCompare(b.from) ||
  a.to.localeCompare(b.to) ||
  (a.port ?? 0) - (b.port ?? 0) ||
  a.kind.localeCompare(b.kind)

function validated(raw: unknown): Inventory {
  const parsed = Inventory.safeParse(raw)
  if (!parsed.success) {
    const first = parsed.error.issues[0]
    throw new MigrateError(
      `the discovered inventory does not match the schema: ${first.path.join('.')}: ${first.message}`,
      {
        code: 'INTERNAL_INVENTORY_INVALID',
        exitCode: EXIT.FAILURE,
        hint: 'This is a bug in migrate discover: run again with --debug and report it',
      },
    )
  }
  const issues = checkInventory(parsed.data).filter((i) => (i.severity ?? 'error') === 'error')
  if (issues.length > 0) {
    throw new MigrateError(
      `the discovered inventory is inconsistent: ${issues[0].path.join('.')}: ${issues[0].message}`,
      {
        code: 'INTERNAL_INVENTORY_INVALID',
        exitCode: EXIT.FAILURE,
        hint: 'This is a bug in migrate discover: run again with --debug and report it',
      },
    )
  }
  return parsed.data
}
