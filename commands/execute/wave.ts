import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {lockTimeoutFlag, stateFlag} from '../../src/cli/flags.js'
import {resolvePlanDir} from '../../src/cli/plan-dir.js'
import {startCliRun} from '../../src/executor/cli-run.js'
import {DEFAULT_CONCURRENCY, executeWave} from '../../src/executor/engine.js'
import {writeJunit} from '../../src/executor/junit.js'
import type {WaveResult} from '../../src/executor/types.js'
import {formatDryRun, formatFinding, formatSummary} from '../../src/executor/view.js'

export default class ExecuteWave extends BaseCommand {
  static override summary =
    'Run the runbooks of every application in a wave: pre-flight, steps, health checks, automatic rollback.'
  static override description =
    `Applications run concurrently, each one's steps in order. A failing step (after its retries) rolls that application's completed steps back in reverse; the others go on. Every step is journaled in <plan>/state.journal (or a shared PostgreSQL backend: --state), so running the same command again resumes where it stopped. With a shared backend, runners on many machines run different units of one wave at once (--app UNIT; see migrate ci matrix).

Exit codes: 0 all done (or dry-run: nothing pending), 1 failure without rollback, 2 dry-run with --detailed-exitcode and work pending, 3 some application rolled back, 4 plan (or, with a shared backend, a unit) locked, 5 stale plan, 6 an operator must decide (a gate waits for approval, or an interrupted non-idempotent step), 64 pre-flight blocker or bad input, 130 interrupted.`
  static override args = {
    n: Args.integer({description: 'wave number', required: true, min: 1}),
  }
  static override flags = {
    plan: Flags.string({description: 'plan directory (default: $MIGRATE_PLAN, or the only one under ./plans)'}),
    app: Flags.string({description: 'only this application (repeatable)', multiple: true, multipleNonGreedy: true}),
    'dry-run': Flags.boolean({
      description:
        'render every step with its resolved arguments (secrets redacted), check templates, variables and gates; run nothing',
      default: false,
    }),
    'detailed-exitcode': Flags.boolean({
      description: 'with --dry-run: exit 2 when steps are pending, 0 when the wave is done',
      default: false,
    }),
    concurrency: Flags.integer({description: 'applications run at once', default: DEFAULT_CONCURRENCY, min: 1}),
    yes: Flags.boolean({
      char: 'y',
      description: 'approve every gate (not finalize steps: those need --approve STEP)',
      default: false,
    }),
    approve: Flags.string({
      description: 'approve this gate or finalize step: STEP or APP/STEP (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'no-rollback': Flags.boolean({description: 'leave completed steps in place when a step fails', default: false}),
    'retry-step': Flags.string({
      description: 'an interrupted non-idempotent step did NOT take effect: run it again (STEP or APP/STEP)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'skip-step': Flags.string({
      description: 'an interrupted (or failed) step DID take effect: mark it done and go on (STEP or APP/STEP)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'allow-stale': Flags.boolean({
      description: 'run even though the inventory changed since the plan was made',
      default: false,
    }),
    state: stateFlag,
    'lock-timeout': lockTimeoutFlag(),
    'force-unlock': Flags.boolean({
      description:
        'take the plan lock even if another run holds it (if that run is alive, both would run the same steps)',
      default: false,
    }),
    junit: Flags.string({description: 'write a JUnit XML report (one testcase per application step) to this file'}),
  }
  static override examples = [
    '<%= config.bin %> execute wave 1 --plan plans/example --dry-run',
    '<%= config.bin %> execute wave 1 --plan plans/example --dry-run --detailed-exitcode --junit wave1.xml',
    '<%= config.bin %> execute wave 2 --plan plans/example --app payments --app cart --approve start-cutover',
    '<%= config.bin %> execute wave 2 --plan plans/example --skip-step payments/start-cutover',
    '<%= config.bin %> execute wave 2 --plan plans/example --json 2>events.ndjson',
  ]

  async run(): Promise<WaveResult> {
    const {args, flags} = await this.parse(ExecuteWave)
    const planDir = resolvePlanDir(flags.plan)
    const json = this.jsonEnabled()
    const tty = !!process.stderr.isTTY && !json
    const options = {
      planDir,
      wave: args.n,
      apps: flags.app,
      yes: flags.yes,
      approve: flags.approve,
      retrySteps: flags['retry-step'],
      skipSteps: flags['skip-step'],
      allowStale: flags['allow-stale'],
    }
    // A live listr2 view on a terminal; questions (gates, finalize after its soak) are asked together, the view set aside.
    const live = tty && !flags['dry-run']
    const interactive = tty && !!process.stdin.isTTY
    const cli = await startCliRun({json, live, interactive, write: (l) => process.stderr.write(l + '\n')})
    let result: WaveResult
    try {
      result = await executeWave({
        ...options,
        dryRun: flags['dry-run'],
        detailedExitcode: flags['detailed-exitcode'],
        concurrency: flags.concurrency,
        noRollback: flags['no-rollback'],
        forceUnlock: flags['force-unlock'],
        lockTimeoutMs: flags['lock-timeout'],
        state: flags.state,
        signal: cli.signal,
        emit: cli.emit,
        deps: cli.confirm ? {confirm: cli.confirm} : undefined,
      })
    } finally {
      await cli.finish()
    }
    // The envelope's warnings are the pre-flight's, as the text output shows them.
    this.warnings.push(...result.preflight.filter((f) => f.severity === 'warning').map((f) => formatFinding(f)))
    if (flags.junit) writeJunit(flags.junit, result)
    if (!json) this.log(result.mode === 'dry-run' ? formatDryRun(result) : formatSummary(result))
    if (result.exitCode !== 0) process.exitCode = result.exitCode
    return result
  }
}
