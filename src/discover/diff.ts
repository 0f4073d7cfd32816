// What changed between the previous inventory and the new one: servers added, removed, resized; databases added
// and removed. Shown by `migrate discover` instead of silently overwriting, and part of its --json result.
import type {Inventory, Server} from '../schema/inventory.js'

export interface ServerSize {
  vcpus: number
  memoryMiB: number
  diskGiB: number
}

export interface InventoryDiff {
  added: string[]
  removed: string[]
  resized: {id: string; from: ServerSize; to: ServerSize}[]
  /** Servers whose application changed (a tag changed, or an assignment was made or undone). */
  reassigned: {id: string; from?: string; to?: string}[]
  databasesAdded: string[]
  databasesRemoved: string[]
  unchanged: number
}

export function sizeOf(s: Server): ServerSize {
  return {vcpus: s.vcpus, memoryMiB: s.memoryMiB, diskGiB: Math.round(s.disks.reduce((n, d) => n + d.sizeGiB, 0) * 100) / 100}
}

export function diffInventories(before: Pick<Inventory, 'servers' | 'databases'>, after: Pick<Inventory, 'servers' | 'databases'>): InventoryDiff {
  const old = new Map(before.servers.map((s) => [s.id, s]))
  const now = new Map(after.servers.map((s) => [s.id, s]))
  const diff: InventoryDiff = {added: [], removed: [], resized: [], reassigned: [], databasesAdded: [], databasesRemoved: [], unchanged: 0}
  for (const [id, s] of now) {
    const o = old.get(id)
    if (!o) {
      diff.added.push(id)
      continue
    }
    const a = sizeOf(o)
    const b = sizeOf(s)
    const resized = a.vcpus !== b.vcpus || a.memoryMiB !== b.memoryMiB || a.diskGiB !== b.diskGiB
    if (resized) diff.resized.push({id, from: a, to: b})
    if (o.application !== s.application) diff.reassigned.push({id, ...(o.application ? {from: o.application} : {}), ...(s.application ? {to: s.application} : {})})
    if (!resized && o.application === s.application) diff.unchanged++
  }
  for (const id of old.keys()) if (!now.has(id)) diff.removed.push(id)
  const oldDb = new Set(before.databases.map((d) => d.id))
  const nowDb = new Set(after.databases.map((d) => d.id))
  diff.databasesAdded = [...nowDb].filter((id) => !oldDb.has(id))
  diff.databasesRemoved = [...oldDb].filter((id) => !nowDb.has(id))
  for (const k of ['added', 'removed', 'databasesAdded', 'databasesRemoved'] as const) diff[k].sort()
  diff.resized.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
  diff.reassigned.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
  return diff
}

export function diffIsEmpty(d: InventoryDiff): boolean {
  return d.added.length + d.removed.length + d.resized.length + d.reassigned.length + d.databasesAdded.length + d.databasesRemoved.length === 0
}
