import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlags, sourceTargetFlags} from '../../src/cli/db-flags.js'
import {pgSyncSequences} from '../../src/db/postgres.js'

export default class DbPgSyncSequences extends BaseCommand {
  static override summary =
    'Set every sequence on the target to its value on the source (logical replication does not carry them).'
  static override flags = {
    ...sourceTargetFlags,
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db pg-sync-sequences --source postgres://postgres@old:5432/app --target postgres://postgres@new:5432/app',
  ]

  async run(): Promise<{sequences: {name: string; value: string | null}[]}> {
    const {flags} = await this.parse(DbPgSyncSequences)
    const r = await pgSyncSequences(flags.source, flags.target, {
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
    })
    if (!this.jsonEnabled()) this.log(`${r.sequences.length} sequence(s) synced`)
    return r
  }
}
