import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {passwordEnvFlags} from '../../src/cli/db-flags.js'
import {flagDuration} from '../../src/db/connect.js'
import {pgUnsubscribe} from '../../src/db/pg-subscription.js'

export default class DbPgUnsubscribe extends BaseCommand {
  static override summary =
    'Drop a subscription on the target and its slot on the source, bounded: a stopped or stuck apply worker cannot hold it.'
  static override description =
    'DROP SUBSCRIPTION waits until the apply worker has exited; this drops it with slot_name = NONE inside one transaction bounded by --timeout. If the worker does not stop in time, the subscription is left disabled and without slot (the worker exits when it next looks) and the command to drop it is printed; the slot on the source is dropped after ending the walsender that holds it, or printed with the command to drop it. Idempotent: no subscription, nothing to do.'
  static override flags = {
    target: Flags.string({required: true, description: 'subscriber URL (where the subscription is)'}),
    source: Flags.string({description: 'publisher URL (where its slot is); without it the slot is only reported'}),
    subscription: Flags.string({default: 'mig_sub', description: 'subscription name'}),
    timeout: Flags.string({default: '10s', description: 'longest wait for the drop (and for the slot)'}),
    ...passwordEnvFlags,
  }
  static override examples = [
    '<%= config.bin %> db pg-unsubscribe --target postgres://postgres@new:5432/app --source postgres://postgres@old:5432/app --subscription mig_sub',
  ]

  async run(): Promise<{dropped: boolean; notes: string[]}> {
    const {flags} = await this.parse(DbPgUnsubscribe)
    const r = await pgUnsubscribe(flags.target, flags['target-password-env'], flags.subscription, {
      budgetMs: flagDuration(flags.timeout, 'timeout'),
      publisher: flags.source,
      publisherPasswordEnv: flags['source-password-env'],
    })
    if (!this.jsonEnabled()) for (const n of r.notes) this.log(n)
    return r
  }
}
