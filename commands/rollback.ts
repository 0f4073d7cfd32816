import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.js'
import {lockTimeoutFlag, stateFlag} from '../src/cli/flags.js'
import {resolvePlanDir} from '../src/cli/plan-dir.js'
import {startCliRun} from '../src/executor/cli-run.js'
import {loadPlanContext} from '../src/executor/context.js'
import {DEFAULT_CONCURRENCY, rollbackWave} from '../src/executor/engine.js'
import type {WaveResult} from '../src/executor/types.js'
import {formatSummary} from '../src/executor/view.js'
import {badInput} from '../src/errors.js'
import {didYouMean} from '../src/suggest.js'

export default class Rollback extends BaseCommand {
  static override summary = 'Undo what execute did: run the compensating steps of completed steps, newest first.'
  static override description =
    `Journaled like execute, and resumable: run it again after a crash or a failed compensation and it continues. Rolling back an application of which nothing ran is a no-op that says so.

A compensation that was running when a run stopped runs again only when its step is idempotent (or rollbackIdempotent); otherwise the rollback stops (exit 6) and asks: --skip-step APP/STEP (the undo took effect) or --retry-step APP/STEP (it did not).

After finalize: a completed finalize step is the point of no return (e.g. MGN's finalize-cutover discards the replicated source data). Such an application is not rolled back: the steps after its finalize step are undone, it stays on the target, and it is reported as NOT ROLLED BACK (outcome "finalized", exit 6). Moving it back is a new migration in the other direction. The other applications of the wave are rolled back as usual.

Exit codes: 0 rolled back (or nothing to do), 1 a compensating step failed, 4 plan locked, 5 stale plan, 6 an operator must decide (an interrupted compensation, or an application past its finalize step left on the target), 64 bad input, 73 plan directory not writable, 130 interrupted.`
  static override args = {
    what: Args.string({description: '"wave"', options: ['wave'], required: false}),
    n: Args.integer({description: 'wave number', min: 1, required: false}),
  }
  static override flags = {
    plan: Flags.string({description: 'plan directory (default: $MIGRATE_PLAN, or the only one under ./plans)'}),
    app: Flags.string({
      description: 'only this application (repeatable); the wave is taken from the plan when not given',
      multiple: true,
      multipleNonGreedy: true,
    }),
    concurrency: Flags.integer({description: 'applications rolled back at once', default: DEFAULT_CONCURRENCY, min: 1}),
    'allow-stale': Flags.boolean({
      description: 'roll back even though the inventory changed since the plan was made',
      default: false,
    }),
    state: stateFlag,
    'lock-timeout': lockTimeoutFlag(),
    'force-unlock': Flags.boolean({
      description: 'take the plan lock even if another run holds it (if that run is alive, both would act at once)',
      default: false,
    }),
    'skip-step': Flags.string({
      description: 'STEP or APP/STEP: its rollback was interrupted and did take effect (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'retry-step': Flags.string({
      description: 'STEP or APP/STEP: its rollback was interrupted and did not take effect: run it again (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
    }),
  }
  static override examples = [
    '<%= config.bin %> rollback wave 2 --plan plans/example',
    '<%= config.bin %> rollback --app payments --plan plans/example',
    '<%= config.bin %> rollback wave 2 --app payments --app cart --json',
  ]

  async run(): Promise<WaveResult> {
    const {args, flags} = await this.parse(Rollback)
    const planDir = resolvePlanDir(flags.plan)
    let wave = args.n
    if (args.what === 'wave' && wave === undefined)
      throw badInput(
        '`rollback wave` needs a wave number',
        'USAGE',
        'e.g. `migrate rollback wave 2 --plan plans/example`',
      )
    if (wave === undefined) {
      if (!flags.app?.length)
        throw badInput(
          'say what to roll back: `wave N` or --app NAME',
          'USAGE',
          'e.g. `migrate rollback wave 2` or `migrate rollback --app payments`',
        )
      const {plan} = loadPlanContext(planDir, {allowStale: flags['allow-stale']})
      // An application, or one of its database runbooks (APP:DATABASE_ID).
      const waveOf = (a: string): number | null | undefined =>
        plan.applications.find((x) => x.name === a || a.startsWith(`${x.name}:`))?.wave
      const waves = new Set(flags.app.map(waveOf))
      if (waves.has(undefined) || waves.has(null)) {
        const unknown = flags.app.filter((a) => !waveOf(a))
        throw badInput(
          `not in any wave of the plan: ${unknown
            .map(
              (a) =>
                `${a}${didYouMean(
                  a,
                  plan.applications.map((x) => x.name),
                )}`,
            )
            .join(', ')}`,
          'UNKNOWN_APP',
          'Check the application names in plan.yaml',
        )
      }
      if (waves.size > 1)
        throw badInput(
          `the applications are in different waves (${[...waves].join(', ')})`,
          'USAGE',
          'Roll back one wave at a time: `migrate rollback wave N --app …`',
        )
      wave = [...waves][0] as number
    }
    const json = this.jsonEnabled()
    const tty = !!process.stderr.isTTY && !json
    const cli = await startCliRun({json, live: tty, interactive: false, write: (l) => process.stderr.write(l + '\n')})
    let result: WaveResult
    try {
      result = await rollbackWave({
        planDir,
        wave,
        apps: flags.app,
        concurrency: flags.concurrency,
        allowStale: flags['allow-stale'],
        forceUnlock: flags['force-unlock'],
        lockTimeoutMs: flags['lock-timeout'],
        state: flags.state,
        skipSteps: flags['skip-step'],
        retrySteps: flags['retry-step'],
        signal: cli.signal,
        emit: cli.emit,
      })
    } finally {
      await cli.finish()
    }
    if (!json) this.log(formatSummary(result))
    if (result.exitCode !== 0) process.exitCode = result.exitCode
    return result
  }
}
