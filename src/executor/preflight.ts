// Pre-flight at run time: the findings of the static pre-flight stop a wave with a blocker among them, and the dynamic
// pre-flight runs the templates' own preflight checks and tries the tcp targets of check steps.
import {EXIT, MigrateError} from '../errors.js'
import {describeCheck} from '../health/index.js'
import type {CheckResult} from '../health/types.js'
import {printable} from '../runbook/printable.js'
import {evaluateWhen, redact, type VarScope} from '../runbook/vars.js'
import type {HealthCheck} from '../schema/template.js'
import {mapWithLimit} from '../map-limit.js'
import type {AppWork, WavePrep} from './prepare.js'
import {renderCheck} from './render.js'
import type {ExecutorDeps, Finding} from './types.js'

/** Throws a PREFLIGHT_BLOCKED error when any finding is a blocker. */
export function stopOnBlockers(findings: Finding[], wave: number): void {
  const blockers = findings.filter((f) => f.severity === 'blocker')
  if (blockers.length === 0) return
  throw new MigrateError(
    `pre-flight found ${blockers.length} blocker${blockers.length === 1 ? '' : 's'}: wave ${wave} was not started, nothing was changed`,
    {
      code: 'PREFLIGHT_BLOCKED',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Fix the problems listed above and run again (`--dry-run` checks without running anything)',
      diagnostics: findings.map((f) => ({
        severity: f.severity === 'blocker' ? 'error' : f.severity,
        code: f.code,
        message: printable(`${f.app ? `${f.app}${f.step ? `/${f.step}` : ''}: ` : ''}${f.message}`),
        hint: f.hint,
        file: f.file,
        line: f.line,
        column: f.column,
      })),
      data: {preflight: findings},
    },
  )
}

type RunOnce = (raw: HealthCheck, scope: VarScope) => Promise<{check: HealthCheck; r: CheckResult} | undefined>

/** Renders a check and runs it, unless it does not render or the same rendered check already ran (for any app). */
function onceEach(deps: ExecutorDeps, signal: AbortSignal): RunOnce {
  const seen = new Set<string>()
  return async (raw, scope) => {
    let check: HealthCheck
    try {
      check = renderCheck(raw, scope)
    } catch {
      return undefined
    }
    const key = JSON.stringify(check)
    if (seen.has(key)) return undefined
    seen.add(key)
    return {check, r: await deps.runCheck(check, signal, {})}
  }
}

/** Adds the findings of one unit to `out` as they are found. */
async function unitFindings(w: AppWork, runOnce: RunOnce, secrets: ReadonlySet<string>, out: Finding[]): Promise<void> {
  const t = w.template
  if (!t) return
  for (const p of t.preflight) {
    const ran = await runOnce(p.check, w.scope)
    if (ran && ran.r.status !== 'passed')
      out.push({
        severity: p.severity,
        code: 'PREFLIGHT_CHECK_FAILED',
        app: w.name,
        step: `preflight ${p.id}`,
        message: redact(`${p.description ?? p.id}: ${ran.r.message}`, secrets),
        hint: `Template ${w.loaded.file}, preflight ${p.id}`,
      })
  }
  for (const s of t.steps) {
    if (!('check' in s) || s.check.type !== 'tcp') continue
    if (s.when !== undefined && !evaluateWhen(s.when, w.scope)) continue
    const ran = await runOnce(s.check, w.scope)
    if (ran && ran.r.status !== 'passed')
      out.push({
        severity: 'warning',
        code: 'TARGET_UNREACHABLE',
        app: w.name,
        step: s.id,
        message: redact(`${describeCheck(ran.check)}: ${ran.r.message}`, secrets),
      })
  }
}

/** Dynamic pre-flight: the template's own preflight checks, and reachability of tcp check targets. */
export async function dynamicPreflight(prep: WavePrep, deps: ExecutorDeps, signal: AbortSignal): Promise<Finding[]> {
  const runOnce = onceEach(deps, signal)
  const out: Finding[] = []
  await mapWithLimit(prep.apps, 4, (w) => unitFindings(w, runOnce, prep.secrets, out))
  return out
}
