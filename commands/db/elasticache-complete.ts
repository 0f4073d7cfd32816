import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {elasticacheFlags, elasticacheTarget} from '../../src/cli/elasticache-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import {elasticacheComplete, type GroupState} from '../../src/db/managed/elasticache.js'

export default class DbElasticacheComplete extends BaseCommand {
  static override summary =
    'CompleteMigration and wait until the group is available. With --force: abandon a migration (the replicate step’s rollback; a no-op when none runs).'
  static override flags = {
    force: Flags.boolean({
      default: false,
      description: 'complete without waiting for the data to be in sync (abandons the migration)',
    }),
    timeout: Flags.string({default: '2m', description: 'longest wait for `available`'}),
    ...elasticacheFlags,
  }
  static override examples = [
    '<%= config.bin %> db elasticache-complete --replication-group-id shop-cache --region eu-west-1 --force',
  ]

  async run(): Promise<GroupState> {
    const {flags} = await this.parse(DbElasticacheComplete)
    const g = await elasticacheComplete(elasticacheTarget(flags), {
      force: flags.force,
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
    })
    if (!this.jsonEnabled()) this.log(`${g.id} is ${g.status}`)
    return g
  }
}
