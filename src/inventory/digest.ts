// The digest that binds a plan to the inventory it was made from, written in plan.yaml as `metadata.inventoryDigest`.
// One module, so `plan` (writes it) and `execute`/`status` (check it) agree.
//
// Plans written now carry `content-sha256:<hex>`: a hash of what the plan depends on — applications, servers,
// databases, dependencies, unassigned — as the schema reads them (zod's output has a fixed key order and the
// defaults filled in). A comment, a reformatted line, or `discover` run again with nothing changed (which only
// rewrites metadata.generatedAt and the source times) leaves it alone; a resized server or a new dependency does
// not. Older plans carry `sha256:<hex>` (or bare hex) of the file's bytes; those are still checked that way.
import {createHash} from 'node:crypto'
import type {Inventory} from '../schema/inventory.js'

const CONTENT = 'content-sha256:'

/**
 * Records (tags, database settings) in key order: their order in the file means nothing (the cloud may list an
 * instance's tags in another order each time), while every other object comes out of the schema in its own order.
 */
function sortedRecords(key: string, value: unknown): unknown {
  if ((key === 'tags' || key === 'settings') && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(o).sort()) out[k] = o[k]
    return out
  }
  return value
}

/** The content digest of a (schema-parsed) inventory. */
export function inventoryDigest(
  inventory: Pick<Inventory, 'applications' | 'servers' | 'databases' | 'dependencies' | 'unassigned'>,
): string {
  const {applications, servers, databases, dependencies, unassigned} = inventory
  const hash = createHash('sha256')
  // Piece by piece: 100,000 servers never become one JSON string.
  hash.update(JSON.stringify({applications, databases, dependencies, unassigned}, sortedRecords))
  for (const s of servers) hash.update(JSON.stringify(s, sortedRecords))
  return CONTENT + hash.digest('hex')
}

/** The legacy digest: sha256 of the file's bytes. */
export function fileDigest(content: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`
}

/**
 * This inventory's digest in the scheme of the one a plan recorded, and whether they match: by content for
 * `content-sha256:` digests, by the file's bytes for older ones (`sha256:` or bare hex, as plans written by hand may
 * have). `current` is for messages that show both.
 */
export function checkDigest(
  recorded: string,
  inventory: Inventory,
  fileBytes: () => string | Uint8Array,
): {ok: boolean; current: string} {
  if (recorded.startsWith(CONTENT)) {
    const current = inventoryDigest(inventory)
    return {ok: recorded === current, current}
  }
  const current = fileDigest(fileBytes())
  return {ok: recorded.replace(/^sha256:/, '') === current.replace(/^sha256:/, ''), current}
}
