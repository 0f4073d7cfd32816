import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlags, sourceTargetFlags} from '../../src/cli/db-flags.js'
import {pgFinalize, type CutoverResult} from '../../src/db/cutover.js'

export default class DbPgFinalize extends BaseCommand {
  static override summary =
    'Finalize a PostgreSQL move: drop the reverse subscription and publication, the forward publication and any slot left behind.'
  static override description =
    'A point of no return: afterwards a rollback can no longer bring writes made on the target back to the source.'
  static override flags = {
    ...sourceTargetFlags,
    publication: Flags.string({default: 'mig_pub', description: 'forward publication, on the source'}),
    subscription: Flags.string({default: 'mig_sub', description: 'forward subscription (its slot on the source)'}),
    'reverse-publication': Flags.string({default: 'mig_back_pub', description: 'reverse publication, on the target'}),
    'reverse-subscription': Flags.string({default: 'mig_back', description: 'reverse subscription, on the source'}),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db pg-finalize --source postgres://postgres@old:5432/app --target postgres://postgres@new:5432/app',
  ]

  async run(): Promise<CutoverResult> {
    const {flags} = await this.parse(DbPgFinalize)
    const r = await pgFinalize(
      {
        source: flags.source,
        target: flags.target,
        publication: flags.publication,
        subscription: flags.subscription,
        reversePublication: flags['reverse-publication'],
        reverseSubscription: flags['reverse-subscription'],
        sourcePasswordEnv: flags['source-password-env'],
        targetPasswordEnv: flags['target-password-env'],
      },
      (l) => this.jsonEnabled() || this.log(l),
    )
    return r
  }
}
