// The IO shell of discovery: merge the sources' records with the previous inventory at --out (keeping what other
// sources found there), derive applications, validate against the schema, write atomically, and say what changed.
import {existsSync} from 'node:fs'
import path from 'node:path'
import {formatDiagnostic} from '../diagnostics.js'
import {badInput, MigrateError} from '../errors.js'
import {writeFileAtomic} from '../io/atomic.js'
import {schemaHeader} from '../io/write-yaml.js'
import {toYamlChunks} from '../io/fast-yaml-write.js'
import type {Inventory} from '../schema/inventory.js'
import {loadKind} from '../file-kinds.js'
import {buildInventory, type BuildOptions} from './build.js'
import {diffInventories, type InventoryDiff} from './diff.js'
import type {SourceFailure, SourceResult} from './types.js'

export {buildInventory} from './build.js'

export interface WriteOptions extends BuildOptions {
  /** Compute and report, but do not write. */
  dryRun?: boolean
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

/** Reads the previous inventory at `out`, if any. A broken one stops discovery (it may hold hand edits). */
export function readPrevious(out: string, replace = false): Inventory | undefined {
  if (!existsSync(out)) return undefined
  try {
    return loadKind<Inventory>('inventory', out).value
  } catch (error) {
    if (error instanceof MigrateError && !replace) {
      throw badInput(
        `${out} exists but is not a valid inventory; not overwriting it`,
        'PREVIOUS_INVENTORY_INVALID',
        `Fix it (\`migrate validate ${out}\`), or pass --replace to start from the sources alone`,
        error.diagnostics,
      )
    }
    return undefined
  }
}
export function writeInventory(results: SourceResult[], o: WriteOptions): DiscoverResult {
  let previous = readPrevious(o.out, o.replace)
  const {inventory, warnings, renamed} = buildInventory(results, previous, o)
  // What changed, now: then the previous inventory (10,000 servers) can go before the new one is written.
  const diff = previous ? diffInventories(previous, inventory, renamed) : undefined
  previous = undefined
  const comment = `Written by migrate discover (${results.map((r) => r.kind).join(', ')}); edit freely: applications, roles and unassigned servers.\nRun discover again to refresh: it keeps other sources and shows what changed.`
  // The layout of src/io/write-yaml.ts (schema header, comment, toYaml text), with the fast writer: same bytes.
  // Written in pieces as it is made: 10,000 servers never sit in memory as one 7 MB string.
  if (!o.dryRun) {
    writeFileAtomic(o.out, (write) => {
      write(
        schemaHeader('inventory', o.out) +
          comment
            .split('\n')
            .map((l) => `# ${l}`.trimEnd())
            .join('\n') +
          '\n',
      )
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
