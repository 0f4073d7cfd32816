import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {adminPasswordEnvFlag} from '../../src/cli/db-flags.js'
import {pgbouncerRepoint} from '../../src/db/pgbouncer.js'

export default class DbPgbouncerRepoint extends BaseCommand {
  static override summary =
    'Point a PgBouncer database entry at another server: rewrite pgbouncer.ini atomically, then RELOAD.'
  static override description =
    'Run it between `db pgbouncer-pause` and `db pgbouncer-resume`: clients wait, then continue on the new server.'
  static override flags = {
    config: Flags.string({required: true, description: 'the pgbouncer.ini PgBouncer runs with'}),
    admin: Flags.string({required: true, description: 'admin console URL'}),
    database: Flags.string({required: true, description: 'the [databases] entry'}),
    host: Flags.string({required: true, description: 'new server host'}),
    port: Flags.integer({required: true, description: 'new server port'}),
    dbname: Flags.string({description: 'new database name (default: unchanged)'}),
    ...adminPasswordEnvFlag,
  }
  static override examples = [
    '<%= config.bin %> db pgbouncer-repoint --config /etc/pgbouncer/pgbouncer.ini --admin postgres://pgbouncer@127.0.0.1:6432/pgbouncer --database app --host 10.1.0.9 --port 5432',
  ]

  async run(): Promise<{before: string; after: string}> {
    const {flags} = await this.parse(DbPgbouncerRepoint)
    const r = await pgbouncerRepoint(
      flags.config,
      flags.admin,
      flags.database,
      {host: flags.host, port: flags.port, dbname: flags.dbname},
      {passwordEnv: flags['password-env']},
    )
    if (!this.jsonEnabled()) this.log(`${r.before}\n→ ${r.after} (reloaded)`)
    return r
  }
}
