import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlags, sourceTargetFlags} from '../../src/cli/db-flags.js'
import {MigrateError} from '../../src/errors.js'
import {engineOfUrl} from '../../src/db/connect.js'
import {pgVerify} from '../../src/db/postgres.js'
import {mariadbVerify} from '../../src/db/mariadb.js'
import {redisVerify} from '../../src/db/redis.js'
import type {VerifyResult} from '../../src/db/types.js'

export default class DbVerify extends BaseCommand {
  static override summary =
    'Compare source and target: row counts and checksums per table (PostgreSQL, MariaDB), key counts per database (Redis).'
  static override description =
    'Run it while writes are blocked (or paused) for an exact answer. PostgreSQL checksums are an order-independent sum of md5(row::text); MariaDB uses CHECKSUM TABLE. Exits 1 on any mismatch.'
  static override flags = {
    ...sourceTargetFlags,
    'counts-only': Flags.boolean({
      default: false,
      description: 'PostgreSQL: compare row counts only (faster on big tables)',
    }),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db verify --source postgres://postgres@old:5432/app --target postgres://postgres@new:5432/app',
  ]

  async run(): Promise<VerifyResult> {
    const {flags} = await this.parse(DbVerify)
    const opts = {sourcePasswordEnv: flags['source-password-env'], targetPasswordEnv: flags['target-password-env']}
    const engine = engineOfUrl(flags.source)
    const r =
      engine === 'postgres'
        ? await pgVerify(flags.source, flags.target, {...opts, counts: flags['counts-only']})
        : engine === 'redis'
          ? await redisVerify(flags.source, flags.target, opts)
          : await mariadbVerify(flags.source, flags.target, opts)
    if (!this.jsonEnabled()) {
      for (const t of r.tables)
        this.log(
          `${t.ok ? 'ok      ' : 'MISMATCH'} ${t.table}: ${t.sourceRows} / ${t.targetRows} rows${t.sourceChecksum !== undefined ? `, checksum ${t.sourceChecksum === t.targetChecksum ? 'equal' : `${t.sourceChecksum} / ${t.targetChecksum}`}` : ''}`,
        )
      this.log(`${r.tables.length} table(s), ${r.mismatches} mismatch(es), ${r.durationMs} ms`)
    }
    if (!r.ok)
      throw new MigrateError(
        `${r.mismatches} of ${r.tables.length} table(s) differ between ${r.source} and ${r.target}`,
        {
          code: 'DB_VERIFY_MISMATCH',
          hint: 'Replication has not caught up, or writes were not blocked; do not cut over',
          data: r as unknown as Record<string, unknown>,
        },
      )
    return r
  }
}
