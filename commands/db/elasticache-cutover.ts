import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {elasticacheFlags, elasticacheTarget} from '../../src/cli/elasticache-flags.js'
import {haproxyFlags} from '../../src/cli/db-flags.js'
import {flagDuration, hostPort} from '../../src/db/connect.js'
import type {CutoverResult} from '../../src/db/cutover.js'
import {parseAddr} from '../../src/db/managed/elasticache.js'
import {elasticacheCutover, elasticacheCutoverRollback} from '../../src/db/managed/elasticache-cutover.js'

export default class DbElasticacheCutover extends BaseCommand {
  static override summary =
    'Cut over onto ElastiCache in one step: pause the source, wait until the primary has every byte, verify, CompleteMigration, repoint HAProxy, unpause.'
  static override description =
    `Sub-steps, each undone in reverse if a later one fails: pause-source-writes (CLIENT PAUSE WRITE) → wait-offsets-equal → verify (key counts) → complete-migration (CompleteMigration, wait for available; undone by a new StartMigration) → repoint-clients → unpause-source.
With --rollback (same flags): hold clients in HAProxy, copy every key back from ElastiCache to the source (DUMP/RESTORE: ElastiCache cannot be replicated from, and keys deleted there after cutover are not deleted on the source), repoint to the source.`
  static override flags = {
    source: Flags.string({required: true, description: 'source URL (the node we own)'}),
    'source-addr': Flags.string({required: true, description: 'host:port of the source as the group reaches it'}),
    ...elasticacheFlags,
    ...haproxyFlags,
    'pause-max': Flags.string({default: '10s', description: 'CLIENT PAUSE length (it lifts itself after this)'}),
    verify: Flags.option({
      options: ['counts', 'off'] as const,
      default: 'counts' as const,
      description: 'compare key counts inside the pause',
    })(),
    timeout: Flags.string({default: '60s', description: 'longest wait for the offsets and for `available`'}),
    rollback: Flags.boolean({default: false, description: 'undo a cutover (idempotent)'}),
    'source-password-env': Flags.string({description: 'environment variable holding the source password'}),
  }
  static override examples = [
    '<%= config.bin %> db elasticache-cutover --source redis://10.0.0.7:6379 --source-addr 10.0.0.7:6379 --replication-group-id shop-cache --region eu-west-1 --haproxy-api 127.0.0.1:9999 --haproxy-server redis_be/db',
  ]

  async run(): Promise<CutoverResult> {
    const {flags} = await this.parse(DbElasticacheCutover)
    const opts = {
      source: flags.source,
      sourceAddr: parseAddr(flags['source-addr'], '--source-addr'),
      group: elasticacheTarget(flags),
      haproxyTarget: flags['haproxy-target'] ? hostPort(`tcp://${flags['haproxy-target']}`, 6379) : undefined,
      haproxy: {
        api: flags['haproxy-api'],
        server: flags['haproxy-server'],
        source: flags['haproxy-source']
          ? hostPort(`tcp://${flags['haproxy-source']}`, 6379)
          : hostPort(flags.source, 6379),
      },
      pauseMs: flagDuration(flags['pause-max'], 'pause-max'),
      verify: flags.verify,
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
      sourcePasswordEnv: flags['source-password-env'],
    }
    const log = (l: string) => this.jsonEnabled() || this.log(l)
    const r = flags.rollback ? await elasticacheCutoverRollback(opts, log) : await elasticacheCutover(opts, log)
    if (!this.jsonEnabled())
      this.log(`${flags.rollback ? 'rolled back' : 'cut over'}: writes held ${r.windowMs} ms, ${r.totalMs} ms in all`)
    return r
  }
}
