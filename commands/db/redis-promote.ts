import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlag, urlFlag} from '../../src/cli/db-flags.js'
import {redisPromote} from '../../src/db/redis.js'

export default class DbRedisPromote extends BaseCommand {
  static override summary = 'REPLICAOF NO ONE: the replica becomes a primary and accepts writes.'
  static override flags = {
    ...urlFlag,
    ...passwordEnvFlag,
  }
  static override examples = ['<%= config.bin %> db redis-promote --url redis://10.1.0.8:6379']

  async run(): Promise<{promoted: true}> {
    const {flags} = await this.parse(DbRedisPromote)
    await redisPromote(flags.url, {passwordEnv: flags['password-env']})
    if (!this.jsonEnabled()) this.log('promoted')
    return {promoted: true}
  }
}
