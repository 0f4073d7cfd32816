import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {elasticacheFlags, elasticacheTarget} from '../../src/cli/elasticache-flags.js'
import {elasticacheStart, parseAddr, type GroupState} from '../../src/db/managed/elasticache.js'

export default class DbElasticacheStart extends BaseCommand {
  static override summary =
    'StartMigration: the ElastiCache primary becomes a replica of the source node (idempotent while migrating).'
  static override flags = {
    'source-addr': Flags.string({required: true, description: 'host:port of the source as the group’s VPC reaches it'}),
    ...elasticacheFlags,
  }
  static override examples = [
    '<%= config.bin %> db elasticache-start --replication-group-id shop-cache --region eu-west-1 --source-addr 10.0.0.7:6379',
  ]

  async run(): Promise<GroupState> {
    const {flags} = await this.parse(DbElasticacheStart)
    const g = await elasticacheStart(elasticacheTarget(flags), parseAddr(flags['source-addr'], '--source-addr'))
    if (!this.jsonEnabled()) this.log(`${g.id} is ${g.status}`)
    return g
  }
}
