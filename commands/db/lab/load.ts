import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../src/cli/base-command.js'
import {labLoad, type LabLoadResult} from '../../../src/db/lab/lab.js'

export default class DbLabLoad extends BaseCommand {
  static override summary =
    'Write to the lab through its proxy like an application, then report failed writes, the longest gap, and lost writes.'
  static override flags = {
    dir: Flags.string({required: true, description: 'the lab directory'}),
    seconds: Flags.integer({default: 30, min: 1, description: 'how long to write'}),
  }
  static override examples = ['<%= config.bin %> db lab load --dir /tmp/lab --seconds 40']

  async run(): Promise<LabLoadResult> {
    const {flags} = await this.parse(DbLabLoad)
    const r = await labLoad(
      flags.dir,
      flags.seconds,
      (n) => this.jsonEnabled() || process.stderr.write(`\r${n} writes acknowledged`),
    )
    if (!this.jsonEnabled()) {
      process.stderr.write('\n')
      this.log(
        `${r.committed} writes acknowledged, ${r.failed} failed, longest gap ${r.maxGapMs} ms (at ${(r.maxGapAtMs / 1000).toFixed(1)} s), ${r.lost} lost`,
      )
      for (const [m, n] of Object.entries(r.errors)) this.log(`  ${n} × ${m}`)
    }
    return r
  }
}
