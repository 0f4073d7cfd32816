import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlag, urlFlag} from '../../src/cli/db-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import {redisPause} from '../../src/db/redis.js'

export default class DbRedisPause extends BaseCommand {
  static override summary =
    'CLIENT PAUSE … WRITE: writers wait (no error), readers go on, the replication offset stops moving.'
  static override flags = {
    ...urlFlag,
    for: Flags.string({default: '30s', description: 'the pause ends by itself after this long (a safety net)'}),
    ...passwordEnvFlag,
  }
  static override examples = ['<%= config.bin %> db redis-pause --url redis://10.0.0.8:6379 --for 30s']

  async run(): Promise<{pausedMs: number}> {
    const {flags} = await this.parse(DbRedisPause)
    const ms = flagDuration(flags.for, 'for')
    await redisPause(flags.url, ms, {passwordEnv: flags['password-env']})
    if (!this.jsonEnabled()) this.log(`writes paused for at most ${ms} ms`)
    return {pausedMs: ms}
  }
}
