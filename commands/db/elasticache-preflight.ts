import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {elasticacheFlags, elasticacheTarget} from '../../src/cli/elasticache-flags.js'
import {MigrateError} from '../../src/errors.js'
import {elasticacheFindings} from '../../src/db/managed/elasticache.js'
import {redisPreflight} from '../../src/db/redis.js'
import {summarize, type PreflightResult} from '../../src/db/types.js'

export default class DbElasticachePreflight extends BaseCommand {
  static override summary =
    'Pre-flight of a Redis → ElastiCache online migration: the source, and the group’s prerequisites through the ElastiCache API.'
  static override description =
    'Checks the source as `db preflight` does, then the replication group: available (not already migrating), cluster mode and in-transit encryption disabled, Multi-AZ enabled, Redis OSS 5.0.6 or later and not older than the source, and the source’s memory against the node type. Exits 1 when there is a blocker.'
  static override flags = {
    source: Flags.string({required: true, description: 'source URL (the node we own)'}),
    'source-password-env': Flags.string({description: 'environment variable holding the source password'}),
    ...elasticacheFlags,
  }
  static override examples = [
    '<%= config.bin %> db elasticache-preflight --source redis://10.0.0.7:6379 --replication-group-id shop-cache --region eu-west-1',
  ]

  async run(): Promise<PreflightResult> {
    const {flags} = await this.parse(DbElasticachePreflight)
    const base = await redisPreflight(flags.source, undefined, {sourcePasswordEnv: flags['source-password-env']})
    const extra = await elasticacheFindings(flags.source, elasticacheTarget(flags), flags['source-password-env'])
    const result = summarize('redis', base.source, `elasticache:${flags['replication-group-id']}`, base.version, [
      ...base.findings,
      ...extra,
    ])
    if (!this.jsonEnabled()) {
      for (const f of result.findings)
        this.log(`${f.severity.padEnd(7)} ${f.code}: ${f.message}${f.hint ? `\n        ${f.hint}` : ''}`)
      this.log(`${result.blockers} blocker(s), ${result.warnings} warning(s)`)
    }
    if (result.blockers > 0)
      throw new MigrateError(`${result.blockers} blocker(s) found for ${flags['replication-group-id']}`, {
        code: 'DB_PREFLIGHT_BLOCKED',
        hint: 'Fix the blockers listed above, then run the pre-flight again',
        data: result as unknown as Record<string, unknown>,
      })
    return result
  }
}
