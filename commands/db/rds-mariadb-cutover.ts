import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {haproxyFlags, passwordEnvFlags, windowBudgetFlags} from '../../src/cli/db-flags.js'
import {windowLimits} from '../../src/cli/db-window.js'
import {flagDuration, hostPort} from '../../src/db/connect.js'
import type {CutoverResult} from '../../src/db/cutover.js'
import {rdsMariadbCutover, rdsMariadbCutoverRollback} from '../../src/db/managed/rds-mariadb-cutover.js'

export default class DbRdsMariadbCutover extends BaseCommand {
  static override summary =
    'Cut over onto RDS for MariaDB in one step: block the source, MASTER_GTID_WAIT on RDS, verify, promote RDS through its procedures, reverse replication, repoint HAProxy.'
  static override description =
    `Sub-steps, each undone in reverse if a later one fails: block-source-writes (read_only + kill, on the source we own) → wait-target-gtid → verify (counts + CHECKSUM TABLE) → promote-target (mysql.rds_stop_replication, mysql.rds_reset_external_master) → unblock-target-writes (accounts an earlier fail-back locked) → reverse-replication (the source replicates from RDS) → repoint-clients.
With --rollback (same flags): lock the application accounts on RDS and end their sessions with mysql.rds_kill, wait until the source has RDS's last GTID, stop the reverse replication, repoint to the source, unblock it.`
  static override flags = {
    source: Flags.string({required: true, description: 'source URL (an administrator)'}),
    target: Flags.string({required: true, description: 'RDS endpoint URL as the master user'}),
    user: Flags.string({multiple: true, default: [], description: 'application user(s)'}),
    'repl-user': Flags.string({
      required: true,
      description: 'replication user on RDS (the way back) and on the source',
    }),
    'repl-password-env': Flags.string({description: 'environment variable holding its password'}),
    'target-addr': Flags.string({description: 'host:port of RDS as the source reaches it (default: from --target)'}),
    'source-addr': Flags.string({description: 'host:port of the source as RDS reaches it (default: from --source)'}),
    'ssl-encryption': Flags.option({
      options: ['0', '1'] as const,
      default: '0' as const,
      description: 'ssl_encryption for re-attaching RDS on undo',
    })(),
    'target-state': Flags.string({
      required: true,
      description: 'file where a fail-back records the RDS accounts it locked',
    }),
    ...haproxyFlags,
    verify: Flags.option({
      options: ['checksums', 'off'] as const,
      default: 'checksums' as const,
      description: 'compare tables inside the block',
    })(),
    timeout: Flags.string({default: '60s', description: 'longest wait for the GTID'}),
    rollback: Flags.boolean({default: false, description: 'undo a cutover (idempotent)'}),
    ...windowBudgetFlags,
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db rds-mariadb-cutover --source mysql://root@10.0.0.6:3306/shop --target mysql://admin@shop.abc.eu-west-1.rds.amazonaws.com:3306/shop --user shop --repl-user repl --repl-password-env REPL_PASSWORD --target-state plan/shop.rds-lock.json --haproxy-api 127.0.0.1:9999 --haproxy-server mariadb_be/db --target-password-env RDS_PASSWORD',
  ]

  async run(): Promise<CutoverResult> {
    const {flags} = await this.parse(DbRdsMariadbCutover)
    const addr = (v: string | undefined, url: string) => (v ? hostPort(`tcp://${v}`, 3306) : hostPort(url, 3306))
    const str = (a: {host: string; port: number}) => `${a.host}:${a.port}`
    const opts = {
      source: flags.source,
      target: flags.target,
      users: flags.user,
      repl: {user: flags['repl-user'], passwordEnv: flags['repl-password-env']},
      targetAddr: str(addr(flags['target-addr'], flags.target)),
      sourceAddr: str(addr(flags['source-addr'], flags.source)),
      ssl: flags['ssl-encryption'] === '1',
      targetState: flags['target-state'],
      haproxy: {
        api: flags['haproxy-api'],
        server: flags['haproxy-server'],
        source: addr(flags['haproxy-source'], flags.source),
        target: addr(flags['haproxy-target'], flags.target),
      },
      verify: flags.verify,
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
      limits: windowLimits(flags),
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
    }
    const log = (l: string) => this.jsonEnabled() || this.log(l)
    const r = flags.rollback ? await rdsMariadbCutoverRollback(opts, log) : await rdsMariadbCutover(opts, log)
    if (!this.jsonEnabled())
      this.log(
        `${flags.rollback ? 'rolled back' : 'cut over'}: writes blocked ${r.windowMs} ms, ${r.totalMs} ms in all`,
      )
    return r
  }
}
