import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {rdsMariadbResetReplica} from '../../src/db/managed/rds-mariadb.js'

export default class DbRdsMariadbReset extends BaseCommand {
  static override summary =
    'Stop and forget replication on an RDS for MariaDB instance: mysql.rds_stop_replication, mysql.rds_reset_external_master.'
  static override flags = {
    url: Flags.string({required: true, description: 'RDS endpoint URL as the master user'}),
    'password-env': Flags.string({description: 'environment variable holding the master user password'}),
  }
  static override examples = [
    '<%= config.bin %> db rds-mariadb-reset --url mysql://admin@shop.abc.eu-west-1.rds.amazonaws.com:3306/ --password-env RDS_PASSWORD',
  ]

  async run(): Promise<{gtidSlavePos: string}> {
    const {flags} = await this.parse(DbRdsMariadbReset)
    const r = await rdsMariadbResetReplica(flags.url, flags['password-env'])
    if (!this.jsonEnabled()) this.log(`replication reset (gtid_slave_pos ${r.gtidSlavePos || 'empty'})`)
    return r
  }
}
