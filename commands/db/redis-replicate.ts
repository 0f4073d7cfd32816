import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {redisReplicate} from '../../src/db/redis.js'

export default class DbRedisReplicate extends BaseCommand {
  static override summary = 'REPLICAOF: make the target a replica of the source (it discards its own keys and syncs).'
  static override flags = {
    source: Flags.string({required: true, description: 'source (primary) URL'}),
    target: Flags.string({required: true, description: 'target (replica) URL'}),
    'source-addr': Flags.string({
      description: 'host:port of the source as the target reaches it (default: from --source)',
    }),
    'masterauth-env': Flags.string({
      description: 'environment variable with the source password, set as masterauth on the target',
    }),
    unpause: Flags.boolean({
      default: false,
      description: 'CLIENT UNPAUSE the target afterwards (after a fail-back paused it)',
    }),
    'target-password-env': Flags.string({description: 'environment variable holding the target password'}),
  }
  static override examples = [
    '<%= config.bin %> db redis-replicate --source redis://10.0.0.8:6379 --target redis://10.1.0.8:6379',
  ]

  async run(): Promise<{master: string}> {
    const {flags} = await this.parse(DbRedisReplicate)
    const r = await redisReplicate(flags.source, flags.target, {
      sourceAddr: flags['source-addr'],
      masterauthEnv: flags['masterauth-env'],
      unpause: flags.unpause,
      targetPasswordEnv: flags['target-password-env'],
    })
    if (!this.jsonEnabled()) this.log(`replicating from ${r.master}`)
    return r
  }
}
