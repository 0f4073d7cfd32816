// Human view of a discovery result: what was found, what failed, what changed since the last run.
import type {DiscoverResult} from './inventory.js'

export function renderDiscover(r: DiscoverResult): string[] {
  const lines: string[] = []
  for (const s of r.sources) lines.push(`${s.kind.padEnd(8)} ${String(s.count).padStart(6)} record(s)  ${s.scope.join(', ')}`)
  for (const f of r.failures) lines.push(`FAILED   ${f.target}: ${f.message}`)
  for (const w of r.warnings) lines.push(w)
  const c = r.counts
  lines.push(
    `${r.written ? 'Wrote' : 'Would write'} ${r.out}: ${c.servers} servers, ${c.databases} databases, ${c.applications} applications, ${c.dependencies} dependencies` +
      (c.unassigned > 0 ? `, ${c.unassigned} unassigned (set their app tag, or use --assign-by)` : ''),
  )
  const d = r.diff
  if (d) {
    const parts = [`${d.added.length} added`, `${d.removed.length} removed`, `${d.resized.length} resized`, ...(d.reassigned.length > 0 ? [`${d.reassigned.length} reassigned`] : []), `${d.unchanged} unchanged`]
    if (d.databasesAdded.length + d.databasesRemoved.length > 0) parts.push(`databases ${d.databasesAdded.length} added / ${d.databasesRemoved.length} removed`)
    lines.push(`Changes since the previous inventory: ${parts.join(', ')}`)
    const show = (label: string, ids: string[]) => {
      if (ids.length === 0) return
      lines.push(`  ${label} ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ` … and ${ids.length - 10} more` : ''}`)
    }
    show('+', d.added)
    show('-', d.removed)
    for (const x of d.resized.slice(0, 10)) lines.push(`  ~ ${x.id}: ${x.from.vcpus} → ${x.to.vcpus} vCPU, ${x.from.memoryMiB} → ${x.to.memoryMiB} MiB, ${x.from.diskGiB} → ${x.to.diskGiB} GiB disk`)
    if (d.resized.length > 10) lines.push(`  ~ … and ${d.resized.length - 10} more`)
    for (const x of d.reassigned.slice(0, 10)) lines.push(`  > ${x.id}: application ${x.from ?? '(unassigned)'} → ${x.to ?? '(unassigned)'}`)
    if (d.reassigned.length > 10) lines.push(`  > … and ${d.reassigned.length - 10} more`)
    show('+db', d.databasesAdded)
    show('-db', d.databasesRemoved)
  }
  return lines
}
