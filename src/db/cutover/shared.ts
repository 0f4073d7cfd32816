// What every engine's cutover shares: the options, refusing before the pause, the in-pause re-check plan, the
// --check estimate line.
import {rmSync} from 'node:fs'
import {MigrateError} from '../../errors.js'
import {haproxyRepoint} from '../haproxy.js'
import type {VerifyResult} from '../types.js'
import {estimateLine, type SubStep, type WindowLimits} from '../window.js'

/** Options every engine's cutover shares: the window's budget, and a hook before each sub-step. */
export interface CutoverCommon {
  limits?: WindowLimits
  /** Only the pre-checks: nothing changes; prints the window estimate (the template's gate states it). */
  checkOnly?: boolean
  before?: (step: string) => Promise<void> | void
}

/** A pre-check failed: the cutover is refused before any client is paused. */
export function refuse(engine: string, problems: string[], code = 'CUTOVER_REFUSED'): never {
  throw new MigrateError(`${engine} cutover refused before pausing anyone: ${problems.join('; ')}`, {
    code,
    hint: 'Fix what is named above and run the step again; nothing was changed',
  })
}

/** Tables the verification before the pause could not show equal (they are being written): re-checked inside it. */
export function changing(v: VerifyResult): string[] {
  return v.tables.filter((t) => !t.ok).map((t) => t.table)
}

/** The last sub-step of --check: the estimate line (the template captures it for its gate). */
export function estimateStep(limits: WindowLimits, estimate: {ms: number}): SubStep {
  return {name: 'estimate', run: async () => estimateLine(estimate.ms, limits)}
}

/** Pre-check sizes: bytes of `tables` on the larger side. */
export function hotBytes(tables: string[], a: Map<string, number>, b: Map<string, number>): number {
  return Math.max(
    tables.reduce((n, t) => n + (a.get(t) ?? 0), 0),
    tables.reduce((n, t) => n + (b.get(t) ?? 0), 0),
  )
}

/** In-pause checksums only for changing tables this small; larger ones are counted. */
export const IN_PAUSE_CHECKSUM_BYTES = 8 * 1048576

export interface PgPlan {
  /** Tables to re-verify inside the pause, and those of them small enough for a checksum there. */
  recheck: string[]
  recheckSums: string[]
  estimate: {ms: number}
}

/** Removes a file the block steps wrote, once the way back is gone (finalize). */
export function forgetState(file: string): void {
  rmSync(file, {force: true})
}

/** Throws DB_VERIFY_MISMATCH naming what differs (source/target rows or keys); returns `v` when all is equal. */
export function assertVerified(v: VerifyResult, what = `${v.mismatches} table(s) differ`): VerifyResult {
  if (!v.ok)
    throw new MigrateError(
      `${what}: ${v.tables
        .filter((t) => !t.ok)
        .map((t) => `${t.table} ${t.sourceRows}/${t.targetRows}`)
        .join(', ')}`,
      {code: 'DB_VERIFY_MISMATCH'},
    )
  return v
}

type Addr = {host: string; port: number}

/** The sub-step that points HAProxy's server at `to` (undone: back at `back`, when given). */
export function repointStep(
  h: {api: string; server: string},
  to: Addr,
  o: {back?: Addr; window?: 'close'; note?: string} = {},
): SubStep {
  return {
    name: 'repoint-clients',
    window: o.window,
    run: async () => {
      await haproxyRepoint(h.api, h.server, to)
      return `${h.server} → ${to.host}:${to.port}${o.note ?? ''}`
    },
    undo: o.back ? () => haproxyRepoint(h.api, h.server, o.back!) : undefined,
  }
}
