import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {windowLimits} from '../../src/cli/db-window.js'
import {haproxyFlags, passwordEnvFlags, sourceTargetFlags, windowFlags} from '../../src/cli/db-flags.js'
import {flagDuration, hostPort} from '../../src/db/connect.js'
import {redisCutover, redisCutoverRollback, type CutoverResult} from '../../src/db/cutover.js'

export default class DbRedisCutover extends BaseCommand {
  static override summary =
    'Redis cutover behind HAProxy in one step: CLIENT PAUSE WRITE, offsets equal, verify key counts, REPLICAOF NO ONE, repoint, reverse replication, unpause.'
  static override description =
    `Pre-check while clients still write (refused before pausing when it fails): no Lua script holds the source (BUSY), HAProxy points at the source, the target replicates from it with the link up and reaches its offset within --max-window.
Sub-steps, each undone in reverse if a later one fails: pause-source-writes (CLIENT PAUSE for exactly --max-window) → wait-offsets-equal (bounded by the pause) → verify → [probe: enough of the pause left, the source's offset unchanged] → promote-target → repoint-clients (HAProxy set server addr, shutdown sessions) → reverse-replication (the source becomes a replica of the target) → unpause-source.
With --rollback (the same flags): fail back (pause the target, wait until the source has every byte, promote the source), repoint to the source, unpause it, make the target a replica again.`
  static override flags = {
    ...sourceTargetFlags,
    'source-addr': Flags.string({
      description: 'host:port of the source as the target reaches it (default: from --source)',
    }),
    'target-addr': Flags.string({
      description: 'host:port of the target as the source reaches it (default: from --target)',
    }),
    ...haproxyFlags,
    'pause-for': Flags.string({
      default: '30s',
      description: 'CLIENT PAUSE of a --rollback (the cutover pauses for --max-window)',
    }),
    verify: Flags.option({
      options: ['counts', 'off'] as const,
      default: 'counts' as const,
      description: 'compare key counts inside the pause',
    })(),
    timeout: Flags.string({default: '60s', description: 'longest wait for equal offsets'}),
    ...windowFlags,
    rollback: Flags.boolean({default: false, description: 'undo a cutover (idempotent)'}),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db redis-cutover --source redis://10.0.0.8:6379 --target redis://10.1.0.8:6379 --haproxy-api 127.0.0.1:9999 --haproxy-server redis_be/db',
  ]

  async run(): Promise<CutoverResult> {
    const {flags} = await this.parse(DbRedisCutover)
    const hp = (v: string | undefined, url: string) => (v ? hostPort(`tcp://${v}`, 6379) : hostPort(url, 6379))
    const opts = {
      source: flags.source,
      target: flags.target,
      sourceAddr: flags['source-addr'],
      targetAddr: flags['target-addr'],
      haproxy: {
        api: flags['haproxy-api'],
        server: flags['haproxy-server'],
        source: hp(flags['haproxy-source'], flags.source),
        target: hp(flags['haproxy-target'], flags.target),
      },
      pauseMs: flagDuration(flags['pause-for'], 'pause-for'),
      verify: flags.verify,
      timeoutMs: flagDuration(flags.timeout, 'timeout'),
      limits: windowLimits(flags),
      checkOnly: flags.check,
      sourcePasswordEnv: flags['source-password-env'],
      targetPasswordEnv: flags['target-password-env'],
    }
    const log = (l: string) => this.jsonEnabled() || this.log(l)
    const r = flags.rollback ? await redisCutoverRollback(opts, log) : await redisCutover(opts, log)
    if (!this.jsonEnabled() && !flags.check)
      this.log(
        `${flags.rollback ? 'rolled back' : 'cut over'}: writes paused ${r.windowMs} ms (bound ${r.maxWindowMs} ms), ${r.totalMs} ms in all`,
      )
    return r
  }
}
