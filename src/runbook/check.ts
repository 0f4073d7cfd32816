// Semantic checks of a runbook template, all found at once and addressed by document path (the loader turns each
// into file:line:column): duplicate step ids, unknown {{ variables }}, finalize steps without a gate or a soak.
import type {PathIssue} from '../schema/issues.js'
import type {HealthCheck, RunbookTemplate} from '../schema/template.js'
import {findVars, unknownFilterReason, unknownVarReason} from './vars.js'

type Path = (string | number)[]

/** Every string of a template that is interpolated, with its document path. */
export function templateStrings(t: RunbookTemplate): {path: Path; text: string}[] {
  const out: {path: Path; text: string}[] = []
  const add = (path: Path, v: unknown): void => {
    if (typeof v === 'string') out.push({path, text: v})
    else if (Array.isArray(v))
      v.forEach((x, i) => {
        add([...path, i], x)
      })
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) add([...path, k], x)
  }
  t.preflight.forEach((p, i) => {
    add(['preflight', i, 'check'], p.check)
  })
  t.steps.forEach((s, i) => {
    const base: Path = ['steps', i]
    if ('run' in s) add([...base, 'run'], s.run)
    if ('check' in s) add([...base, 'check'], s.check)
    if ('wait' in s) add([...base, 'wait', 'check'], s.wait.check)
    if ('gate' in s) add([...base, 'gate', 'message'], s.gate.message)
    add([...base, 'rollback'], s.rollback)
    add([...base, 'when'], s.when)
    add([...base, 'env'], s.env)
    add([...base, 'cwd'], s.cwd)
    if (s.soak) add([...base, 'soak', 'check'], s.soak.check)
  })
  return out
}

/** Names of environment variables a template needs: {{ env.X }} plus passwordEnv of database checks. */
export function requiredEnv(t: RunbookTemplate): Set<string> {
  const names = new Set<string>()
  for (const {text} of templateStrings(t))
    for (const v of findVars(text)) if (v.name.startsWith('env.')) names.add(v.name.slice(4))
  const fromCheck = (c: HealthCheck | undefined): void => {
    if (c && 'passwordEnv' in c && c.passwordEnv) names.add(c.passwordEnv)
  }
  t.preflight.forEach((p) => {
    fromCheck(p.check)
  })
  for (const s of t.steps) {
    if ('check' in s) fromCheck(s.check)
    if ('wait' in s) fromCheck(s.wait.check)
    fromCheck(s.soak?.check)
  }
  return names
}

export function checkTemplate(t: RunbookTemplate): PathIssue[] {
  return [...stepIssues(t), ...captureIssues(t), ...variableIssues(t)]
}

/** Duplicate step ids, and finalize steps without a soak or with a rollback. */
function stepIssues(t: RunbookTemplate): PathIssue[] {
  const issues: PathIssue[] = []
  const seen = new Map<string, number>()
  t.steps.forEach((s, i) => {
    if (seen.has(s.id))
      issues.push({
        path: ['steps', i, 'id'],
        code: 'DUPLICATE_STEP',
        message: `step id "${s.id}" is used twice (also steps[${seen.get(s.id)}])`,
        hint: 'Step ids must be unique within a template',
      })
    seen.set(s.id, i)
    if (s.finalize) {
      if (!s.soak)
        issues.push({
          path: ['steps', i, 'finalize'],
          code: 'FINALIZE_WITHOUT_SOAK',
          message: `step "${s.id}" is a finalize step (a point of no return) without a soak`,
          hint: 'Add soak: {duration: 30m, interval: 30s, check: {…}} so it runs only after the target stayed healthy',
        })
      if (s.rollback)
        issues.push({
          path: ['steps', i, 'rollback'],
          code: 'FINALIZE_WITH_ROLLBACK',
          message: `step "${s.id}" is a finalize step but has a rollback`,
          hint: 'A finalize step discards the way back: remove its rollback, or drop finalize: true',
          severity: 'warning',
        })
    }
  })
  return issues
}

/** Captures: a capturePattern needs a capture name and must compile; only run steps capture. */
function captureIssues(t: RunbookTemplate): PathIssue[] {
  const issues: PathIssue[] = []
  t.steps.forEach((s, i) => {
    if (s.capturePattern !== undefined) {
      if (!s.capture)
        issues.push({
          path: ['steps', i, 'capturePattern'],
          code: 'CAPTURE_PATTERN_WITHOUT_CAPTURE',
          message: `step "${s.id}" has capturePattern but no capture name`,
          hint: 'Add capture: NAME',
        })
      try {
        new RegExp(s.capturePattern)
      } catch (e) {
        issues.push({
          path: ['steps', i, 'capturePattern'],
          code: 'BAD_PATTERN',
          message: `capturePattern is not a valid regular expression: ${(e as Error).message}`,
        })
      }
    }
    if (s.capture && !('run' in s))
      issues.push({
        path: ['steps', i, 'capture'],
        code: 'CAPTURE_NOT_RUN',
        message: `step "${s.id}" captures output but is not a run step`,
        hint: 'Only run steps can capture their stdout',
      })
  })
  return issues
}

/** {{ steps.X }} may only name a capture of an earlier step (a rollback may use its own step's capture). */
function capturesBefore(t: RunbookTemplate, p: Path): Set<string> {
  const out = new Set<string>()
  const limit =
    p[0] === 'steps' && typeof p[1] === 'number'
      ? p[2] === 'rollback'
        ? p[1] + 1
        : p[1]
      : p[0] === 'preflight'
        ? 0
        : t.steps.length
  t.steps.slice(0, limit).forEach((s) => {
    s.capture && out.add(s.capture)
  })
  return out
}

/** In every interpolated string: unbalanced braces, unknown filters and unknown variables. */
function variableIssues(t: RunbookTemplate): PathIssue[] {
  const issues: PathIssue[] = []
  const declared = new Set(Object.keys(t.metadata.params))
  for (const {path, text} of templateStrings(t)) {
    if (/\{\{/.test(text.replace(/\{\{\s*[^{}]*?\s*\}\}/g, ''))) {
      issues.push({
        path,
        code: 'TEMPLATE_SYNTAX',
        message: `unbalanced "{{" in ${JSON.stringify(text)}`,
        hint: 'Write variables as {{ app.name }}',
      })
    }
    for (const v of findVars(text)) {
      const badFilter = unknownFilterReason(v.filters)
      if (badFilter)
        issues.push({
          path,
          code: 'UNKNOWN_FILTER',
          message: `{{ ${v.name} | ${v.filters.join(' | ')} }}: ${badFilter}`,
          hint: 'See "Placing values" in docs/execute.md',
        })
      const why = unknownVarReason(v.name, declared, capturesBefore(t, path))
      if (why)
        issues.push({
          path,
          code: 'UNKNOWN_VARIABLE',
          message: `unknown variable ${why}`,
          hint:
            v.name.startsWith('params.') || v.name.startsWith('app.params.')
              ? 'Declare it under metadata.params with a default (the plan may override it per application)'
              : 'See docs/execute.md for the variables a template can use',
        })
    }
  }
  return issues
}
