// Semantic checks of a (possibly hand-edited) plan. The planner issue extends these with the inventory in hand:
// capacity, move groups, blackouts.
import type {Plan} from '../schema/plan.js'
import type {PathIssue} from '../schema/issues.js'

export function checkPlan(plan: Plan): PathIssue[] {
  const issues: PathIssue[] = []
  const waveNumbers = new Set(plan.waves.map((w) => w.number))
  const appNames = new Set(plan.applications.map((a) => a.name))
  plan.waves.forEach((w, i) => {
    w.applications.forEach((name, j) => {
      if (!appNames.has(name)) issues.push({path: ['waves', i, 'applications', j], code: 'UNKNOWN_APP', message: `wave ${w.number} lists "${name}", which is not in applications`, hint: 'Add the application or remove it from the wave'})
    })
  })
  plan.applications.forEach((a, i) => {
    if (a.wave !== null && !waveNumbers.has(a.wave)) issues.push({path: ['applications', i, 'wave'], code: 'UNKNOWN_WAVE', message: `application "${a.name}" is in wave ${a.wave}, which does not exist`, hint: `Use one of: ${[...waveNumbers].join(', ') || 'none defined'}`})
  })
  return issues
}
