// The verification every engine reports: rows (and a checksum where taken) per table on both sides, compared.
import {redactUrl} from './connect.js'
import type {TableCompare, VerifyResult} from './types.js'

/** Compares what was measured on the source and on the target, table by table (a table on one side only differs). */
export function compare(
  engine: string,
  source: string,
  target: string,
  src: Map<string, {rows: number; sum?: string}>,
  dst: Map<string, {rows: number; sum?: string}>,
  t0: number,
): VerifyResult {
  const tables: TableCompare[] = []
  for (const name of [...new Set([...src.keys(), ...dst.keys()])].sort()) {
    const a = src.get(name)
    const b = dst.get(name)
    tables.push({
      table: name,
      sourceRows: a?.rows ?? -1,
      targetRows: b?.rows ?? -1,
      sourceChecksum: a?.sum,
      targetChecksum: b?.sum,
      ok: !!a && !!b && a.rows === b.rows && a.sum === b.sum,
    })
  }
  const mismatches = tables.filter((t) => !t.ok).length
  return {
    engine,
    source: redactUrl(source),
    target: redactUrl(target),
    tables,
    mismatches,
    ok: mismatches === 0,
    durationMs: Date.now() - t0,
  }
}
