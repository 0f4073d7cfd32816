import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {windowLimits} from '../../src/cli/db-window.js'
import {haproxyFlags, passwordEnvFlags, windowFlags} from '../../src/cli/db-flags.js'
import {flagDuration, hostPort} from '../../src/db/connect.js'
import {mariadbCutover, mariadbCutoverRollback, type CutoverResult} from '../../src/db/cutover.js'

export default class DbMariadbCutover extends BaseCommand {
  static override summary =
    'MariaDB cutover behind HAProxy in one step: read_only + kill app connections, MASTER_GTID_WAIT, verify, promote, reverse replication, repoint.'
  static override description =
    `Pre-checks while clients still write (refused before any block when they fail): the target replicates from the source with both threads running, logs for the way back, has the replication user; no application account bypasses read_only; the target catches up within --max-window; every table is compared (counts + CHECKSUM TABLE) and only the tables still changing are re-checked inside the block.
Sub-steps, each undone in reverse if a later one fails, every wait bounded by --max-window: block-source-writes (read_only within --pause-wait, else nothing changes and the blocking statements are named) → wait-target-gtid → verify (the changing tables) → [probe: read_only still on, no GTID since the target caught up] → promote-target → reverse-replication (the source replicates from the target) → repoint-clients (HAProxy set server addr, shutdown sessions).
With --rollback (the same flags): fail back (block the target, wait until the source has its last GTID, stop replication on the source), repoint to the source, unblock it.`
  static override flags = {
    source: Flags.string({required: true, description: 'source URL (an administrator)'}),
    target: Flags.string({required: true, description: 'target URL (an administrator)'}),
    user: Flags.string({multiple: true, default: [], description: 'application user(s) whose connections are killed'}),
    'repl-user': Flags.string({required: true, description: 'replication user on the target, for the reverse path'}),
    'repl-password-env': Flags.string({description: 'environment variable holding its password'}),
    'target-addr': Flags.string({
      description: 'host:port of the target as the source reaches it (default: from --target)',
    }),
    ...haproxyFlags,
    verify: Flags.option({
      options: ['checksums', 'counts', 'off'] as const,
      default: 'checksums' as const,
      description: 'compare every table before the block; inside it only the tables still changing',
    })(),
    timeout: Flags.string({default: '60s', description: 'longest wait for the GTID'}),
    ...windowFlags,
    rollback: Flags.boolean({default: false, description: 'undo a cutover (idempotent)'}),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db mariadb-cutover --source mysql://root@old:3306/app --target mysql://root@new:3306/app --user app --repl-user repl --repl-password-env REPL_PASSWORD --haproxy-api 127.0.0.1:9999 --haproxy-server mariadb_be/db',
  ]

  async run(): Promise<CutoverResult> {
    const {flags} = await this.parse(DbMariadbCutover)
    const hp = (v: string | undefined, url: string) => (v ? hostPort(`tcp://${v}`, 3306) : hostPort(url, 3306))
    const opts = {
      source: flags.source,
      target: flags.target,
      users: flags.user,
      repl: {user: flags['repl-user'], passwordEnv: flags['repl-password-env']},
      targetAddr: flags['target-addr'],
      haproxy: {
        api: flags['haproxy-api'],
        server: flags['haproxy-server'],
        source: hp(flags['haproxy-source'], flags.source),
        target: hp(flags['haproxy-target'], flags.target),
      },
      verify: flags.verify,
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
      limits: windowLimits(flags),
      checkOnly: flags.check,
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
    }
    const log = (l: string) => this.jsonEnabled() || this.log(l)
    const r = flags.rollback ? await mariadbCutoverRollback(opts, log) : await mariadbCutover(opts, log)
    if (!this.jsonEnabled() && !flags.check)
      this.log(
        `${flags.rollback ? 'rolled back' : 'cut over'}: writes blocked ${r.windowMs} ms (bound ${r.maxWindowMs} ms), ${r.totalMs} ms in all`,
      )
    return r
  }
}
