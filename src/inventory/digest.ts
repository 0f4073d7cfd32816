// The digest that binds a plan to the inventory it was made from: sha256 of the file's bytes, written as
// `sha256:<hex>` in plan.yaml. One function, so `plan` (writes it), `execute` (checks it) and the lab agree.
import {createHash} from 'node:crypto'

export function inventoryDigest(content: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`
}

/** Compares two digests, with or without the `sha256:` prefix (plans written by hand may omit it). */
export function sameDigest(a: string, b: string): boolean {
  return a.replace(/^sha256:/, '') === b.replace(/^sha256:/, '')
}
