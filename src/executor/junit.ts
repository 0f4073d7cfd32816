// A JUnit XML report of a wave: one testcase per application step, so CI shows each step (failed, skipped, pending).
import {writeFileAtomic} from '../io/atomic.js'
import type {WaveResult} from './types.js'

function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
}

export function junitXml(r: WaveResult): string {
  const suites: string[] = []
  let tests = 0
  let failures = 0
  let skipped = 0
  for (const a of r.apps) {
    const cases: string[] = []
    let f = 0
    let sk = 0
    for (const s of a.steps) {
      const name = esc(s.id)
      const cls = esc(`wave-${r.wave}.${a.app}`)
      const time = ((s.durationMs ?? 0) / 1000).toFixed(3)
      const detail = s.detail
        ? `<system-out>${esc(s.detail)}${s.rollback ? `\nrollback: ${esc(s.rollback)}` : ''}</system-out>`
        : ''
      let body = ''
      if (s.status === 'failed' || s.status === 'rollback-failed' || s.status === 'interrupted') {
        f++
        body = `<failure message="${esc(s.error ?? s.status)}" type="${esc(s.status)}">${esc(a.message ?? '')}</failure>`
      } else if (s.status !== 'succeeded' && s.status !== 'already-done') {
        sk++
        const why =
          r.mode === 'dry-run'
            ? s.status === 'pending'
              ? 'dry-run: would run'
              : `dry-run: ${s.status}`
            : s.status === 'not-run'
              ? `not run (application ${a.outcome})`
              : s.status
        body = `<skipped message="${esc(why)}"/>`
      }
      cases.push(`    <testcase classname="${cls}" name="${name}" time="${time}">${body}${detail}</testcase>`)
    }
    tests += a.steps.length
    failures += f
    skipped += sk
    suites.push(
      `  <testsuite name="${esc(`wave ${r.wave} / ${a.app} (${a.template})`)}" tests="${a.steps.length}" failures="${f}" errors="0" skipped="${sk}">\n${cases.join('\n')}\n  </testsuite>`,
    )
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${esc(`migrate ${r.mode} wave ${r.wave}`)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}">\n${suites.join('\n')}\n</testsuites>\n`
}

export function writeJunit(file: string, r: WaveResult): void {
  writeFileAtomic(file, junitXml(r))
}
