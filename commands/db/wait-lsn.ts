import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlag} from '../../src/cli/db-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import {pgWaitLsn} from '../../src/db/postgres.js'

export default class DbWaitLsn extends BaseCommand {
  static override summary =
    "Note the source's current WAL position and wait until the subscription's slot has confirmed it."
  static override description =
    'Run it after writes are blocked: when it returns, the target has applied every committed write.'
  static override flags = {
    source: Flags.string({required: true, description: 'source (publisher) URL'}),
    slot: Flags.string({required: true, description: 'replication slot (the subscription name)'}),
    timeout: Flags.string({default: '60s', description: 'give up after this long'}),
    ...passwordEnvFlag,
  }
  static override examples = [
    '<%= config.bin %> db wait-lsn --source postgres://postgres@old:5432/app --slot mig_sub --timeout 30s',
  ]

  async run(): Promise<{lsn: string; confirmed: string; waitedMs: number}> {
    const {flags} = await this.parse(DbWaitLsn)
    const r = await pgWaitLsn(flags.source, flags.slot, {
      passwordEnv: flags['password-env'],
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
    })
    if (!this.jsonEnabled()) this.log(`slot ${flags.slot} confirmed ${r.confirmed} ≥ ${r.lsn} after ${r.waitedMs} ms`)
    return r
  }
}
