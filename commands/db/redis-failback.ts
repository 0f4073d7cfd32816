import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlags} from '../../src/cli/db-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import {redisFailback} from '../../src/db/redis.js'

export default class DbRedisFailback extends BaseCommand {
  static override summary =
    'Fail back after cutover: pause writes on the target, wait until the source has every byte, promote the source.'
  static override flags = {
    source: Flags.string({required: true, description: 'source URL (a replica of the target since cutover)'}),
    target: Flags.string({required: true, description: 'target URL'}),
    timeout: Flags.string({default: '60s', description: 'how long to wait for the source to catch up'}),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db redis-failback --source redis://10.0.0.8:6379 --target redis://10.1.0.8:6379',
  ]

  async run(): Promise<{offset: number}> {
    const {flags} = await this.parse(DbRedisFailback)
    const r = await redisFailback(flags.source, flags.target, {
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
    })
    if (!this.jsonEnabled()) this.log(`failed back at offset ${r.offset}`)
    return r
  }
}
