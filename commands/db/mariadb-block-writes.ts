import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {adminUrlFlag, passwordEnvFlag} from '../../src/cli/db-flags.js'
import {mariadbBlockWrites} from '../../src/db/mariadb.js'

export default class DbMariadbBlockWrites extends BaseCommand {
  static override summary =
    "Block writes for real: SET GLOBAL read_only = 1 and KILL the application users' connections."
  static override description =
    'In MariaDB 10.11 only READ ONLY ADMIN bypasses read_only (SUPER no longer does); `db preflight` lists accounts that hold it.'
  static override flags = {
    ...adminUrlFlag,
    user: Flags.string({
      multiple: true,
      default: [],
      description: 'application user whose connections are killed (repeatable)',
    }),
    ...passwordEnvFlag,
  }
  static override examples = ['<%= config.bin %> db mariadb-block-writes --url mysql://root@old:3306/ --user app']

  async run(): Promise<{killed: number}> {
    const {flags} = await this.parse(DbMariadbBlockWrites)
    const r = await mariadbBlockWrites(flags.url, flags.user, {passwordEnv: flags['password-env']})
    if (!this.jsonEnabled()) this.log(`read_only on, ${r.killed} connection(s) killed`)
    return r
  }
}
