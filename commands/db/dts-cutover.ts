import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {haproxyFlags} from '../../src/cli/db-flags.js'
import {dtsEngine, dtsEngineFlag, dtsFlags, dtsTarget} from '../../src/cli/dts-flags.js'
import {flagDuration, hostPort} from '../../src/db/connect.js'
import type {CutoverResult} from '../../src/db/cutover.js'
import {dtsCutover, dtsCutoverRollback} from '../../src/db/managed/dts-cutover.js'

export default class DbDtsCutover extends BaseCommand {
  static override summary =
    'Cut over onto ApsaraDB RDS / Tair in one step: block writes on the source, wait until DTS applied everything, suspend the job, create the reverse task, repoint HAProxy.'
  static override description =
    `Sub-steps, each undone in reverse if a later one fails: block-source-writes (MySQL family: read_only + sessions of --users ended; Redis: CLIENT PAUSE WRITE) → wait-dts-applied (DescribeDtsJobDetail delay ≤ --max-delay, then the data equal: CHECKSUM TABLE per table, or key counts) → suspend-dts-job → create-reverse-task (MySQL family) → repoint-clients. The source stays write-blocked: it is the way back.
With --rollback (same flags): hold clients in HAProxy, StartReverseWriter and wait until the source equals the target (Redis: copy every key back), stop the reverse task, repoint to the source, lift the block.`
  static override flags = {
    ...dtsEngineFlag,
    ...dtsFlags,
    ...haproxyFlags,
    source: Flags.string({required: true, description: 'source URL (ours, admin)'}),
    target: Flags.string({required: true, description: 'target instance URL (its master account)'}),
    users: Flags.string({
      default: '',
      description: 'MySQL family: comma-separated application accounts whose source sessions are ended',
    }),
    'max-delay': Flags.string({
      default: '0s',
      description: 'DTS delay accepted inside the block (the data must be equal anyway)',
    }),
    'pause-max': Flags.string({default: '10s', description: 'Redis: CLIENT PAUSE length (it lifts itself after this)'}),
    timeout: Flags.string({
      default: '60s',
      description: 'longest wait for DTS (MySQL family; Redis waits within the pause)',
    }),
    rollback: Flags.boolean({default: false, description: 'undo a cutover (idempotent)'}),
    'source-password-env': Flags.string({description: 'environment variable holding the source password'}),
    'target-password-env': Flags.string({description: 'environment variable holding the target password'}),
  }
  static override examples = [
    '<%= config.bin %> db dts-cutover --engine mysql --dts-job-id k2gm967v16f**** --region ap-southeast-5 --source mysql://root@10.0.0.7/shop --target mysql://shop_admin@rm-d9j****.mysql.rds.aliyuncs.com/shop --target-password-env APSARA_PW --users shop --haproxy-api 127.0.0.1:9999 --haproxy-server mysql_be/db',
  ]

  async run(): Promise<CutoverResult> {
    const {flags} = await this.parse(DbDtsCutover)
    const engine = dtsEngine(flags.engine)
    const defPort = engine === 'Redis' ? 6379 : 3306
    const opts = {
      engine,
      source: flags.source,
      target: flags.target,
      dts: dtsTarget(flags),
      jobId: flags['dts-job-id'],
      users: flags.users
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
      haproxy: {
        api: flags['haproxy-api'],
        server: flags['haproxy-server'],
        source: hostPort(flags['haproxy-source'] ? `tcp://${flags['haproxy-source']}` : flags.source, defPort),
        target: hostPort(flags['haproxy-target'] ? `tcp://${flags['haproxy-target']}` : flags.target, defPort),
      },
      maxDelayMs: flagDuration(flags['max-delay'], 'max-delay'),
      pauseMs: flagDuration(flags['pause-max'], 'pause-max'),
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
    }
    const log = (l: string) => this.jsonEnabled() || this.log(l)
    const r = flags.rollback ? await dtsCutoverRollback(opts, log) : await dtsCutover(opts, log)
    if (!this.jsonEnabled())
      this.log(`${flags.rollback ? 'rolled back' : 'cut over'}: writes held ${r.windowMs} ms, ${r.totalMs} ms in all`)
    return r
  }
}
