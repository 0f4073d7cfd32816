import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../src/cli/base-command.js'
import {labUp, type LabInfo} from '../../../src/db/lab/lab.js'

export default class DbLabUp extends BaseCommand {
  static override summary =
    'Start a local estate to migrate for real: a source and a target server, the proxy in front, and a plan directory.'
  static override description =
    'PostgreSQL 15 + PgBouncer, MariaDB + HAProxy, or Redis + HAProxy from the Debian packages, in temp directories on spare loopback ports; they keep running until `migrate db lab down`.'
  static override flags = {
    engine: Flags.option({
      options: ['postgres', 'mariadb', 'redis'] as const,
      required: true,
      description: 'which engine',
    })(),
    dir: Flags.string({required: true, description: 'a new directory for lab.json and the plan'}),
  }
  static override examples = ['<%= config.bin %> db lab up --engine postgres --dir /tmp/lab']

  async run(): Promise<LabInfo> {
    const {flags} = await this.parse(DbLabUp)
    const info = await labUp(flags.engine, flags.dir)
    if (!this.jsonEnabled()) {
      this.log(`${info.engine} lab is up: clients connect to ${info.clientUrl}`)
      for (const s of info.servers) this.log(`  ${s.kind.padEnd(9)} 127.0.0.1:${s.port}`)
      this.log(`plan: ${info.planDir}\n\nNext, in two terminals:`)
      this.log(`  migrate db lab load --dir ${flags.dir} --seconds 40`)
      this.log(`  PATH=${info.binDir}:$PATH migrate execute wave 1 --plan ${info.planDir} --yes`)
      this.log(`Then: migrate status --plan ${info.planDir}; and to stop: migrate db lab down --dir ${flags.dir}`)
    }
    return info
  }
}
