// What changed between the previous inventory and the new one, for servers, databases, applications and
// dependencies: what was added, what was removed, and every field that changed on the rest (a database's
// persistence none → aof, an IP, a listening service). Shown by `migrate discover` instead of silently overwriting,
// and part of its --json result. `unchanged` counts only records with no field changed.
import type {Dependency, Inventory, Server} from '../schema/inventory.js'

export interface ServerSize {
  vcpus: number
  memoryMiB: number
  diskGiB: number
}

/** One field of a record that changed; `field` is a path (`settings.persistence`, `privateIps`, `os.name`). */
export interface FieldChange {
  field: string
  from?: unknown
  to?: unknown
}

export interface RecordChange {
  id: string
  changes: FieldChange[]
}

export interface KindDiff {
  added: string[]
  removed: string[]
  changed: RecordChange[]
  unchanged: number
}

export interface InventoryDiff {
  /** Servers: the same as servers.added / servers.removed (kept for scripts that read them). */
  added: string[]
  removed: string[]
  resized: {id: string; from: ServerSize; to: ServerSize}[]
  /** Servers whose application changed (a tag changed, or an assignment was made or undone). */
  reassigned: {id: string; from?: string; to?: string}[]
  databasesAdded: string[]
  databasesRemoved: string[]
  /** Servers with no field changed. */
  unchanged: number
  servers: KindDiff
  databases: KindDiff
  applications: KindDiff
  /** Keyed `from → to (kind[, port])`. */
  dependencies: KindDiff
}

type Diffable = Pick<Inventory, 'servers' | 'databases'> & Partial<Pick<Inventory, 'applications' | 'dependencies'>>

export function sizeOf(s: Server): ServerSize {
  return {
    vcpus: s.vcpus,
    memoryMiB: s.memoryMiB,
    diskGiB: Math.round(s.disks.reduce((n, d) => n + d.sizeGiB, 0) * 100) / 100,
  }
}

/** Bookkeeping, not a fact about the estate: which source last saw a record; the id is the key (a rename is said once). */
const IGNORED = new Set(['source', 'id'])
/** Objects whose keys are reported one by one (`settings.save`); arrays and other values are reported whole. */
const NESTED = new Set(['settings', 'tags', 'os', 'utilization'])

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b)

/** Every field that differs between two versions of one record. */
export function fieldChanges(before: object, after: object): FieldChange[] {
  const a = before as Record<string, unknown>
  const b = after as Record<string, unknown>
  const out: FieldChange[] = []
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  for (const k of keys) {
    if (IGNORED.has(k) || same(a[k], b[k])) continue
    if (NESTED.has(k) && isPlain(a[k] ?? {}) && isPlain(b[k] ?? {})) {
      out.push(
        ...fieldChanges((a[k] ?? {}) as object, (b[k] ?? {}) as object).map((c) => ({...c, field: `${k}.${c.field}`})),
      )
      continue
    }
    out.push({field: k, ...(a[k] !== undefined ? {from: a[k]} : {}), ...(b[k] !== undefined ? {to: b[k]} : {})})
  }
  return out
}

const isPlain = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v)

function diffKind<T extends object>(
  before: readonly T[],
  after: readonly T[],
  key: (x: T) => string,
  renamed?: ReadonlyMap<string, string>,
): KindDiff {
  const now = new Map(after.map((x) => [key(x), x]))
  const seen = new Set<string>()
  const d: KindDiff = {added: [], removed: [], changed: [], unchanged: 0}
  for (const old of before) {
    const oldKey = key(old)
    const newKey = renamed?.get(oldKey) ?? oldKey
    const x = now.get(newKey)
    if (x === undefined) {
      d.removed.push(oldKey)
      continue
    }
    seen.add(newKey)
    const changes = fieldChanges(old, x)
    if (newKey !== oldKey) changes.unshift({field: 'id', from: oldKey, to: newKey})
    if (changes.length > 0) d.changed.push({id: newKey, changes})
    else d.unchanged++
  }
  for (const k of now.keys()) if (!seen.has(k)) d.added.push(k)
  d.added.sort()
  d.removed.sort()
  d.changed.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
  return d
}

export function dependencyLabel(d: Pick<Dependency, 'from' | 'to' | 'kind' | 'port'>): string {
  return `${d.from} → ${d.to} (${d.kind}${d.port !== undefined ? `, ${d.port}` : ''})`
}

/**
 * `renamed` maps database ids of `before` to their id in `after` (MariaDB's mysql: ids, a probe's guess corrected
 * by introspection): those records are compared as one, and dependencies naming them too.
 */
export function diffInventories(
  before: Diffable,
  after: Diffable,
  renamed: ReadonlyMap<string, string> = new Map(),
): InventoryDiff {
  const servers = diffKind(before.servers, after.servers, (s) => s.id)
  const databases = diffKind(before.databases, after.databases, (d) => d.id, renamed)
  const applications = diffKind(before.applications ?? [], after.applications ?? [], (a) => a.name)
  const to = (x: string) => renamed.get(x) ?? x
  const depRenames = new Map<string, string>()
  for (const d of before.dependencies ?? [])
    if (renamed.has(d.from) || renamed.has(d.to))
      depRenames.set(dependencyLabel(d), dependencyLabel({...d, from: to(d.from), to: to(d.to)}))
  const dependencies = diffKind(before.dependencies ?? [], after.dependencies ?? [], dependencyLabel, depRenames)
  for (const c of dependencies.changed)
    c.changes = c.changes.filter((x) => x.field !== 'id' && x.field !== 'from' && x.field !== 'to')
  dependencies.unchanged += dependencies.changed.filter((c) => c.changes.length === 0).length
  dependencies.changed = dependencies.changed.filter((c) => c.changes.length > 0)
  const old = new Map(before.servers.map((s) => [s.id, s]))
  const now = new Map(after.servers.map((s) => [s.id, s]))
  const resized: InventoryDiff['resized'] = []
  const reassigned: InventoryDiff['reassigned'] = []
  for (const c of servers.changed) {
    const o = old.get(c.id)!
    const s = now.get(c.id)!
    const a = sizeOf(o)
    const b = sizeOf(s)
    if (a.vcpus !== b.vcpus || a.memoryMiB !== b.memoryMiB || a.diskGiB !== b.diskGiB)
      resized.push({id: c.id, from: a, to: b})
    if (o.application !== s.application)
      reassigned.push({
        id: c.id,
        ...(o.application ? {from: o.application} : {}),
        ...(s.application ? {to: s.application} : {}),
      })
  }
  return {
    added: servers.added,
    removed: servers.removed,
    resized,
    reassigned,
    databasesAdded: databases.added,
    databasesRemoved: databases.removed,
    unchanged: servers.unchanged,
    servers,
    databases,
    applications,
    dependencies,
  }
}

export function diffIsEmpty(d: InventoryDiff): boolean {
  return [d.servers, d.databases, d.applications, d.dependencies].every(
    (k) => k.added.length + k.removed.length + k.changed.length === 0,
  )
}
