import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {rdsMariadbDropDatabase, rdsMariadbLoad} from '../../src/db/managed/rds-load.js'

export default class DbRdsMariadbLoad extends BaseCommand {
  static override summary =
    'Load a mariadb-dump file into RDS for MariaDB as the master user (with --undo: drop the database of the URL).'
  static override description =
    'Runs the mariadb client with the master password from --password-env (passed as MYSQL_PWD, never in argv). The dump must come from mariadb-dump --gtid --master-data=2: RDS refuses the SET GLOBAL gtid_slave_pos that --master-data=1 writes, and SET sql_log_bin (so the load goes through the binlog).'
  static override flags = {
    url: Flags.string({
      required: true,
      description: 'RDS endpoint URL as the master user, with the database: mysql://admin@host:3306/shop',
    }),
    'dump-file': Flags.string({description: 'the dump to load'}),
    undo: Flags.boolean({
      default: false,
      description: 'drop the database named in the URL instead (the load step’s rollback)',
    }),
    'password-env': Flags.string({description: 'environment variable holding the master user password'}),
  }
  static override examples = [
    '<%= config.bin %> db rds-mariadb-load --url mysql://admin@shop.abc.eu-west-1.rds.amazonaws.com:3306/shop --dump-file plan/shop.dump.sql --password-env RDS_PASSWORD',
  ]

  async run(): Promise<{database?: string; loaded?: string}> {
    const {flags} = await this.parse(DbRdsMariadbLoad)
    if (flags.undo) return {database: await rdsMariadbDropDatabase(flags.url, flags['password-env'])}
    const r = await rdsMariadbLoad(flags.url, flags['dump-file'], flags['password-env'])
    if (!this.jsonEnabled()) this.log(`loaded ${r.loaded}`)
    return r
  }
}
