// Several sources into one inventory with stable ids. A record that an earlier source (or the previous inventory)
// already has keeps that id; a later source fills in and corrects facts. On-premises records (file, ssh) are also
// matched by private IP, so an SSH probe enriches the CMDB row of the same host instead of duplicating it.
import type {Application, Database, Dependency, Server} from '../schema/inventory.js'

const ONPREM = new Set(['file', 'ssh', 'db'])
const isOnprem = (s: Server) => ONPREM.has(s.source?.kind ?? '') || s.provider === 'onprem' || s.provider === 'vmware'

export class InventoryMerger {
  readonly servers = new Map<string, Server>()
  readonly databases = new Map<string, Database>()
  readonly applications = new Map<string, Application>()
  private readonly deps = new Map<string, Dependency>()
  private readonly byIp = new Map<string, string>()
  /** Ids of later records that were merged into an earlier one: old id → kept id. */
  readonly renamed = new Map<string, string>()

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
      else if (k === 'services') merged.services = mergeBy([...(a.services ?? []), ...(s.services ?? [])], (x) => String(x.port))
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

  addDatabase(d: Database): void {
    const serverId = d.serverId !== undefined ? (this.renamed.get(d.serverId) ?? d.serverId) : undefined
    const prev = this.databases.get(d.id)
    const next: Database = {...(prev ?? {}), ...stripUndefined(d), ...(serverId ? {serverId} : {})} as Database
    if (prev) {
      next.tags = {...prev.tags, ...d.tags}
      next.settings = prev.settings || d.settings ? {...prev.settings, ...d.settings} : undefined
      if (next.settings === undefined) delete next.settings
      if (prev.application) next.application = prev.application
      if (d.sizeGiB === 0 && prev.sizeGiB > 0) next.sizeGiB = prev.sizeGiB
    }
    this.databases.set(d.id, next)
  }

  addDependency(d: Dependency): void {
    const from = this.renamed.get(d.from) ?? d.from
    const to = this.renamed.get(d.to) ?? d.to
    const key = `${from}|${to}|${d.kind}|${d.port ?? ''}`
    const prev = this.deps.get(key)
    if (prev && d.learnt === 'observed' && prev.learnt === 'observed') prev.weight = Math.max(prev.weight, d.weight)
    else if (!prev) this.deps.set(key, {...d, from, to})
  }

  addApplication(a: Application): void {
    if (!this.applications.has(a.name)) this.applications.set(a.name, a)
  }

  dependencies(): Dependency[] {
    return [...this.deps.values()]
  }
}

function mergeBy<T>(items: T[], key: (x: T) => string): T[] {
  const m = new Map<string, T>()
  for (const x of items) m.set(key(x), {...m.get(key(x)), ...x})
  return [...m.values()]
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
