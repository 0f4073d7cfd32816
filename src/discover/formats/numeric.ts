// The columns read as numbers in any format: their cells tell the file's decimal mark (src/discover/csv-numbers.ts).
import type {CsvTable} from '../csv.js'
import {GENERIC} from './generic.js'
import {diskParts} from './values.js'

/** Columns read as numbers (normalised names). */
const NUMERIC = new Set([
  ...GENERIC.vcpus,
  ...GENERIC.memoryMiB,
  ...GENERIC.memoryGiB,
  ...GENERIC.diskGiB,
  ...GENERIC.diskUsedGiB,
  ...GENERIC.cpuP95,
  ...GENERIC.memoryP95,
  'cpunumberoflogicalcores',
  'cpunumberofcores',
  'cpunumberofprocessors',
  'ramtotalsizeinmb',
  'disktotalsizeingb',
  'disktotalsizeinmb',
  'diskusedsizeingb',
  'cores',
  'memoryinmb',
  'cpuutilizationpercentage',
  'memoryutilizationpercentage',
  'numberofdisks',
  'totaldiskcapacitymib',
  'provisionedmib',
  'provisionedmb',
  'inusemib',
  'inusemb',
  'unsharedmib',
  'unsharedmb',
  'activememory',
  'overallcpureadiness',
  'memorymb',
  'memorygb',
  'ebsiops',
  'ebsthroughput',
])
const isNumericColumn = (c: string) =>
  NUMERIC.has(c) || /^(?:cpuusagepct|ramusedsizeinmb|ramusedpct)|^disk\d+size$/.test(c)

/** Every numeric cell of the table with its line, for numberLocaleOf. */
export function* numericCells(table: CsvTable, cols: string[]): Generator<{raw: string; line: number}> {
  const numeric = cols.flatMap((c, i) => (isNumericColumn(c) ? [i] : []))
  const disks = cols.indexOf('disks')
  for (const rec of table.records) {
    for (const i of numeric) if (rec.fields[i]) yield {raw: rec.fields[i], line: rec.line}
    if (disks >= 0 && rec.fields[disks]?.includes(':'))
      for (const part of diskParts(rec.fields[disks])) if (part) yield {raw: part[1], line: rec.line}
  }
}
