import {BaseCommand} from '../../src/cli/base-command.js'
import {adminUrlFlag, passwordEnvFlag} from '../../src/cli/db-flags.js'
import {mariadbStopReplica} from '../../src/db/mariadb.js'

export default class DbMariadbStopReplica extends BaseCommand {
  static override summary = 'Stop replication and forget the master: STOP SLAVE; RESET SLAVE ALL.'
  static override flags = {
    ...adminUrlFlag,
    ...passwordEnvFlag,
  }
  static override examples = ['<%= config.bin %> db mariadb-stop-replica --url mysql://root@10.0.0.7:3306/']

  async run(): Promise<{url: string; done: true}> {
    const {flags} = await this.parse(DbMariadbStopReplica)
    await mariadbStopReplica(flags.url, {passwordEnv: flags['password-env']})
    if (!this.jsonEnabled()) this.log('stopped')
    return {url: flags.url.replace(/:[^:@/]*@/, ':***@'), done: true}
  }
}
