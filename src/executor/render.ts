// Rendering a runbook's steps for one unit: checks and environments with its values, and the one-line descriptions the
// views and the journal show. Nothing here runs anything.
import {describeCheck, quoteArg} from '../health/index.js'
import {renderArgv, RenderError, renderString, type VarScope} from '../runbook/vars.js'
import type {HealthCheck, Step} from '../schema/template.js'
import type {StepKind} from './types.js'

export function stepKind(s: Step): StepKind {
  return 'run' in s ? 'run' : 'check' in s ? 'check' : 'wait' in s ? 'wait' : 'gate'
}

/** Renders every string field of a check. A string port becomes a number. */
export function renderCheck(c: HealthCheck, scope: VarScope): HealthCheck {
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? renderString(v, scope)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v
  const out = walk(c) as HealthCheck
  // A command check's argv follows the rules of every argv (no value may start an argument with "-").
  if (c.type === 'command' && out.type === 'command') out.run = renderArgv(c.run, scope)
  if (out.type === 'tcp' && typeof out.port === 'string' && /^\d+$/.test(out.port)) out.port = Number(out.port)
  return out
}

export function renderEnv(
  env: Record<string, string> | undefined,
  scope: VarScope,
): Record<string, string> | undefined {
  if (!env) return undefined
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, renderString(v, scope)]))
}

export function commandText(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ')
}

export function describeStep(s: Step, scope: VarScope): string {
  try {
    if ('run' in s) return commandText(renderArgv(s.run, scope))
    if ('check' in s) return describeCheck(renderCheck(s.check, scope))
    if ('wait' in s)
      return `wait up to ${s.wait.deadline} (every ${s.wait.interval}) for ${describeCheck(renderCheck(s.wait.check, scope))}`
    return `gate: ${renderString(s.gate.message, scope)}`
  } catch (e) {
    return e instanceof RenderError ? `(cannot render: ${e.message})` : String(e)
  }
}

/** The last line of an output, for one-line messages. */
export function lastLine(s: string): string {
  const l = s.trim().split('\n')
  return (l[l.length - 1] ?? '').slice(0, 300)
}
