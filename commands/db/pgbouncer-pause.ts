import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {adminPasswordEnvFlag} from '../../src/cli/db-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import {pgbouncerPause} from '../../src/db/pgbouncer.js'

export default class DbPgbouncerPause extends BaseCommand {
  static override summary =
    'PAUSE a PgBouncer database: running transactions finish, new queries wait (clients see a delay, not an error).'
  static override flags = {
    admin: Flags.string({
      required: true,
      description: 'admin console URL, e.g. postgres://pgbouncer@host:6432/pgbouncer',
    }),
    database: Flags.string({required: true, description: 'the [databases] entry to pause'}),
    timeout: Flags.string({default: '30s', description: 'resume and fail when the pause takes longer'}),
    ...adminPasswordEnvFlag,
  }
  static override examples = [
    '<%= config.bin %> db pgbouncer-pause --admin postgres://pgbouncer@127.0.0.1:6432/pgbouncer --database app',
  ]

  async run(): Promise<{database: string; paused: true}> {
    const {flags} = await this.parse(DbPgbouncerPause)
    await pgbouncerPause(flags.admin, flags.database, {
      passwordEnv: flags['password-env'],
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
    })
    if (!this.jsonEnabled()) this.log(`${flags.database} paused`)
    return {database: flags.database, paused: true}
  }
}
