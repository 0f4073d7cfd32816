import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {elasticacheFlags, elasticacheTarget} from '../../src/cli/elasticache-flags.js'
import {MigrateError} from '../../src/errors.js'
import {parseInfo, redactUrl, withRedis} from '../../src/db/connect.js'
import {redisLag} from '../../src/db/redis.js'
import {describeGroup, primaryUrl} from '../../src/db/managed/elasticache.js'

export default class DbElasticacheCheck extends BaseCommand {
  static override summary =
    'A check for runbooks: with --source, the group is migrating and at most --max-lag bytes behind; with --via, the server behind that URL (the clients’ proxy) is the group’s primary and the group is available. Exits 1 otherwise.'
  static override flags = {
    source: Flags.string({description: 'source URL: check the migration’s lag'}),
    'max-lag': Flags.integer({default: 1_048_576, min: 0, description: 'bytes behind still counted as caught up'}),
    via: Flags.string({description: 'URL clients use (e.g. through HAProxy): check it reaches the group’s primary'}),
    ...elasticacheFlags,
  }
  static override examples = [
    '<%= config.bin %> db elasticache-check --replication-group-id shop-cache --region eu-west-1 --source redis://10.0.0.7:6379',
    '<%= config.bin %> db elasticache-check --replication-group-id shop-cache --region eu-west-1 --via redis://haproxy:6379',
  ]

  async run(): Promise<{status: string; lagBytes?: number; runId?: string}> {
    const {flags} = await this.parse(DbElasticacheCheck)
    const g = await describeGroup(elasticacheTarget(flags))
    if (flags.source) {
      if (g.status !== 'migrating')
        throw new MigrateError(`${g.id} is ${g.status}, not migrating`, {
          code: 'ELASTICACHE_NOT_MIGRATING',
          hint: 'Run the replicate step (StartMigration) first',
        })
      const lag = await redisLag(flags.source, primaryUrl(g))
      if (!lag?.linkUp || lag.syncing || lag.lagBytes > flags['max-lag'])
        throw new MigrateError(
          `${g.id}: ${lag ? `link ${lag.linkUp ? 'up' : 'down'}${lag.syncing ? ', initial sync' : ''}, ${lag.lagBytes} bytes behind` : 'not a replica'}`,
          {code: 'DB_REPLICA_LAG', hint: 'Wait for the initial sync to finish'},
        )
      if (!this.jsonEnabled()) this.log(`${g.id} migrating, ${lag.lagBytes} bytes behind`)
      return {status: g.status, lagBytes: lag.lagBytes}
    }
    if (!flags.via) throw new MigrateError('pass --source or --via', {code: 'USAGE'})
    if (g.status !== 'available') throw new MigrateError(`${g.id} is ${g.status}`, {code: 'ELASTICACHE_WRONG_STATE'})
    const runId = async (url: string) =>
      parseInfo(String(await withRedis(url, undefined, (r) => r.info('server')))).run_id
    const [a, b] = await Promise.all([runId(flags.via), runId(primaryUrl(g))])
    if (a !== b)
      throw new MigrateError(`${redactUrl(flags.via)} does not reach ${g.id}'s primary`, {
        code: 'ELASTICACHE_NOT_BEHIND_PROXY',
        hint: 'Check the proxy points at the primary endpoint',
      })
    if (!this.jsonEnabled()) this.log(`${redactUrl(flags.via)} reaches ${g.id}'s primary (${g.status})`)
    return {status: g.status, runId: a}
  }
}
