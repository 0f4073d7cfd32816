// Target sizing: the smallest instance type of the target cloud with at least the source's vCPUs and memory
// (one step down when p95 CPU says the server idles), and a managed database class per database. The catalogs are
// data under templates/catalog/<cloud>.json, each naming where its figures come from.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {badInput} from '../errors.js'
import {TEMPLATES_DIR} from '../paths.js'
import type {Database, Server} from '../schema/inventory.js'
import type {TargetCloud} from '../schema/common.js'

export interface CatalogEntry {
  name: string
  family?: string
  vcpus: number
  memoryMiB: number
}

export interface Catalog {
  cloud: TargetCloud
  instanceTypes: CatalogEntry[]
  databases: Partial<Record<'postgres' | 'mysql' | 'mariadb' | 'redis', {service: string; classes: CatalogEntry[]}>>
}

export type Catalogs = Record<TargetCloud, Catalog>

/** p95 CPU below this (percent) rightsizes one step down. */
export const LOW_CPU_P95 = 20

let defaultCatalogs: Catalogs | undefined

/** The catalogs shipped in templates/catalog (read once). */
export function loadCatalogs(dir = path.join(TEMPLATES_DIR, 'catalog')): Catalogs {
  if (dir === path.join(TEMPLATES_DIR, 'catalog') && defaultCatalogs) return defaultCatalogs
  const out = {} as Catalogs
  for (const cloud of ['aws', 'alicloud'] as const) {
    const file = path.join(dir, `${cloud}.json`)
    let raw: Catalog
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Catalog
    } catch (error) {
      throw badInput(
        `cannot read the instance catalog ${file}: ${(error as Error).message}`,
        'CATALOG_UNREADABLE',
        'Restore templates/catalog from the package',
      )
    }
    const byShape = (a: CatalogEntry, b: CatalogEntry) =>
      a.vcpus - b.vcpus || a.memoryMiB - b.memoryMiB || a.name.localeCompare(b.name)
    raw.instanceTypes = [...raw.instanceTypes].sort(byShape)
    for (const k of Object.keys(raw.databases) as (keyof Catalog['databases'])[])
      raw.databases[k]!.classes = [...raw.databases[k]!.classes].sort(byShape)
    out[cloud] = raw
  }
  if (dir === path.join(TEMPLATES_DIR, 'catalog')) defaultCatalogs = out
  return out
}

function smallest(entries: CatalogEntry[], vcpus: number, memoryMiB: number): CatalogEntry | undefined {
  for (const e of entries) if (e.vcpus >= vcpus && e.memoryMiB >= memoryMiB) return e
  return undefined
}

function gib(mib: number): string {
  const g = mib / 1024
  return `${Number.isInteger(g) ? g : g.toFixed(1)} GiB`
}

export interface ServerSizing {
  instanceType: string
  vcpus: number
  memoryMiB: number
  reason: string
}

/** Sizes servers against one catalog; memoised per shape, so 100k servers cost a few map lookups each. */
export class Sizer {
  private readonly memo = new Map<number, ServerSizing>()
  constructor(readonly catalog: Catalog) {}

  sizeServer(s: Server): ServerSizing {
    const cpu = s.utilization?.cpuP95
    const mem = s.utilization?.memoryP95
    const key =
      (s.vcpus * 16_777_216 + s.memoryMiB) * 3 +
      (cpu !== undefined && cpu < LOW_CPU_P95 ? (mem !== undefined && mem >= 50 ? 1 : 2) : 0)
    const hit = this.memo.get(key)
    if (hit) return hit
    const types = this.catalog.instanceTypes
    const shape = `${s.vcpus} vCPU/${gib(s.memoryMiB)}`
    let base = smallest(types, s.vcpus, s.memoryMiB)
    let reason: string
    if (!base) {
      base = types[types.length - 1]
      reason = `${shape} is larger than any ${this.catalog.cloud} type in the catalog: largest, ${base.name}`
    } else reason = `${shape} → ${base.name}`
    let chosen = base
    if (cpu !== undefined && cpu < LOW_CPU_P95) {
      let down: CatalogEntry | undefined
      if (mem !== undefined && mem >= 50) down = smallest(types, Math.max(1, Math.ceil(s.vcpus / 2)), s.memoryMiB)
      else {
        const fam = types.filter((t) => t.family === base!.family)
        const i = fam.indexOf(base)
        down = i > 0 ? fam[i - 1] : undefined
      }
      if (down && down !== base && down.vcpus < base.vcpus) {
        chosen = down
        reason += `; p95 CPU ${cpu}% is low: one step down to ${down.name}`
      }
    }
    const out = {instanceType: chosen.name, vcpus: chosen.vcpus, memoryMiB: chosen.memoryMiB, reason}
    this.memo.set(key, out)
    return out
  }

  /** The managed service and class for a database, or undefined when the engine has no managed target here. */
  sizeDatabase(
    db: Database,
    host: Server | undefined,
  ): {service: string; instanceClass: string; reason: string} | undefined {
    const engine = db.engine as keyof Catalog['databases']
    const entry = this.catalog.databases[engine]
    if (!entry) return undefined
    const classes = entry.classes
    let need: {vcpus: number; memoryMiB: number}
    let why: string
    // A size nobody measured (a probe saw the port, nobody logged in) counts as 0 and the reason says so.
    const size = db.sizeGiB ?? 0
    const sizeText = db.sizeGiB === undefined ? 'size unknown (introspect it with discover --db)' : `${db.sizeGiB} GiB`
    if (engine === 'redis') {
      need = {vcpus: 1, memoryMiB: Math.ceil(size * 1.3 * 1024)}
      why = `${sizeText} dataset + 30% headroom`
    } else if (host) {
      need = {vcpus: host.vcpus, memoryMiB: host.memoryMiB}
      why = `host ${host.id} has ${host.vcpus} vCPU/${gib(host.memoryMiB)}`
    } else {
      const vcpus = size < 100 ? 2 : size < 500 ? 4 : size < 2000 ? 8 : 16
      need = {vcpus, memoryMiB: vcpus * 4096}
      why = `${sizeText} with no known host: sized by data volume`
    }
    let cls =
      engine === 'redis'
        ? classes
            .filter((c) => c.memoryMiB >= need.memoryMiB)
            .sort((a, b) => a.memoryMiB - b.memoryMiB || a.vcpus - b.vcpus)[0]
        : smallest(classes, need.vcpus, need.memoryMiB)
    if (!cls) {
      cls =
        engine === 'redis'
          ? [...classes].sort((a, b) => a.memoryMiB - b.memoryMiB)[classes.length - 1]
          : classes[classes.length - 1]
      why += `; larger than any class: the largest (consider a cluster)`
    }
    return {service: entry.service, instanceClass: cls.name, reason: `${why} → ${cls.name}`}
  }
}
