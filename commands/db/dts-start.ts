import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {dtsEngineFlag, dtsFlags, dtsSpec, dtsSpecFlags, dtsTarget} from '../../src/cli/dts-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import type {DtsJobState} from '../../src/db/managed/dts.js'
import {dtsReplicate} from '../../src/db/managed/dts-job.js'

export default class DbDtsStart extends BaseCommand {
  static override summary =
    'Configure the DTS job (full load + incremental) if it is not yet, wait for the service’s precheck, and start it; idempotent while it runs.'
  static override flags = {
    ...dtsEngineFlag,
    ...dtsFlags,
    ...dtsSpecFlags,
    timeout: Flags.string({default: '10m', description: 'longest wait for the precheck'}),
  }
  static override examples = [
    '<%= config.bin %> db dts-start --engine mysql --dts-job-id k2gm967v16f**** --region ap-southeast-5 --source-addr 10.0.0.7:3306 --dts-source-user dts --dts-source-password-env DTS_SRC_PW --target-instance-id rm-d9j**** --dts-target-user shop_admin --dts-target-password-env APSARA_PW --databases shop',
  ]

  async run(): Promise<DtsJobState> {
    const {flags} = await this.parse(DbDtsStart)
    const log = (l: string) => this.jsonEnabled() || this.log(l)
    const s = await dtsReplicate(dtsTarget(flags), dtsSpec(flags), {
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
      log,
    })
    log(`job ${s.id} is ${s.status}`)
    return s
  }
}
