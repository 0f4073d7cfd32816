import {BaseCommand} from '../../src/cli/base-command.js'
import {dtsFlags, dtsTarget} from '../../src/cli/dts-flags.js'
import {dtsStop} from '../../src/db/managed/dts-job.js'

export default class DbDtsStop extends BaseCommand {
  static override summary =
    'StopDtsJob on the job and its reverse task (the replicate step’s rollback, and finalize); finished jobs are left alone. A stopped DTS job does not run again.'
  static override flags = {...dtsFlags}
  static override examples = ['<%= config.bin %> db dts-stop --dts-job-id k2gm967v16f**** --region ap-southeast-5']

  async run(): Promise<{stopped: string[]}> {
    const {flags} = await this.parse(DbDtsStop)
    const stopped = await dtsStop(dtsTarget(flags), flags['dts-job-id'])
    if (!this.jsonEnabled()) this.log(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing was running')
    return {stopped}
  }
}
