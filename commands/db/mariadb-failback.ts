import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlags} from '../../src/cli/db-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import {mariadbFailback} from '../../src/db/mariadb.js'

export default class DbMariadbFailback extends BaseCommand {
  static override summary =
    'Fail back after cutover: block writes on the target, wait until the source has its last GTID, stop replication on the source.'
  static override flags = {
    source: Flags.string({required: true, description: 'source URL (replicating from the target since cutover)'}),
    target: Flags.string({required: true, description: 'target URL'}),
    user: Flags.string({
      multiple: true,
      default: [],
      description: 'application user whose connections to the target are killed',
    }),
    timeout: Flags.string({default: '60s', description: 'how long to wait for the source to catch up'}),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db mariadb-failback --source mysql://root@old:3306/ --target mysql://root@new:3306/ --user app',
  ]

  async run(): Promise<{gtid: string; killed: number}> {
    const {flags} = await this.parse(DbMariadbFailback)
    const r = await mariadbFailback(flags.source, flags.target, flags.user, {
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
    })
    if (!this.jsonEnabled()) this.log(`failed back: source caught up to ${r.gtid}`)
    return r
  }
}
