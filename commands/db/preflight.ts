import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlags} from '../../src/cli/db-flags.js'
import {MigrateError} from '../../src/errors.js'
import {engineOfUrl, flagDuration} from '../../src/db/connect.js'
import {WINDOW_DEFAULTS} from '../../src/db/window.js'
import {pgPreflight} from '../../src/db/postgres.js'
import {mariadbPreflight} from '../../src/db/mariadb.js'
import {redisPreflight} from '../../src/db/redis.js'
import {summarize, type PreflightResult} from '../../src/db/types.js'
import {managedFindings, TARGET_SERVICES} from '../../src/db/managed/preflight.js'

export default class DbPreflight extends BaseCommand {
  static override summary = 'Find what breaks a database move before anything changes (blockers, warnings, info).'
  static override description =
    'PostgreSQL: wal_level, tables without primary key or replica identity, sequences, large objects, unlogged tables, leftover slots, extensions, superuser on the target. MariaDB: binlog format, GTID strict mode, server ids, keys, engines, target binlog. With --target-service the target is checked for the path its template takes: self-managed needs the privileges to replicate and block (SUPER or its parts), rds needs the mysql.rds_* procedures (PostgreSQL: rds_superuser-like membership with pg_create_subscription, rds.logical_replication for the way back). Redis: version, persistence, cluster mode, memory. Exits 1 when there is a blocker.'
  static override flags = {
    engine: Flags.option({
      options: ['postgres', 'mysql', 'mariadb', 'redis'] as const,
      description: 'engine (default: from the URL scheme)',
    })(),
    source: Flags.string({required: true, description: 'source URL (no password: use --source-password-env)'}),
    target: Flags.string({description: 'target URL, to check it too'}),
    'target-service': Flags.option({
      options: TARGET_SERVICES,
      default: 'self-managed' as const,
      description:
        'what the target is: a server we administer, or a managed service (rds, aurora, elasticache); auto detects it',
    })(),
    'repl-user': Flags.string({description: 'managed targets: replication user the way back needs on the target'}),
    role: Flags.string({
      multiple: true,
      description: 'application role(s)/user(s) the cutover blocks: checked to exist and to be blockable',
    }),
    'max-window': Flags.string({
      default: '5s',
      description: "the cutover's bound: a window estimate above it is a warning",
    }),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db preflight --source postgres://postgres@10.0.0.5:5432/app --target postgres://postgres@pg-new:5432/app',
    '<%= config.bin %> db preflight --engine mariadb --source mysql://root@10.0.0.6:3306/app --json',
  ]

  async run(): Promise<PreflightResult> {
    const {flags} = await this.parse(DbPreflight)
    const engine = flags.engine ?? engineOfUrl(flags.source)
    const limits = {...WINDOW_DEFAULTS, maxWindowMs: flagDuration(flags['max-window'], 'max-window')}
    const opts = {sourcePasswordEnv: flags['source-password-env'], targetPasswordEnv: flags['target-password-env']}
    const own = {...opts, roles: flags.role, limits}
    const base =
      engine === 'postgres'
        ? await pgPreflight(flags.source, flags.target, own)
        : engine === 'redis'
          ? await redisPreflight(flags.source, flags.target, own)
          : await mariadbPreflight(flags.source, flags.target, own)
    const extra = flags.target
      ? await managedFindings(engine, flags.source, flags.target, base.findings, {
          ...opts,
          service: flags['target-service'],
          replUser: flags['repl-user'],
        })
      : {findings: base.findings}
    const result = summarize(base.engine, base.source, base.target, base.version, extra.findings)
    if (!this.jsonEnabled()) {
      this.log(`${result.engine} ${result.version ?? ''} ${result.source}${result.target ? ` → ${result.target}` : ''}`)
      for (const f of result.findings)
        this.log(
          `${f.severity.padEnd(7)} ${f.code}: ${f.message}${f.objects?.length ? ` [${f.objects.slice(0, 10).join(', ')}${f.objects.length > 10 ? ', …' : ''}]` : ''}${f.hint ? `\n        ${f.hint}` : ''}`,
        )
      this.log(`${result.blockers} blocker(s), ${result.warnings} warning(s)`)
    }
    if (result.blockers > 0)
      throw new MigrateError(`${result.blockers} blocker(s) found on ${result.source}`, {
        code: 'DB_PREFLIGHT_BLOCKED',
        hint: 'Fix the blockers listed above, then run the pre-flight again',
        data: result as unknown as Record<string, unknown>,
      })
    return result
  }
}
