import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {mariadbReplicate} from '../../src/db/mariadb.js'

export default class DbMariadbReplicate extends BaseCommand {
  static override summary =
    'Make the target a GTID replica of the source: CHANGE MASTER TO … MASTER_USE_GTID=slave_pos, START SLAVE, wait until both threads run.'
  static override description =
    'The replication password comes from --repl-password-env, never from argv. Load the dump first (it sets gtid_slave_pos). With --from-own-binlog the replica starts from its own binlog position: reverse replication after cutover.'
  static override flags = {
    source: Flags.string({required: true, description: 'source (primary) URL'}),
    target: Flags.string({required: true, description: 'target (replica) URL'}),
    'repl-user': Flags.string({required: true, description: 'replication user on the source (REPLICATION SLAVE)'}),
    'repl-password-env': Flags.string({description: 'environment variable holding its password'}),
    'source-addr': Flags.string({
      description: 'host:port of the source as the target reaches it (default: from --source)',
    }),
    'from-own-binlog': Flags.boolean({
      default: false,
      description: 'start at the replica’s own @@gtid_binlog_pos (reverse replication)',
    }),
    'target-password-env': Flags.string({description: 'environment variable holding the target admin password'}),
  }
  static override examples = [
    '<%= config.bin %> db mariadb-replicate --source mysql://root@old:3306/ --target mysql://root@new:3306/ --repl-user repl --repl-password-env REPL_PASSWORD',
  ]

  async run(): Promise<{gtidSlavePos: string; master: string}> {
    const {flags} = await this.parse(DbMariadbReplicate)
    const r = await mariadbReplicate(
      flags.source,
      flags.target,
      {
        user: flags['repl-user'],
        passwordEnv: flags['repl-password-env'],
        sourceAddr: flags['source-addr'],
        fromOwnBinlog: flags['from-own-binlog'],
      },
      {targetPasswordEnv: flags['target-password-env']},
    )
    if (!this.jsonEnabled()) this.log(`replicating from ${r.master} at ${r.gtidSlavePos}`)
    return r
  }
}
