import {BaseCommand} from '../../src/cli/base-command.js'
import {adminUrlFlag, passwordEnvFlag} from '../../src/cli/db-flags.js'
import {mariadbPromote} from '../../src/db/mariadb.js'

export default class DbMariadbPromote extends BaseCommand {
  static override summary = 'Promote a caught-up replica: STOP SLAVE, RESET SLAVE ALL, read_only off.'
  static override flags = {
    ...adminUrlFlag,
    ...passwordEnvFlag,
  }
  static override examples = ['<%= config.bin %> db mariadb-promote --url mysql://root@10.0.0.7:3306/']

  async run(): Promise<{url: string; done: true}> {
    const {flags} = await this.parse(DbMariadbPromote)
    await mariadbPromote(flags.url, {passwordEnv: flags['password-env']})
    if (!this.jsonEnabled()) this.log('promoted')
    return {url: flags.url.replace(/:[^:@/]*@/, ':***@'), done: true}
  }
}
