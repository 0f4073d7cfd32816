// How executor events and results look to a person: plain lines (logs, CI), a live listr2 view (a terminal), the
// dry-run listing and the final summary. Pure formatting plus one listr2 adapter; commands choose and write.
import {shellPath} from '../paths.js'
import {printable} from '../runbook/printable.js'
import type {StatusResult} from './plan-status.js'
import type {AppOutcome, ExecEvent, Finding, WaveResult} from './types.js'

export const OUTCOME_WORD: Record<AppOutcome, string> = {
  done: 'done',
  failed: 'FAILED',
  'rolled-back': 'ROLLED BACK',
  'rollback-failed': 'ROLLBACK FAILED',
  'waiting-gate': 'waiting for approval',
  'needs-operator': 'NEEDS OPERATOR',
  interrupted: 'interrupted',
  pending: 'pending',
  'nothing-to-do': 'nothing to do',
  held: 'HELD before cutover',
  finalized: 'NOT ROLLED BACK',
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}

export function ms(n: number | undefined): string {
  if (n === undefined) return ''
  if (n < 1000) return `${Math.round(n)}ms`
  if (n < 60_000) return `${(n / 1000).toFixed(1)}s`
  const sec = Math.round(n / 1000)
  return `${Math.floor(sec / 60)}m${sec % 60}s`
}

export function formatFinding(f: Finding): string {
  const where = f.file ? `${f.file}${f.line ? `:${f.line}:${f.column ?? 1}` : ''}: ` : ''
  const who = f.app ? `${f.app}${f.step ? `/${f.step}` : ''}: ` : ''
  return `${where}${f.severity} ${f.code}: ${who}${f.message}${f.hint ? `. ${f.hint}` : ''}`
}

/** One line per event for logs and CI (no colours, no cursor movement); values printable only (see printable.ts). */
export function formatEventLine(e: ExecEvent, width = 14): string | undefined {
  const line = eventLine(e, width)
  return line === undefined ? undefined : printable(line)
}

function eventLine(e: ExecEvent, width: number): string | undefined {
  const t = new Date().toISOString().slice(11, 19)
  switch (e.type) {
    case 'preflight':
      return e.finding.severity === 'info' ? undefined : `${t} preflight ${formatFinding(e.finding)}`
    case 'run-start':
      if (e.mode === 'dry-run') return undefined
      return `${t} ${e.mode} wave ${e.wave} (run ${e.runId}): ${e.apps.join(', ') || 'no applications'}`
    case 'app-start':
      return `${t} ${pad(e.app, width)} started (${e.steps} steps${e.resumeAt ? `, resuming at ${e.resumeAt}` : ''})`
    case 'step-start':
      return `${t} ${pad(e.app, width)} [${e.index + 1}/${e.total}] ${e.step} started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}${e.command ? `: ${e.command}` : ''}`
    case 'step-end':
      if (e.status === 'already-done') return undefined
      return `${t} ${pad(e.app, width)} [${e.index + 1}/${e.total}] ${e.step} ${e.status}${e.durationMs !== undefined ? ` in ${ms(e.durationMs)}` : ''}${e.message ? `: ${e.message}` : ''}${e.retryInMs !== undefined ? ` (retrying in ${ms(e.retryInMs)})` : ''}`
    case 'rollback-step':
      if (e.status === 'none') return undefined
      return `${t} ${pad(e.app, width)} rollback ${e.step} ${e.status}${e.command ? `: ${e.command}` : ''}${e.message ? `: ${e.message}` : ''}`
    case 'app-end':
      return `${t} ${pad(e.app, width)} ${OUTCOME_WORD[e.outcome]}${e.message ? `: ${e.message}` : ''}`
    case 'dry-step':
      return undefined
    case 'run-end':
      return undefined
    default:
      return undefined
  }
}

/** The dry-run listing: every step with its resolved command, grouped by application. */
export function formatDryRun(r: WaveResult): string {
  const out: string[] = [`Wave ${r.wave} dry-run: nothing is run, nothing is journaled.`]
  for (const f of r.preflight) if (f.severity !== 'info') out.push(`  ${formatFinding(f)}`)
  const mark = {'already-done': '✓', pending: '○', skipped: '-', 'waiting-gate': '⏸'} as Record<string, string>
  for (const a of r.apps) {
    out.push('', `${a.app} (${a.template})${a.outcome === 'done' ? ': already done' : ''}`)
    const w = Math.max(...a.steps.map((s) => s.id.length), 4)
    for (const s of a.steps) {
      out.push(
        `  ${mark[s.status] ?? '○'} ${pad(s.id, w)}  ${s.detail ?? ''}${s.status === 'already-done' ? '  [done]' : ''}${s.note ? `  [${s.note}]` : ''}`,
      )
      if (s.rollback) out.push(`    ${pad('', w)}  ↩ ${s.rollback}`)
    }
  }
  // Units are applications, or their servers (APP:SERVER_ID) and databases (APP:DATABASE_ID): count both when they differ.
  const units = r.apps.filter((a) => a.outcome === 'pending').map((a) => a.app)
  const apps = new Set(units.map((u) => u.split(':')[0])).size
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`
  out.push(
    '',
    `${plural(r.pendingSteps, 'step')} pending in ${units.length === apps ? plural(apps, 'application') : `${plural(units.length, 'unit')} of ${plural(apps, 'application')}`}.`,
  )
  return out.map(printable).join('\n')
}

export function formatSummary(r: WaveResult): string {
  const out: string[] = ['']
  const w = Math.max(...r.apps.map((a) => a.app.length), 4)
  for (const a of r.apps) out.push(`  ${pad(a.app, w)}  ${OUTCOME_WORD[a.outcome]}${a.message ? `: ${a.message}` : ''}`)
  const counts = Object.entries(r.summary)
    .map(([k, v]) => `${v} ${OUTCOME_WORD[k as AppOutcome]}`)
    .join(', ')
  out.push(
    '',
    `${r.mode === 'rollback' ? 'Rollback of wave' : 'Wave'} ${r.wave}: ${counts || 'no applications'} (exit ${r.exitCode}). \`migrate status --plan ${shellPath(r.planDir)}\` shows every step.`,
  )
  return out.map(printable).join('\n')
}

const STEP_MARK: Record<string, string> = {
  pending: '○',
  running: '▶',
  succeeded: '✓',
  failed: '✖',
  skipped: '-',
  'waiting-gate': '⏸',
  interrupted: '!',
  'rolling-back': '↩',
  'rolled-back': '↩',
  'rollback-failed': '✖',
}

export function formatStatus(s: StatusResult): string {
  const out: string[] = []
  out.push(
    `Plan ${s.planDir}: ${s.journal.events} journal event(s)${s.journal.torn ? ', torn last line ignored' : ''}${s.journal.corruptLines.length ? `, CORRUPT lines ${s.journal.corruptLines.join(', ')}` : ''}`,
  )
  if (s.lock)
    out.push(
      `Lock: ${s.lock.user}@${s.lock.host} pid ${s.lock.pid} (${s.lock.operation}, since ${s.lock.since})${s.lock.alive === false ? ' — that process is gone: stale, the next run takes it over' : ''}`,
    )
  if (s.backend?.kind === 'postgres') out.push(`State: ${s.backend.where}`)
  for (const h of s.holders ?? [])
    out.push(
      `Held: ${h.unit} by ${h.user}@${h.host} pid ${h.pid} (${h.operation}, since ${h.since}${h.ciJob ? `, ${h.ciJob}` : ''})`,
    )
  if (s.journal.lastRun && !s.journal.lastRun.finished && !s.lock && !s.holders?.length)
    out.push(
      `Last run ${s.journal.lastRun.runId} (${s.journal.lastRun.message ?? ''}) did not finish: it crashed or was killed; rerun it to resume.`,
    )
  // A wave nobody has started is one line (an 11-wave plan reads at a glance); `--wave N` lists its units.
  const oneLine = (w: StatusResult['waves'][number]): boolean => s.waves.length > 1 && w.status === 'pending'
  let previousOneLine = false
  for (const w of s.waves) {
    if (oneLine(w)) {
      const apps = [...new Set(w.apps.map((a) => a.name.split(':')[0]))]
      const units = w.apps.length
      if (!previousOneLine) out.push('')
      out.push(
        `Wave ${w.number}${w.name ? ` (${w.name})` : ''}: pending — ${apps.length} application${apps.length === 1 ? '' : 's'}${units !== apps.length ? ` (${units} units)` : ''}: ${apps.slice(0, 6).join(', ')}${apps.length > 6 ? `, … ${apps.length - 6} more` : ''}`,
      )
      previousOneLine = true
      continue
    }
    previousOneLine = false
    out.push(
      '',
      `Wave ${w.number}${w.name ? ` (${w.name})` : ''}: ${w.status} — ${Object.entries(w.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}`,
    )
    for (const a of w.apps) {
      const done = a.steps.filter((x) => x.status === 'succeeded' || x.status === 'skipped').length
      out.push(
        `  ${a.name}: ${a.status} (${done}/${a.steps.length} steps${a.durationMs ? `, ${ms(a.durationMs)}` : ''})${a.waitingFor ? ` — waiting for approval at ${a.waitingFor}: --approve ${a.waitingFor}` : ''}`,
      )
      if (a.status !== 'pending' && a.status !== 'done') {
        for (const st of a.steps)
          out.push(
            `    ${STEP_MARK[st.status] ?? '?'} ${st.id}: ${st.status}${st.attempts > 1 ? ` (${st.attempts} attempts)` : ''}${st.durationMs !== undefined ? ` ${ms(st.durationMs)}` : ''}${st.confirmed ? ' (confirmed by the operator: --skip-step)' : ''}${st.error ? ` — ${st.error}` : ''}`,
          )
      }
      if (a.lastError && a.status !== 'done') out.push(`    last error: ${a.lastError}`)
      if (a.heldBecause) out.push(`    ${a.heldBecause}`)
    }
  }
  if (s.verify) {
    out.push(
      '',
      s.verify.ok
        ? `Journal verified: ${s.verify.events} events, hash chain intact.`
        : `Journal verification FAILED (${s.verify.problems.length} problem(s)):`,
    )
    for (const p of s.verify.problems) out.push(`  ${s.journal.file}:${p.line}: ${p.problem}`)
  }
  return out.map(printable).join('\n')
}
