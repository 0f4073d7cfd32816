import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {MigrateError} from '../../src/errors.js'
import {redactUrl} from '../../src/db/connect.js'
import {rdsMariadbLag} from '../../src/db/managed/rds-mariadb.js'

export default class DbRdsMariadbLag extends BaseCommand {
  static override summary =
    'Replica lag of an RDS for MariaDB instance through mysql.rds_replica_status; exits 1 unless both threads run and the lag is at most --max-lag.'
  static override description =
    'The master user of RDS for MariaDB 10.5+ may not run SHOW SLAVE STATUS (no SLAVE MONITOR); RDS offers mysql.rds_replica_status instead. A runbook waits on this command as a check.'
  static override flags = {
    url: Flags.string({required: true, description: 'RDS endpoint URL as the master user'}),
    'max-lag': Flags.integer({default: 1, min: 0, description: 'seconds behind the source still counted as caught up'}),
    'password-env': Flags.string({description: 'environment variable holding the master user password'}),
  }
  static override examples = [
    '<%= config.bin %> db rds-mariadb-lag --url mysql://admin@shop.abc.eu-west-1.rds.amazonaws.com:3306/ --max-lag 1',
  ]

  async run(): Promise<{seconds: number | null; io: string; sql: string}> {
    const {flags} = await this.parse(DbRdsMariadbLag)
    const lag = await rdsMariadbLag(flags.url, flags['password-env'])
    if (!lag)
      throw new MigrateError(`${redactUrl(flags.url)} is not a replica`, {
        code: 'DB_NOT_REPLICA',
        hint: 'Run the replicate step (migrate db rds-mariadb-replicate) first',
      })
    if (lag.io !== 'Yes' || lag.sql !== 'Yes' || lag.seconds === null || lag.seconds > flags['max-lag'])
      throw new MigrateError(
        `replica IO ${lag.io}, SQL ${lag.sql}, ${lag.seconds ?? '?'} s behind${lag.error ? `: ${lag.error}` : ''}`,
        {
          code: 'DB_REPLICA_LAG',
          hint: 'Wait, or read Last_IO_Error / Last_SQL_Error from CALL mysql.rds_replica_status',
        },
      )
    if (!this.jsonEnabled()) this.log(`replica ${lag.seconds} s behind`)
    return lag
  }
}
