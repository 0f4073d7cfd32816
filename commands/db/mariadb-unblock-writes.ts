import {BaseCommand} from '../../src/cli/base-command.js'
import {adminUrlFlag, passwordEnvFlag} from '../../src/cli/db-flags.js'
import {mariadbUnblockWrites} from '../../src/db/mariadb.js'

export default class DbMariadbUnblockWrites extends BaseCommand {
  static override summary = 'Allow writes again: SET GLOBAL read_only = 0.'
  static override flags = {
    ...adminUrlFlag,
    ...passwordEnvFlag,
  }
  static override examples = ['<%= config.bin %> db mariadb-unblock-writes --url mysql://root@10.0.0.7:3306/']

  async run(): Promise<{url: string; done: true}> {
    const {flags} = await this.parse(DbMariadbUnblockWrites)
    await mariadbUnblockWrites(flags.url, {passwordEnv: flags['password-env']})
    if (!this.jsonEnabled()) this.log('read_only off')
    return {url: flags.url.replace(/:[^:@/]*@/, ':***@'), done: true}
  }
}
