import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlags} from '../../src/cli/db-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import {pgFailback} from '../../src/db/postgres.js'

export default class DbPgFailback extends BaseCommand {
  static override summary =
    'Fail back after cutover: block writes on the target, wait for the reverse subscription, sync sequences back, drop it.'
  static override description =
    'The rollback of the reverse-replication step. Afterwards the source holds every write made on the target; clients should be paused meanwhile.'
  static override flags = {
    source: Flags.string({required: true, description: 'source URL (where the reverse subscription lives)'}),
    target: Flags.string({required: true, description: 'target URL (publisher of the reverse path)'}),
    subscription: Flags.string({default: 'mig_back', description: 'reverse subscription on the source'}),
    role: Flags.string({required: true, multiple: true, description: 'application role(s) to block on the target'}),
    state: Flags.string({required: true, description: 'file recording what was revoked on the target'}),
    timeout: Flags.string({default: '60s', description: 'how long to wait for the reverse path'}),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db pg-failback --source postgres://postgres@old/app --target postgres://postgres@new/app --role app --state plans/x/target.block.json',
  ]

  async run(): Promise<{blocked: number; lsn: string; sequences: number; notes: string[]}> {
    const {flags} = await this.parse(DbPgFailback)
    const r = await pgFailback(flags.source, flags.target, flags.subscription, flags.role, flags.state, {
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
    })
    if (!this.jsonEnabled())
      this.log(
        `failed back: target blocked, source caught up to ${r.lsn}, ${r.sequences} sequence(s) synced back; ${r.notes.join('; ')}`,
      )
    return r
  }
}
