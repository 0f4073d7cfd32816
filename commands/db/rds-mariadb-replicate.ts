import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {badInput} from '../../src/errors.js'
import {gtidFromDump, rdsMariadbReplicate} from '../../src/db/managed/rds-mariadb.js'

export default class DbRdsMariadbReplicate extends BaseCommand {
  static override summary =
    'Make an RDS for MariaDB instance replicate from the source through mysql.rds_set_external_master_gtid and mysql.rds_start_replication.'
  static override description =
    'The GTID comes from the dump (mariadb-dump --gtid --master-data=2 writes it as a comment) or --gtid. Binlog retention on RDS is set first (mysql.rds_set_configuration), so the source can replicate back after cutover. Waits until both replica threads run (mysql.rds_replica_status). The replication password comes from --repl-password-env, never from argv.'
  static override flags = {
    target: Flags.string({
      required: true,
      description: 'RDS endpoint URL as the master user, e.g. mysql://admin@db.xxxx.rds.amazonaws.com:3306/',
    }),
    'source-addr': Flags.string({required: true, description: 'host:port of the source as RDS reaches it'}),
    'repl-user': Flags.string({required: true, description: 'replication user on the source (REPLICATION SLAVE)'}),
    'repl-password-env': Flags.string({description: 'environment variable holding its password'}),
    'dump-file': Flags.string({description: 'dump whose header holds the GTID position'}),
    gtid: Flags.string({description: 'GTID position to start from (instead of --dump-file)'}),
    'ssl-encryption': Flags.option({
      options: ['0', '1'] as const,
      default: '0' as const,
      description: 'ssl_encryption argument of rds_set_external_master_gtid: 1 replicates over TLS',
    })(),
    'binlog-retention-hours': Flags.integer({
      min: 1,
      max: 2160,
      description: 'binlog retention on RDS for the way back',
    }),
    'target-password-env': Flags.string({description: 'environment variable holding the master user password'}),
  }
  static override examples = [
    '<%= config.bin %> db rds-mariadb-replicate --target mysql://admin@shop.abc.eu-west-1.rds.amazonaws.com:3306/ --source-addr 10.0.0.6:3306 --repl-user repl --repl-password-env REPL_PASSWORD --dump-file plan/shop.dump.sql --binlog-retention-hours 24 --target-password-env RDS_PASSWORD',
  ]

  async run(): Promise<{gtid: string; master: string}> {
    const {flags} = await this.parse(DbRdsMariadbReplicate)
    if (!flags.gtid && !flags['dump-file'])
      throw badInput(
        'neither --gtid nor --dump-file given',
        'RDS_NO_GTID',
        'Pass --dump-file with the dump (mariadb-dump --gtid --master-data=2) or --gtid',
      )
    const gtid = flags.gtid ?? gtidFromDump(flags['dump-file']!)
    const r = await rdsMariadbReplicate(flags.target, {
      sourceAddr: flags['source-addr'],
      replUser: flags['repl-user'],
      replPasswordEnv: flags['repl-password-env'],
      gtid,
      ssl: flags['ssl-encryption'] === '1',
      binlogRetentionHours: flags['binlog-retention-hours'],
      targetPasswordEnv: flags['target-password-env'],
    })
    if (!this.jsonEnabled()) this.log(`RDS replicates from ${r.master} from ${r.gtid}`)
    return r
  }
}
