// Semantic checks of a runbook template. The execute issue extends these: unknown variables with file:line.
import type {RunbookTemplate} from '../schema/template.js'
import type {PathIssue} from '../schema/issues.js'

export function checkTemplate(t: RunbookTemplate): PathIssue[] {
  const issues: PathIssue[] = []
  const seen = new Map<string, number>()
  t.steps.forEach((s, i) => {
    if (seen.has(s.id)) issues.push({path: ['steps', i, 'id'], code: 'DUPLICATE_STEP', message: `step id "${s.id}" is used twice (also steps[${seen.get(s.id)}])`, hint: 'Step ids must be unique within a template'})
    seen.set(s.id, i)
  })
  return issues
}
