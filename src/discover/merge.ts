// Several sources into one inventory with stable ids. A record that an earlier source (or the previous inventory)
// already has keeps that id; a later source fills in and corrects facts. On-premises records (file, ssh) are also
// matched by private IP, so an SSH probe enriches the CMDB row of the same host instead of duplicating it; a
// discovered database is matched by its endpoint (host and port, or server and port), so the probe's guess and
// the --db introspection of one server are one record. Pure: no IO, so it can be property-tested.
import type {Application, Database, Dependency, Server} from '../schema/inventory.js'
import {isGeneratedDbId} from './scope.js'

const ONPREM = new Set(['file', 'ssh', 'db'])
const isOnprem = (s: Server) => ONPREM.has(s.source?.kind ?? '') || s.provider === 'onprem' || s.provider === 'vmware'

export const dependencyKey = (d: Pick<Dependency, 'from' | 'to' | 'kind' | 'port'>): string =>
  `${d.from}|${d.to}|${d.kind}|${d.port ?? ''}`

export class InventoryMerger {
  readonly servers = new Map<string, Server>()
  readonly databases = new Map<string, Database>()
  readonly applications = new Map<string, Application>()
  private readonly deps = new Map<string, Dependency>()
  private readonly byIp = new Map<string, string>()
  /** Endpoint ("h|host|port", "s|serverId|port") → ids of the databases there. */
  private readonly byEndpoint = new Map<string, Set<string>>()
  /** Ids of later records that were merged into an earlier one (servers and databases): old id → kept id. */
  readonly renamed = new Map<string, string>()

  /** The id a record is known by now, following merges. */
  resolve(id: string): string {
    let x = id
    for (let i = 0; i < 8 && this.renamed.has(x); i++) x = this.renamed.get(x)!
    return x
  }

  addServer(s: Server): string {
    let id = this.servers.has(s.id) ? s.id : undefined
    if (id === undefined && isOnprem(s)) {
      for (const ip of s.privateIps) {
        const hit = this.byIp.get(ip)
        if (hit !== undefined) {
          id = hit
          break
        }
      }
    }
    if (id === undefined) {
      this.servers.set(s.id, {...s})
      this.indexIps(s)
      return s.id
    }
    const a = this.servers.get(id)!
    if (s.id !== id) this.renamed.set(s.id, id)
    const merged: Server = {...a}
    for (const [k, v] of Object.entries(s) as [keyof Server, unknown][]) {
      if (v === undefined || k === 'id') continue
      if (k === 'tags') merged.tags = {...a.tags, ...s.tags}
      else if (k === 'privateIps' || k === 'publicIps') merged[k] = [...new Set([...a[k], ...s[k]])]
      else if (k === 'disks') merged.disks = s.disks.length > 0 ? s.disks : a.disks
      // What listens on a host is the probe's whole view: a port that stopped listening is gone.
      else if (k === 'services') merged.services = s.services
      else if (k === 'application' || k === 'role' || k === 'environment') merged[k] = (a[k] ?? v) as never
      else if (k === 'name' && a.name !== a.id) continue
      else (merged as Record<string, unknown>)[k] = v
    }
    this.servers.set(id, merged)
    this.indexIps(merged)
    return id
  }

  private indexIps(s: Server): void {
    if (!isOnprem(s)) return
    for (const ip of s.privateIps) if (!this.byIp.has(ip)) this.byIp.set(ip, s.id)
  }

  private endpoints(d: Database): string[] {
    if (d.port === undefined) return []
    return [
      ...(d.host !== undefined ? [`h|${d.host}|${d.port}`] : []),
      ...(d.serverId !== undefined ? [`s|${this.resolve(d.serverId)}|${d.port}`] : []),
    ]
  }

  /** The one database already at `d`'s endpoint, if exactly one is. */
  private atEndpoint(d: Database): string | undefined {
    const hits = new Set<string>()
    for (const k of this.endpoints(d)) for (const id of this.byEndpoint.get(k) ?? []) hits.add(id)
    return hits.size === 1 ? [...hits][0] : undefined
  }

  private index(d: Database, add: boolean): void {
    for (const k of this.endpoints(d)) {
      let set = this.byEndpoint.get(k)
      if (!set) this.byEndpoint.set(k, (set = new Set()))
      if (add) set.add(d.id)
      else set.delete(d.id)
    }
  }

  /**
   * Adds or merges a database; returns the id it is kept under. A discovered record (generated id) also merges
   * into the one record at its endpoint; that record's id stays unless it was generated too, for another engine
   * (the probe guessed mysql by the port, introspection says mariadb): then it follows the engine.
   */
  addDatabase(d: Database, byEndpoint = isGeneratedDbId(d)): string {
    const serverId = d.serverId !== undefined ? this.resolve(d.serverId) : undefined
    const incoming: Database = {...d, ...(serverId !== undefined ? {serverId} : {})}
    const id = this.databases.has(d.id) ? d.id : byEndpoint ? this.atEndpoint(incoming) : undefined
    if (id === undefined) {
      this.databases.set(d.id, incoming)
      this.index(incoming, true)
      return d.id
    }
    const prev = this.databases.get(id)!
    const next: Database = {...prev, ...stripUndefined(incoming)} as Database
    next.tags = {...prev.tags, ...d.tags}
    if (prev.settings || d.settings) next.settings = {...prev.settings, ...d.settings}
    if (prev.application) next.application = prev.application
    let kept = id
    if (id !== d.id) {
      const follows = isGeneratedDbId(prev) && isGeneratedDbId(d)
      kept = follows ? d.id : id
      this.renamed.set(follows ? id : d.id, kept)
    }
    next.id = kept
    this.index(prev, false)
    this.databases.delete(id)
    this.databases.set(kept, next)
    this.index(next, true)
    return kept
  }

  addDependency(d: Dependency): void {
    const from = this.resolve(d.from)
    const to = this.resolve(d.to)
    const key = dependencyKey({...d, from, to})
    const prev = this.deps.get(key)
    if (!prev) this.deps.set(key, {...d, from, to})
    else if (d.learnt === 'observed' && prev.learnt === 'observed')
      this.deps.set(key, {...prev, ...stripUndefined(d), from, to})
  }

  addApplication(a: Application): void {
    if (!this.applications.has(a.name)) this.applications.set(a.name, a)
  }

  dependencies(): Dependency[] {
    return [...this.deps.values()]
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
