import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {stateFlag} from '../../src/cli/flags.js'
import {resolvePlanDir} from '../../src/cli/plan-dir.js'
import type {TransferResult} from '../../src/state/transfer.js'
import {formatTransfer, transferState} from '../../src/state-transfer-cli.js'

export default class StatePush extends BaseCommand {
  static override summary =
    "Copy the plan's journal file to the shared state backend (PostgreSQL), verified on both ends."
  static override description =
    'The same events, hashes included: the source must verify before anything is copied, the destination is verified after. Only ever extends: the destination must hold nothing or a prefix of the source, else the journals diverged and nothing is written (exit 1, STATE_DIVERGED). Takes the plan lock of the file while it copies.'
  static override flags = {
    plan: Flags.string({description: 'plan directory (default: $MIGRATE_PLAN, or the only one under ./plans)'}),
    state: stateFlag,
  }
  static override examples = [
    '<%= config.bin %> state push --plan plans/example --state postgres://migrate@db.internal/migrate',
  ]

  async run(): Promise<TransferResult> {
    const {flags} = await this.parse(StatePush)
    const r = await transferState('push', resolvePlanDir(flags.plan), flags.state)
    if (!this.jsonEnabled()) this.log(formatTransfer(r))
    return r
  }
}
