import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {dtsFlags, dtsTarget} from '../../src/cli/dts-flags.js'
import {MigrateError} from '../../src/errors.js'
import {flagDuration, myRows, parseInfo, redactUrl, withMysql, withRedis} from '../../src/db/connect.js'
import {type DtsJobState, dtsDescribe} from '../../src/db/managed/dts.js'

async function identity(url: string, passwordEnv?: string): Promise<string> {
  if (/^redis/.test(url)) return parseInfo(String(await withRedis(url, passwordEnv, (r) => r.info('server')))).run_id
  return withMysql(url, passwordEnv, async (c) => String((await myRows(c, 'SELECT @@server_id AS id'))[0].id))
}

export default class DbDtsCheck extends BaseCommand {
  static override summary =
    'A check for runbooks: the DTS job runs, its full load is done and its delay is at most --max-delay; with --via, the URL clients use reaches the target instance. Exits 1 otherwise.'
  static override flags = {
    ...dtsFlags,
    'max-delay': Flags.string({default: '1s', description: 'DTS delay still counted as caught up'}),
    via: Flags.string({description: 'URL clients use (e.g. through HAProxy): check it reaches --target'}),
    target: Flags.string({description: 'the target instance’s URL (with --via)'}),
    'target-password-env': Flags.string({description: 'environment variable holding the target password'}),
  }
  static override examples = [
    '<%= config.bin %> db dts-check --dts-job-id k2gm967v16f**** --region ap-southeast-5 --max-delay 1s',
    '<%= config.bin %> db dts-check --dts-job-id k2gm967v16f**** --region ap-southeast-5 --via mysql://app@haproxy:3306/shop --target mysql://shop_admin@rm-d9j****.mysql.rds.aliyuncs.com/shop --target-password-env APSARA_PW',
  ]

  async run(): Promise<DtsJobState & {reaches?: string}> {
    const {flags} = await this.parse(DbDtsCheck)
    const s = await dtsDescribe(dtsTarget(flags), flags['dts-job-id'])
    if (flags.via) {
      if (!flags.target) throw new MigrateError('--via needs --target', {code: 'USAGE', exitCode: 64})
      const [a, b] = await Promise.all([identity(flags.via), identity(flags.target, flags['target-password-env'])])
      if (a !== b)
        throw new MigrateError(`${redactUrl(flags.via)} does not reach ${redactUrl(flags.target)}`, {
          code: 'DTS_NOT_BEHIND_PROXY',
          hint: 'Check that the proxy points at the target instance',
        })
      if (!this.jsonEnabled()) this.log(`${redactUrl(flags.via)} reaches the target (job ${s.id} ${s.status})`)
      return {...s, reaches: b}
    }
    const max = flagDuration(flags['max-delay'], 'max-delay')
    if (s.status !== 'Migrating' || s.fullLoad.status !== 'Finished' || s.delayMs > max)
      throw new MigrateError(
        `DTS job ${s.id}: ${s.status}, full load ${s.fullLoad.status || '-'} ${s.fullLoad.percent}%, delay ${s.delayMs} ms${s.errorMessage ? ` (${s.errorMessage})` : ''}`,
        {code: 'DB_REPLICA_LAG', hint: 'Wait for the full load to finish and the delay to fall', data: {...s}},
      )
    if (!this.jsonEnabled()) this.log(`job ${s.id} ${s.status}, delay ${s.delayMs} ms`)
    return s
  }
}
