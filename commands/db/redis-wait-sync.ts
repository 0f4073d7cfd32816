import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlags} from '../../src/cli/db-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import {redisWaitSync} from '../../src/db/redis.js'

export default class DbRedisWaitSync extends BaseCommand {
  static override summary =
    "Wait until the replica's link is up and its offset equals the primary's (run while writes are paused)."
  static override flags = {
    source: Flags.string({required: true, description: 'primary URL'}),
    target: Flags.string({required: true, description: 'replica URL'}),
    timeout: Flags.string({default: '60s', description: 'give up after this long'}),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db redis-wait-sync --source redis://10.0.0.8:6379 --target redis://10.1.0.8:6379',
  ]

  async run(): Promise<{offset: number; waitedMs: number}> {
    const {flags} = await this.parse(DbRedisWaitSync)
    const r = await redisWaitSync(flags.source, flags.target, {
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
    })
    if (!this.jsonEnabled()) this.log(`offsets equal at ${r.offset} after ${r.waitedMs} ms`)
    return r
  }
}
