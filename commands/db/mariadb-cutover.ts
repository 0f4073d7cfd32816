import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {haproxyFlags, passwordEnvFlags} from '../../src/cli/db-flags.js'
import {flagDuration, hostPort} from '../../src/db/connect.js'
import {mariadbCutover, mariadbCutoverRollback, type CutoverResult} from '../../src/db/cutover.js'

export default class DbMariadbCutover extends BaseCommand {
  static override summary = 'MariaDB cutover behind HAProxy in one step: read_only + kill app connections, MASTER_GTID_WAIT, verify, promote, reverse replication, repoint.'
  static override description = `Sub-steps, each undone in reverse if a later one fails: block-source-writes → wait-target-gtid → verify (counts + CHECKSUM TABLE) → promote-target → reverse-replication (the source replicates from the target) → repoint-clients (HAProxy set server addr, shutdown sessions).
With --rollback (the same flags): fail back (block the target, wait until the source has its last GTID, stop replication on the source), repoint to the source, unblock it.`
  static override flags = {
    source: Flags.string({required: true, description: 'source URL (an administrator)'}),
    target: Flags.string({required: true, description: 'target URL (an administrator)'}),
    user: Flags.string({multiple: true, default: [], description: 'application user(s) whose connections are killed'}),
    'repl-user': Flags.string({required: true, description: 'replication user on the target, for the reverse path'}),
    'repl-password-env': Flags.string({description: 'environment variable holding its password'}),
    'target-addr': Flags.string({description: 'host:port of the target as the source reaches it (default: from --target)'}),
    ...haproxyFlags,
    verify: Flags.option({options: ['checksums', 'off'] as const, default: 'checksums' as const, description: 'compare tables inside the block'})(),
    timeout: Flags.string({default: '60s', description: 'longest wait for the GTID'}),
    rollback: Flags.boolean({default: false, description: 'undo a cutover (idempotent)'}),
    ...passwordEnvFlags,
  }
  static override examples = ['<%= config.bin %> db mariadb-cutover --source mysql://root@old:3306/app --target mysql://root@new:3306/app --user app --repl-user repl --repl-password-env REPL_PASSWORD --haproxy-api 127.0.0.1:9999 --haproxy-server mariadb_be/db']

  async run(): Promise<CutoverResult> {
    const {flags} = await this.parse(DbMariadbCutover)
    const hp = (v: string | undefined, url: string) => (v ? hostPort(`tcp://${v}`, 3306) : hostPort(url, 3306))
    const opts = {
      source: flags.source,
      target: flags.target,
      users: flags.user,
      repl: {user: flags['repl-user'], passwordEnv: flags['repl-password-env']},
      targetAddr: flags['target-addr'],
      haproxy: {api: flags['haproxy-api'], server: flags['haproxy-server'], source: hp(flags['haproxy-source'], flags.source), target: hp(flags['haproxy-target'], flags.target)},
      verify: flags.verify,
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
    }
    const log = (l: string) => this.jsonEnabled() || this.log(l)
    const r = flags.rollback ? await mariadbCutoverRollback(opts, log) : await mariadbCutover(opts, log)
    if (!this.jsonEnabled()) this.log(`${flags.rollback ? 'rolled back' : 'cut over'}: writes blocked ${r.windowMs} ms, ${r.totalMs} ms in all`)
    return r
  }
}
