import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {pgSubscribe} from '../../src/db/managed/rds-postgres.js'

export default class DbPgSubscribe extends BaseCommand {
  static override summary =
    'CREATE SUBSCRIPTION on the target with the password taken from the environment: what a non-superuser owner (RDS/Aurora master user) needs.'
  static override description =
    'A subscription owned by a non-superuser must authenticate to the source with a password that is in its connection string (password_required). The password is read from --password-env and never appears in argv, the plan or the journal; an existing subscription of that name is left as it is.'
  static override flags = {
    target: Flags.string({required: true, description: 'target URL (the database owner)'}),
    subscription: Flags.string({default: 'mig_sub', description: 'subscription (and slot) name'}),
    publication: Flags.string({default: 'mig_pub', description: 'publication on the source'}),
    'source-conninfo': Flags.string({
      required: true,
      description: 'libpq string the target uses to reach the source, without password',
    }),
    'password-env': Flags.string({description: 'environment variable holding the source replication user’s password'}),
    'target-password-env': Flags.string({description: 'environment variable holding the target user’s password'}),
  }
  static override examples = [
    "<%= config.bin %> db pg-subscribe --target postgres://master@shop.cluster-abc.eu-west-1.rds.amazonaws.com:5432/shop --source-conninfo 'host=10.0.0.5 port=5432 dbname=shop user=repl' --password-env REPL_PASSWORD",
  ]

  async run(): Promise<{subscription: string}> {
    const {flags} = await this.parse(DbPgSubscribe)
    const r = await pgSubscribe(flags.target, {
      subscription: flags.subscription,
      publication: flags.publication,
      sourceConninfo: flags['source-conninfo'],
      passwordEnv: flags['password-env'],
      targetPasswordEnv: flags['target-password-env'],
    })
    if (!this.jsonEnabled()) this.log(`subscription ${r.subscription} created`)
    return r
  }
}
