import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlag} from '../../src/cli/db-flags.js'
import {pgBlockWrites} from '../../src/db/postgres.js'

export default class DbPgBlockWrites extends BaseCommand {
  static override summary =
    'Block writes by application roles for real: REVOKE their table write privileges, NOLOGIN, end their sessions.'
  static override description =
    'What was revoked is recorded in --state so that `migrate db pg-unblock-writes` restores exactly that. A read-only default is not used: any client can switch it off. Privileges a role inherits from another role are not revoked; NOLOGIN and ending its sessions block the role all the same. A superuser role is refused: nothing blocks it.'
  static override flags = {
    url: Flags.string({required: true, description: 'server URL (a superuser)'}),
    role: Flags.string({required: true, multiple: true, description: 'application role to block (repeatable)'}),
    state: Flags.string({required: true, description: 'file recording what was revoked'}),
    schema: Flags.string({multiple: true, description: 'only tables in these schemas (default: all)'}),
    ...passwordEnvFlag,
  }
  static override examples = [
    '<%= config.bin %> db pg-block-writes --url postgres://postgres@old:5432/app --role app --state plans/x/app.block.json',
  ]

  async run(): Promise<{revoked: number; terminated: number; roles: string[]}> {
    const {flags} = await this.parse(DbPgBlockWrites)
    const r = await pgBlockWrites(flags.url, flags.role, flags.state, {
      passwordEnv: flags['password-env'],
      schemas: flags.schema,
    })
    if (!this.jsonEnabled())
      this.log(
        `writes blocked for ${r.roles.join(', ')}: ${r.revoked} table grant(s) revoked, ${r.terminated} session(s) ended`,
      )
    return r
  }
}
