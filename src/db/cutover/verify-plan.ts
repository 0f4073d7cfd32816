// The verification plan shared by the PostgreSQL and MariaDB cutovers: before the write block every table is
// compared while clients still write; the ones that differ (being written) are re-checked inside the block,
// checksummed there when small enough, and the window they make is estimated and refused over the bound.
import type {VerifyResult} from '../types.js'
import {estimateWindowMs, type SubStep, type WindowLimits} from '../window.js'
import {IN_PAUSE_CHECKSUM_BYTES, type PgPlan, assertVerified, changing, hotBytes, refuse} from './shared.js'

export interface VerifyBeforeSpec {
  engine: 'postgres' | 'mariadb'
  /** The engine as refuse() names it (PostgreSQL, MariaDB). */
  label: string
  /** What clients wait in: 'pause' (PgBouncer) or 'block' (read_only); names the sub-step and its notes. */
  block: 'pause' | 'block'
  verify: 'checksums' | 'counts' | 'off'
  /** Table sizes (bytes) on the source and on the target. */
  sizes: () => Promise<[Map<string, number>, Map<string, number>]>
  /** Every table compared: counted only, or counted and checksummed. */
  verifyAll: (counts: boolean) => Promise<VerifyResult>
}

/** The sub-step verify-before-pause / verify-before-block: fills `plan` (what to re-check inside, the estimate). */
export function verifyBeforeStep(s: VerifyBeforeSpec, limits: WindowLimits, plan: PgPlan): SubStep {
  return {
    name: `verify-before-${s.block}`,
    run: async () => {
      const [a, b] = await s.sizes()
      if (s.verify === 'off') {
        plan.estimate.ms = estimateWindowMs(s.engine, 0)
        return 'verify: off'
      }
      const v = await s.verifyAll(s.verify === 'counts')
      plan.recheck = changing(v)
      plan.recheckSums =
        s.verify === 'checksums'
          ? plan.recheck.filter((t) => Math.max(a.get(t) ?? 0, b.get(t) ?? 0) <= IN_PAUSE_CHECKSUM_BYTES)
          : []
      plan.estimate.ms = estimateWindowMs(s.engine, hotBytes(plan.recheck, a, b))
      if (plan.estimate.ms > limits.maxWindowMs)
        refuse(
          s.label,
          [
            `the window would take about ${plan.estimate.ms} ms (re-verifying ${plan.recheck.join(', ')} inside it), more than the ${limits.maxWindowMs} ms bound`,
          ],
          'CUTOVER_OVER_BOUND',
        )
      return `${v.tables.length - plan.recheck.length} table(s) equal (${s.verify}, ${v.durationMs} ms, outside the ${s.block}); ${plan.recheck.length ? `${plan.recheck.join(', ')} still changing: re-checked inside the ${s.block}` : 'none changing'}`
    },
  }
}

export interface RecheckSpec {
  /** The note when nothing was changing before the block (the target has the source's last position). */
  allEqual: string
  /** How the small tables are compared inside the block ('checksums', 'CHECKSUM TABLE'). */
  sums: string
  /** Counts `tables`, checksumming `checksumTables` as well. */
  verifyOnly: (tables: string[], checksumTables: string[]) => Promise<VerifyResult>
  /** Receives the result (the cutover returns it). */
  done: (v: VerifyResult) => void
}

/** The sub-step verify inside the block: only the tables still changing before it (DB_VERIFY_MISMATCH otherwise). */
export function recheckStep(s: RecheckSpec, plan: PgPlan): SubStep {
  return {
    name: 'verify',
    run: async () => {
      if (plan.recheck.length === 0) return s.allEqual
      const verify = await s.verifyOnly(plan.recheck, plan.recheckSums)
      s.done(verify)
      assertVerified(verify)
      return `${verify.tables.length} changing table(s) equal (${plan.recheckSums.length} with ${s.sums}, the rest counted)`
    },
  }
}
