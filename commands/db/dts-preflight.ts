import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {dtsEngineFlag, dtsFlags, dtsTarget} from '../../src/cli/dts-flags.js'
import {MigrateError} from '../../src/errors.js'
import {redactUrl} from '../../src/db/connect.js'
import {dtsFindings} from '../../src/db/managed/dts-preflight.js'
import {summarize, type PreflightResult} from '../../src/db/types.js'

export default class DbDtsPreflight extends BaseCommand {
  static override summary =
    'Pre-flight of a migration onto ApsaraDB RDS / Tair through DTS: credentials, the DTS job, the engine, the source’s binlog settings and keys, the target instance. Exits 1 when there is a blocker; nothing is changed.'
  static override flags = {
    ...dtsEngineFlag,
    ...dtsFlags,
    source: Flags.string({required: true, description: 'source URL (ours, admin)'}),
    target: Flags.string({required: true, description: 'target instance URL (its master account)'}),
    'source-password-env': Flags.string({description: 'environment variable holding the source password'}),
    'target-password-env': Flags.string({description: 'environment variable holding the target password'}),
    'dts-source-password-env': Flags.string({description: 'password DTS reads the source with (must be set)'}),
    'dts-target-password-env': Flags.string({description: 'password DTS writes the target with (must be set)'}),
  }
  static override examples = [
    '<%= config.bin %> db dts-preflight --engine mysql --dts-job-id k2gm967v16f**** --region ap-southeast-5 --source mysql://root@10.0.0.7/shop --target mysql://shop_admin@rm-d9j****.mysql.rds.aliyuncs.com/shop --target-password-env APSARA_PW',
  ]

  async run(): Promise<PreflightResult> {
    const {flags} = await this.parse(DbDtsPreflight)
    const findings = await dtsFindings({
      engine: flags.engine,
      source: flags.source,
      target: flags.target,
      dts: dtsTarget(flags),
      jobId: flags['dts-job-id'],
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
      secretEnvs: [flags['dts-source-password-env'], flags['dts-target-password-env']].filter((x): x is string => !!x),
    })
    const result = summarize(flags.engine, redactUrl(flags.source), `dts:${flags['dts-job-id']}`, undefined, findings)
    if (!this.jsonEnabled()) {
      for (const f of result.findings)
        this.log(`${f.severity.padEnd(7)} ${f.code}: ${f.message}${f.hint ? `\n        ${f.hint}` : ''}`)
      this.log(`${result.blockers} blocker(s), ${result.warnings} warning(s)`)
    }
    if (result.blockers > 0)
      throw new MigrateError(`${result.blockers} blocker(s) found for DTS job ${flags['dts-job-id']}`, {
        code: 'DB_PREFLIGHT_BLOCKED',
        hint: 'Fix the blockers listed above, then run the pre-flight again',
        data: result as unknown as Record<string, unknown>,
      })
    return result
  }
}
