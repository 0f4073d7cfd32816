import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../src/cli/base-command.js'
import {labDown} from '../../../src/db/lab/lab.js'

export default class DbLabDown extends BaseCommand {
  static override summary = "Stop the lab's servers and remove their data (the plan directory and its journal stay)."
  static override flags = {dir: Flags.string({required: true, description: 'the lab directory'})}
  static override examples = ['<%= config.bin %> db lab down --dir /tmp/lab']

  async run(): Promise<{stopped: number}> {
    const {flags} = await this.parse(DbLabDown)
    const r = await labDown(flags.dir)
    if (!this.jsonEnabled()) this.log(`${r.stopped} server(s) stopped`)
    return r
  }
}
