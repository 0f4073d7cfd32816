import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlags} from '../../src/cli/db-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import {mariadbWaitGtid} from '../../src/db/mariadb.js'

export default class DbMariadbWaitGtid extends BaseCommand {
  static override summary =
    "Read the source's @@gtid_binlog_pos and wait (MASTER_GTID_WAIT) until the target has applied it."
  static override flags = {
    source: Flags.string({required: true, description: 'source URL'}),
    target: Flags.string({required: true, description: 'target (replica) URL'}),
    timeout: Flags.string({default: '60s', description: 'give up after this long'}),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db mariadb-wait-gtid --source mysql://root@old:3306/ --target mysql://root@new:3306/ --timeout 30s',
  ]

  async run(): Promise<{gtid: string; waitedMs: number}> {
    const {flags} = await this.parse(DbMariadbWaitGtid)
    const r = await mariadbWaitGtid(flags.source, flags.target, {
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
    })
    if (!this.jsonEnabled()) this.log(`target reached ${r.gtid} after ${r.waitedMs} ms`)
    return r
  }
}
