// Human view of a discovery result: what was found, what failed, what changed since the last run (every field
// that changed, for servers, databases, applications and dependencies).
import type {FieldChange, InventoryDiff, KindDiff, RecordChange} from './diff.js'
import type {DiscoverResult} from './inventory.js'

const SHOWN = 10

export function renderDiscover(r: DiscoverResult): string[] {
  const lines: string[] = []
  for (const s of r.sources)
    lines.push(`${s.kind.padEnd(8)} ${String(s.count).padStart(6)} record(s)  ${s.scope.join(', ')}`)
  for (const f of r.failures) lines.push(`FAILED   ${f.target}: ${f.message}`)
  for (const w of r.warnings) lines.push(w)
  const c = r.counts
  lines.push(
    `${r.written ? 'Wrote' : 'Would write'} ${r.out}: ${c.servers} servers, ${c.databases} databases, ${c.applications} applications, ${c.dependencies} dependencies` +
      (c.unassigned > 0 ? `, ${c.unassigned} unassigned (set their app tag, or use --assign-by)` : ''),
  )
  if (r.diff) lines.push(...renderDiff(r.diff))
  return lines
}

function summary(name: string, k: KindDiff, extra = ''): string | undefined {
  if (k.added.length + k.removed.length + k.changed.length + k.unchanged === 0) return undefined
  return `${name} ${k.added.length} added, ${k.removed.length} removed, ${k.changed.length} changed${extra}, ${k.unchanged} unchanged`
}

export function renderDiff(d: InventoryDiff): string[] {
  const lines: string[] = []
  const serverExtra =
    d.resized.length + d.reassigned.length > 0
      ? ` (${[...(d.resized.length > 0 ? [`${d.resized.length} resized`] : []), ...(d.reassigned.length > 0 ? [`${d.reassigned.length} reassigned`] : [])].join(', ')})`
      : ''
  const parts = [
    summary('servers', d.servers, serverExtra) ?? 'servers 0 added, 0 removed, 0 changed, 0 unchanged',
    summary('databases', d.databases),
    summary('applications', d.applications),
    summary('dependencies', d.dependencies),
  ]
  lines.push(`Changes since the previous inventory: ${parts.filter(Boolean).join('; ')}`)
  const ids = (label: string, list: string[]) => {
    if (list.length === 0) return
    lines.push(
      `  ${label} ${list.slice(0, SHOWN).join(', ')}${list.length > SHOWN ? ` … and ${list.length - SHOWN} more` : ''}`,
    )
  }
  const changes = (
    label: string,
    list: RecordChange[],
    skip: (c: RecordChange, f: FieldChange) => boolean = () => false,
  ) => {
    const shown = list
      .map((c) => ({id: c.id, fields: c.changes.filter((f) => !skip(c, f))}))
      .filter((c) => c.fields.length > 0)
    for (const c of shown.slice(0, SHOWN)) lines.push(`  ${label} ${c.id}: ${c.fields.map(describe).join('; ')}`)
    if (shown.length > SHOWN) lines.push(`  ${label} … and ${shown.length - SHOWN} more`)
  }
  ids('+', d.servers.added)
  ids('-', d.servers.removed)
  for (const x of d.resized.slice(0, SHOWN))
    lines.push(
      `  ~ ${x.id}: ${x.from.vcpus} → ${x.to.vcpus} vCPU, ${x.from.memoryMiB} → ${x.to.memoryMiB} MiB, ${x.from.diskGiB} → ${x.to.diskGiB} GiB disk`,
    )
  if (d.resized.length > SHOWN) lines.push(`  ~ … and ${d.resized.length - SHOWN} more resized`)
  for (const x of d.reassigned.slice(0, SHOWN))
    lines.push(`  > ${x.id}: application ${x.from ?? '(unassigned)'} → ${x.to ?? '(unassigned)'}`)
  if (d.reassigned.length > SHOWN) lines.push(`  > … and ${d.reassigned.length - SHOWN} more`)
  // The size and the application of a server were said above, in the units a person reads.
  const resized = new Set(d.resized.map((x) => x.id))
  changes(
    '~',
    d.servers.changed,
    (c, f) =>
      f.field === 'application' ||
      (resized.has(c.id) && (f.field === 'vcpus' || f.field === 'memoryMiB' || f.field === 'disks')),
  )
  ids('+db', d.databases.added)
  ids('-db', d.databases.removed)
  changes('~db', d.databases.changed)
  ids('+app', d.applications.added)
  ids('-app', d.applications.removed)
  changes('~app', d.applications.changed)
  ids('+dep', d.dependencies.added)
  ids('-dep', d.dependencies.removed)
  changes('~dep', d.dependencies.changed)
  return lines
}

function describe(f: FieldChange): string {
  return `${f.field} ${show(f.from)} → ${show(f.to)}`
}

function show(v: unknown): string {
  if (v === undefined) return '(none)'
  if (typeof v === 'string') return v === '' ? '""' : v
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.map(item).join(', ')
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

function item(v: unknown): string {
  if (typeof v !== 'object' || v === null) return String(v)
  const o = v as Record<string, unknown>
  if (typeof o.port === 'number') return `${o.port}/${String(o.service ?? o.process ?? '?')}`
  if (typeof o.name === 'string' && typeof o.sizeGiB === 'number')
    return `${o.name} ${o.sizeGiB} GiB${typeof o.usedGiB === 'number' ? ` (${o.usedGiB} used)` : ''}`
  return JSON.stringify(v)
}
