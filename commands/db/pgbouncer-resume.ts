import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {adminPasswordEnvFlag} from '../../src/cli/db-flags.js'
import {pgbouncerResume} from '../../src/db/pgbouncer.js'

export default class DbPgbouncerResume extends BaseCommand {
  static override summary = 'RESUME a paused PgBouncer database (a no-op when it is not paused).'
  static override flags = {
    admin: Flags.string({required: true, description: 'admin console URL'}),
    database: Flags.string({required: true, description: 'the [databases] entry to resume'}),
    ...adminPasswordEnvFlag,
  }
  static override examples = [
    '<%= config.bin %> db pgbouncer-resume --admin postgres://pgbouncer@127.0.0.1:6432/pgbouncer --database app',
  ]

  async run(): Promise<{database: string; paused: false}> {
    const {flags} = await this.parse(DbPgbouncerResume)
    await pgbouncerResume(flags.admin, flags.database, {passwordEnv: flags['password-env']})
    if (!this.jsonEnabled()) this.log(`${flags.database} resumed`)
    return {database: flags.database, paused: false}
  }
}
