import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlag, urlFlag} from '../../src/cli/db-flags.js'
import {redisUnpause} from '../../src/db/redis.js'

export default class DbRedisUnpause extends BaseCommand {
  static override summary = 'CLIENT UNPAUSE: waiting writers go on.'
  static override flags = {
    ...urlFlag,
    ...passwordEnvFlag,
  }
  static override examples = ['<%= config.bin %> db redis-unpause --url redis://10.0.0.8:6379']

  async run(): Promise<{unpaused: true}> {
    const {flags} = await this.parse(DbRedisUnpause)
    await redisUnpause(flags.url, {passwordEnv: flags['password-env']})
    if (!this.jsonEnabled()) this.log('unpaused')
    return {unpaused: true}
  }
}
