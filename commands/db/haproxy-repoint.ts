import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {hostPort} from '../../src/db/connect.js'
import {haproxyRepoint} from '../../src/db/haproxy.js'

export default class DbHaproxyRepoint extends BaseCommand {
  static override summary =
    'Point an HAProxy backend server at another address via the runtime API, and end sessions to the old one.'
  static override flags = {
    api: Flags.string({
      required: true,
      description: 'runtime API: host:port or a unix socket path (stats socket … level admin)',
    }),
    server: Flags.string({required: true, description: 'backend/server as in haproxy.cfg'}),
    addr: Flags.string({required: true, description: 'new address host:port'}),
    'keep-sessions': Flags.boolean({default: false, description: 'do not end the sessions open to the old address'}),
  }
  static override examples = [
    '<%= config.bin %> db haproxy-repoint --api 127.0.0.1:9999 --server mariadb_be/db --addr 10.1.0.7:3306',
  ]

  async run(): Promise<{before: {host: string; port: number}; after: {host: string; port: number}}> {
    const {flags} = await this.parse(DbHaproxyRepoint)
    const to = hostPort(`tcp://${flags.addr}`, 0)
    const r = await haproxyRepoint(flags.api, flags.server, to, {keepSessions: flags['keep-sessions']})
    if (!this.jsonEnabled())
      this.log(
        `${flags.server}: ${r.before.host}:${r.before.port} → ${to.host}:${to.port}${flags['keep-sessions'] ? '' : ', old sessions ended'}`,
      )
    return {before: r.before, after: to}
  }
}
