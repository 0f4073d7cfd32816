import {Flags} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.js'
import {resolvePlanDir} from '../src/cli/plan-dir.js'
import {EXIT, MigrateError} from '../src/errors.js'
import {formatStatus} from '../src/executor/view.js'
import {stateFlag} from '../src/cli/flags.js'
import {withPlanBackend} from '../src/plan-backend.js'
import {backendStatus, type StatusResult} from '../src/executor/plan-status.js'

export default class Status extends BaseCommand {
  static override summary = 'Show where every wave, application and step stands, derived from the plan journal.'
  static override description =
    'Progress, durations, the last error, what waits for a gate and who holds the lock. --verify checks the journal hash chain (exit 1 with JOURNAL_TAMPERED when an event was edited, removed or reordered).'
  static override flags = {
    plan: Flags.string({description: 'plan directory (default: $MIGRATE_PLAN, or the only one under ./plans)'}),
    wave: Flags.integer({description: 'only this wave', min: 1}),
    verify: Flags.boolean({description: 'verify the tamper-evident hash chain of the journal', default: false}),
    state: stateFlag,
  }
  static override examples = [
    '<%= config.bin %> status --plan plans/example',
    '<%= config.bin %> status --plan plans/example --wave 2',
    '<%= config.bin %> status --plan plans/example --verify --json',
  ]

  async run(): Promise<StatusResult> {
    const {flags} = await this.parse(Status)
    const planDir = resolvePlanDir(flags.plan)
    const result = await withPlanBackend(planDir, flags.state, (b) =>
      backendStatus(planDir, b, {wave: flags.wave, verify: flags.verify}),
    )
    if (!this.jsonEnabled()) this.log(formatStatus(result))
    if (result.verify && !result.verify.ok) {
      const first = result.verify.problems[0]
      throw new MigrateError(
        `the journal failed verification: ${result.verify.problems.length} problem(s), the first at ${result.journal.file}:${first.line}: ${first.problem}`,
        {
          code: 'JOURNAL_TAMPERED',
          exitCode: EXIT.FAILURE,
          hint: 'The audit trail was edited, truncated or reordered: compare it with a backup or git history before trusting it',
          data: {problems: result.verify.problems},
        },
      )
    }
    return result
  }
}
