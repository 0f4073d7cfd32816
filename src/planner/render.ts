// Views of a plan for people: a terminal table per wave, Markdown for a wiki or a pull request, and a Mermaid
// Gantt chart of the waves over the months for a steering committee. Pure string builders.
import type {Plan} from '../schema/plan.js'
import {Calendar, dayOfIso, describeBlackout, formatDay, localOfIso} from './calendar.js'
import type {Quality} from './quality.js'
import {managedResourceLines} from './managed.js'

export type PlanFormat = 'table' | 'markdown' | 'mermaid' | 'json'

/** The wall-clock date of a plan timestamp in the plan's zone (a hand edit may have written it with another offset). */
function localDate(timeZone: string, iso: string): string {
  return formatDay(localOfIso(timeZone, iso).day)
}

function localTime(timeZone: string, iso: string): string {
  const m = localOfIso(timeZone, iso).minutes
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}

function tib(gib: number): string {
  return gib >= 1024 ? `${(gib / 1024).toFixed(1)} TiB` : `${Math.round(gib)} GiB`
}

function stars(n: number): string {
  return '★'.repeat(n) + '☆'.repeat(5 - n)
}

function appsCell(names: string[], max = 60): string {
  let out = ''
  for (let i = 0; i < names.length; i++) {
    const next = out ? `${out}, ${names[i]}` : names[i]
    if (next.length > max) return `${out} +${names.length - i}`
    out = next
  }
  return out
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}

/** A plain table, one row per wave, columns sized to fit. */
export function renderTable(plan: Plan, quality?: Quality, baseline?: Quality): string {
  const tz = plan.settings.timezone
  const head = [
    'wave',
    'cutover (local)',
    'replicate from',
    'test from',
    'env',
    'apps',
    'servers',
    'dbs',
    'data',
    'split',
    'risk',
    'conf',
    'applications',
  ]
  const rows = plan.waves.map((w) => [
    `${w.number}${w.pilot ? ' pilot' : ''}`,
    `${localDate(tz, w.cutover.start)} ${localTime(tz, w.cutover.start)}-${localTime(tz, w.cutover.end)}`,
    localDate(tz, w.replicationStart),
    localDate(tz, w.test.start),
    w.environment ?? 'mixed',
    String(w.applications.length),
    String(w.servers),
    String(w.databases),
    tib(w.dataGiB),
    String(w.splitDependencies ?? 0),
    w.risk,
    `${w.confidence}/5`,
    appsCell(w.applications),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i])))
      .join('  ')
      .trimEnd()
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)]
  const outside = plan.applications.filter((a) => a.wave === null)
  if (outside.length) out.push('', `not moving: ${outside.map((a) => `${a.name} (${a.strategy})`).join(', ')}`)
  out.push(...managedResourceLines(plan))
  out.push(
    `timezone ${plan.settings.timezone}; ${plan.waves.reduce((s, w) => s + w.applications.length, 0)} applications, ${plan.waves.reduce((s, w) => s + w.servers, 0)} servers in ${plan.waves.length} wave${plan.waves.length === 1 ? '' : 's'}`,
  )
  if (quality) out.push(qualityLine('plan', quality))
  if (baseline) out.push(qualityLine('baseline (by criticality, packed by capacity)', baseline))
  return out.join('\n')
}

export function qualityLine(label: string, q: Quality): string {
  const v = Object.entries(q.violations)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')
  return `${label}: ${q.rulesViolated} rule violation${q.rulesViolated === 1 ? '' : 's'}${v ? ` (${v})` : ''}, ${q.dependencyDaysSplit} dependency-days split across sites (${q.splitDependencies} split dependenc${q.splitDependencies === 1 ? 'y' : 'ies'}), ${q.wavesUsed} wave${q.wavesUsed === 1 ? '' : 's'}, ${q.durationDays} day${q.durationDays === 1 ? '' : 's'}`
}

export function renderMarkdown(plan: Plan, quality?: Quality, baseline?: Quality): string {
  const tz = plan.settings.timezone
  const out: string[] = [`# Migration plan: ${plan.metadata.name}`, '']
  const s = plan.settings
  out.push(
    `Start ${s.startDate}${s.deadline ? `, deadline ${s.deadline}` : ''}, times in ${s.timezone}; a wave every ${s.waveCadenceDays} days; target ${s.target.cloud} ${s.target.region}.`,
  )
  if (s.blackouts.length) out.push(`Blackouts: ${s.blackouts.map(describeBlackout).join('; ')}.`)
  if (s.cutoverWindows.some((w) => w.environments))
    out.push(`Cutover windows: ${new Calendar(s).windows.map((w) => w.label).join('; ')}.`)
  out.push(
    '',
    '| Wave | Cutover | Replication from | Test from | Env | Apps | Servers | DBs | Data | Split deps | Risk | Confidence |',
    '|---|---|---|---|---|---:|---:|---:|---:|---:|---|---|',
  )
  for (const w of plan.waves) {
    out.push(
      `| ${w.number}${w.pilot ? ' (pilot)' : ''} | ${localDate(tz, w.cutover.start)} ${localTime(tz, w.cutover.start)}–${localTime(tz, w.cutover.end)} | ${localDate(tz, w.replicationStart)} | ${localDate(tz, w.test.start)} | ${w.environment ?? 'mixed'} | ${w.applications.length} | ${w.servers} | ${w.databases} | ${tib(w.dataGiB)} | ${w.splitDependencies ?? 0} | ${w.risk} | ${stars(w.confidence)} |`,
    )
  }
  if (quality || baseline) {
    out.push(
      '',
      '| | Rules violated | Dependency-days split | Split dependencies | Waves |',
      '|---|---:|---:|---:|---:|',
    )
    if (quality)
      out.push(
        `| Plan | ${quality.rulesViolated} | ${quality.dependencyDaysSplit} | ${quality.splitDependencies} | ${quality.wavesUsed} |`,
      )
    if (baseline)
      out.push(
        `| Baseline (by criticality, packed by capacity) | ${baseline.rulesViolated} | ${baseline.dependencyDaysSplit} | ${baseline.splitDependencies} | ${baseline.wavesUsed} |`,
      )
  }
  const byName = new Map(plan.applications.map((a) => [a.name, a]))
  for (const w of plan.waves) {
    out.push('', `## ${w.name}${w.pilot && w.name !== 'Pilot' ? ' (pilot)' : ''}: cutover ${w.cutover.start}`, '')
    for (const r of w.reasons) out.push(`- ${r}`)
    out.push(
      '',
      '| Application | Strategy | Template | Servers | Databases | Why this wave |',
      '|---|---|---|---:|---|---|',
    )
    for (const name of w.applications) {
      const a = byName.get(name)
      if (!a) continue
      out.push(
        `| ${a.name} | ${a.strategy} | ${a.template} | ${a.servers.length} | ${a.databases.map((d) => `${d.id} → ${d.instanceClass}`).join('<br>')} | ${(a.reasons[0] ?? '').replace(/\|/g, '\\|')} |`,
      )
    }
  }
  out.push(...managedResourceLines(plan, true))
  const outside = plan.applications.filter((a) => a.wave === null)
  if (outside.length) {
    out.push('', '## Not moving', '')
    for (const a of outside) out.push(`- ${a.name}: ${a.reasons[0] ?? a.strategy}`)
  }
  return out.join('\n') + '\n'
}

/**
 * Text for a Mermaid Gantt line. Mermaid splits a task at its first colon, ends a statement at `;` or `#`, reads `%`
 * as a comment and `#name;` as an entity, and takes a line that starts with a keyword (`title`, `section`,
 * `excludes`, a date, …) as that statement: so every character outside letters, digits and a few plain marks is
 * written as a numeric entity (`#58;` for `:`), which Mermaid turns back into the character when it draws, and a
 * leading keyword loses its first letter to an entity. Line breaks and other control characters become spaces.
 */
export function mermaidText(name: string): string {
  const plain = name.replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ').trim() || '(unnamed)'
  let out = plain.replace(/[^\p{L}\p{N} .,_\-–()/+]/gu, (c) => `#${c.codePointAt(0)};`)
  if (MERMAID_KEYWORD.test(out))
    out = `#${out.codePointAt(0)};${out.slice(String.fromCodePoint(out.codePointAt(0)!).length)}`
  return out
}

const MERMAID_KEYWORD =
  /^(gantt|dateFormat|inclusiveEndDates|topAxis|axisFormat|tickInterval|includes|excludes|todayMarker|weekday|weekend|title|accTitle|accDescr|accDescription|section|click|href|call)\b|^\d{4}-\d{2}-\d{2}/i

/** A Mermaid Gantt chart: one section per wave (replication, test, cutover) and the blackouts. */
export function renderMermaid(plan: Plan): string {
  const s = plan.settings
  const tz = s.timezone
  const cal = new Calendar(s)
  const out = [
    'gantt',
    `  title ${mermaidText(`Migration waves: ${plan.metadata.name} (${s.timezone})`)}`,
    '  dateFormat YYYY-MM-DD',
    '  axisFormat %d %b %Y',
    '  tickInterval 1month',
  ]
  const task = (name: string, meta: string) => out.push(`  ${mermaidText(name)} :${meta}`)
  const start = cal.startDay
  const end = plan.waves.reduce((m, w) => Math.max(m, dayOfIso(s.timezone, w.cutover.end)), start) + 7
  if (s.blackouts.length) {
    out.push('  section Blackouts')
    let runStart = -1
    let runName = ''
    let k = 0
    for (let d = start; d <= end + 1; d++) {
      const b = d <= end ? cal.blackoutOn(d) : undefined
      if (b && runStart < 0) {
        runStart = d
        runName = b
      } else if ((!b || b !== runName) && runStart >= 0) {
        task(runName, `crit, b${++k}, ${formatDay(runStart)}, ${d - runStart}d`)
        runStart = b ? d : -1
        runName = b ?? ''
      }
    }
  }
  for (const w of plan.waves) {
    out.push(
      `  section ${mermaidText(`${w.pilot ? 'Pilot' : `Wave ${w.number}`} (${w.applications.length} apps, ${w.servers} servers)`)}`,
    )
    const r = dayOfIso(s.timezone, w.replicationStart)
    const t = dayOfIso(s.timezone, w.test.start)
    const c = dayOfIso(s.timezone, w.cutover.start)
    if (t > r) task(`Replicate ${tib(w.dataGiB)}`, `w${w.number}r, ${formatDay(r)}, ${t - r}d`)
    if (c > t) task('Test', `w${w.number}t, ${formatDay(t)}, ${c - t}d`)
    task(
      `Cutover ${localTime(tz, w.cutover.start)}`,
      `${w.risk === 'high' ? 'crit, ' : ''}milestone, w${w.number}c, ${formatDay(c)}, 0d`,
    )
  }
  return out.join('\n') + '\n'
}
