import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {windowLimits} from '../../src/cli/db-window.js'
import {passwordEnvFlags, windowFlags} from '../../src/cli/db-flags.js'
import {flagDuration, hostPort, parseUrl} from '../../src/db/connect.js'
import {pgCutover, pgCutoverRollback, type CutoverResult} from '../../src/db/cutover.js'
import {withPassword} from '../../src/db/managed/rds-postgres.js'
import {badInput} from '../../src/errors.js'

function endpoint(v: string | undefined, url: string): {host: string; port: number; dbname?: string} {
  if (!v) return {...hostPort(url, 5432), dbname: parseUrl(url).pathname.replace(/^\//, '') || undefined}
  const [hp, dbname] = v.split('/')
  return {...hostPort(`tcp://${hp}`, 5432), dbname: dbname || undefined}
}

function withPasswordFrom(conninfo: string, env: string | undefined): string {
  if (!env) return conninfo
  const v = process.env[env]
  if (v === undefined)
    throw badInput(
      `environment variable ${env} is not set`,
      'DB_PASSWORD_ENV_MISSING',
      `Export ${env} with the source replication user's password`,
    )
  return withPassword(conninfo, v)
}

export default class DbPgCutover extends BaseCommand {
  static override summary =
    'PostgreSQL cutover behind PgBouncer in one step: pause, block, wait LSN, sync sequences, verify, reverse replication, repoint, resume.'
  static override description =
    `Pre-checks while clients still write (a cutover that cannot finish is refused before anyone is paused): the target can hold the way back (wal_level=logical, a free slot and WAL sender), the roles exist and are no superusers, PgBouncer has the entry, the apply worker runs without new errors and the schema is in step, the target catches up within --max-window, and (verify checksums|counts) every table is compared; only the tables still changing are re-checked inside the pause.
Sub-steps, each undone in reverse if a later one fails, every wait bounded by --max-window:
  pause-clients (PgBouncer PAUSE, at most --pause-wait; else resumed, naming the open transactions) → block-source-writes (REVOKE, NOLOGIN, end sessions) → wait-target-lsn (slot confirmed ≥ source's current LSN) → sync-sequences → verify (the changing tables) → [write block probed: still paused, roles still blocked, enough time left] → stop-forward-replication (the source slot stays) → reverse-publication and reverse-slot (target) → reverse-subscription (source, copy_data=false) → repoint-clients (pgbouncer.ini + RELOAD) → resume-clients → drop-forward-slot (after the window, best effort).
With --rollback (the same flags): pause, fail back through the reverse subscription (block the target, wait, sync sequences back), drop the reverse path, repoint to the source, unblock it, resume. Each of these is also its own \`migrate db\` command; running them in one process keeps the pause short.`
  static override flags = {
    source: Flags.string({required: true, description: 'source URL (superuser)'}),
    target: Flags.string({required: true, description: 'target URL (superuser)'}),
    role: Flags.string({required: true, multiple: true, description: 'application role(s) whose writes are blocked'}),
    'state-dir': Flags.string({
      required: true,
      description: 'directory for the block records (source-block.json, target-block.json)',
    }),
    publication: Flags.string({default: 'mig_pub', description: 'forward publication, on the source'}),
    subscription: Flags.string({default: 'mig_sub', description: 'forward subscription (and slot)'}),
    'source-conninfo': Flags.string({
      description:
        'libpq string the target uses to reach the source (default: from --source), to re-attach the forward path if the cutover is undone',
    }),
    'source-conninfo-password-env': Flags.string({
      description:
        'environment variable with the password the target needs in --source-conninfo (a managed target subscribes as a non-superuser, which must authenticate with a password)',
    }),
    'reverse-publication': Flags.string({default: 'mig_back_pub', description: 'reverse publication, on the target'}),
    'reverse-subscription': Flags.string({default: 'mig_back', description: 'reverse subscription, on the source'}),
    'target-conninfo': Flags.string({
      description:
        'libpq string the source uses to reach the target (default: from --target; passwords via ~/.pgpass on the source)',
    }),
    'pgbouncer-admin': Flags.string({required: true, description: 'PgBouncer admin console URL'}),
    'pgbouncer-config': Flags.string({required: true, description: 'the pgbouncer.ini to rewrite'}),
    'pgbouncer-database': Flags.string({required: true, description: 'the [databases] entry clients use'}),
    'pgbouncer-source': Flags.string({
      description: 'host:port/db of the source as PgBouncer reaches it (default: from --source)',
    }),
    'pgbouncer-target': Flags.string({
      description: 'host:port/db of the target as PgBouncer reaches it (default: from --target)',
    }),
    'pgbouncer-password-env': Flags.string({description: 'environment variable holding the PgBouncer admin password'}),
    verify: Flags.option({
      options: ['checksums', 'counts', 'off'] as const,
      default: 'checksums' as const,
      description:
        'compare every table before the pause (checksums or counts); inside it only the tables still changing',
    })(),
    timeout: Flags.string({default: '60s', description: 'longest wait for PAUSE or the LSN'}),
    ...windowFlags,
    rollback: Flags.boolean({
      default: false,
      description: 'undo a cutover (idempotent): fail back without losing writes made on the target',
    }),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db pg-cutover --source postgres://postgres@old:5432/app --target postgres://postgres@new:5432/app --role app --state-dir plans/x --pgbouncer-admin postgres://pgbouncer@127.0.0.1:6432/pgbouncer --pgbouncer-config /etc/pgbouncer/pgbouncer.ini --pgbouncer-database app',
  ]

  async run(): Promise<CutoverResult> {
    const {flags} = await this.parse(DbPgCutover)
    const conninfo = (url: string) => {
      const u = parseUrl(url)
      return `host=${u.searchParams.get('host') ?? u.hostname} port=${u.port || 5432} dbname=${decodeURIComponent(u.pathname.slice(1) || 'postgres')} user=${decodeURIComponent(u.username || 'postgres')}`
    }
    const opts = {
      source: flags.source,
      target: flags.target,
      publication: flags.publication,
      subscription: flags.subscription,
      sourceConninfo: withPasswordFrom(
        flags['source-conninfo'] ?? conninfo(flags.source),
        flags['source-conninfo-password-env'],
      ),
      reversePublication: flags['reverse-publication'],
      reverseSubscription: flags['reverse-subscription'],
      targetConninfo: flags['target-conninfo'] ?? conninfo(flags.target),
      roles: flags.role,
      sourceState: path.join(flags['state-dir'], 'source-block.json'),
      targetState: path.join(flags['state-dir'], 'target-block.json'),
      pgbouncer: {
        admin: flags['pgbouncer-admin'],
        config: flags['pgbouncer-config'],
        database: flags['pgbouncer-database'],
        source: endpoint(flags['pgbouncer-source'], flags.source),
        target: endpoint(flags['pgbouncer-target'], flags.target),
        passwordEnv: flags['pgbouncer-password-env'],
      },
      verify: flags.verify,
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
      limits: windowLimits(flags),
      checkOnly: flags.check,
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
    }
    const log = (l: string) => this.jsonEnabled() || this.log(l)
    const r = flags.rollback ? await pgCutoverRollback(opts, log) : await pgCutover(opts, log)
    if (!this.jsonEnabled() && !flags.check)
      this.log(
        `${flags.rollback ? 'rolled back' : 'cut over'}: clients paused ${r.windowMs} ms (bound ${r.maxWindowMs} ms), ${r.totalMs} ms in all`,
      )
    return r
  }
}
