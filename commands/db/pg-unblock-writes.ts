import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlag} from '../../src/cli/db-flags.js'
import {pgUnblockWrites} from '../../src/db/postgres.js'

export default class DbPgUnblockWrites extends BaseCommand {
  static override summary =
    'Undo `db pg-block-writes`: grant back exactly what its state file records and restore LOGIN.'
  static override flags = {
    url: Flags.string({required: true, description: 'server URL (a superuser)'}),
    state: Flags.string({required: true, description: 'the file pg-block-writes wrote'}),
    ...passwordEnvFlag,
  }
  static override examples = [
    '<%= config.bin %> db pg-unblock-writes --url postgres://postgres@old:5432/app --state plans/x/app.block.json',
  ]

  async run(): Promise<{granted: number; roles: string[]}> {
    const {flags} = await this.parse(DbPgUnblockWrites)
    const r = await pgUnblockWrites(flags.url, flags.state, {passwordEnv: flags['password-env']})
    if (!this.jsonEnabled())
      this.log(
        r.roles.length ? `writes unblocked for ${r.roles.join(', ')}: ${r.granted} grant(s)` : 'nothing was blocked',
      )
    return r
  }
}
