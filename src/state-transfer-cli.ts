// The backends of `migrate state push|pull`: the plan's journal file, and the shared backend named by --state,
// $MIGRATE_STATE or settings.state (which must be one: there is nothing to copy between a file and itself).
import {badInput} from './errors.js'
import {FileBackend, PgBackend} from './state/backend.js'
import {openPlanBackend} from './plan-backend.js'
import {pullState, pushState, type TransferResult} from './state/transfer.js'

export async function transferState(
  direction: 'push' | 'pull',
  planDir: string,
  state: string | undefined,
): Promise<TransferResult> {
  const shared = await openPlanBackend(planDir, state)
  try {
    if (!(shared instanceof PgBackend))
      throw badInput(
        `state ${direction} needs a shared backend, and none is set`,
        'STATE_BACKEND_REQUIRED',
        'Pass --state postgres://USER@HOST:PORT/DATABASE (or set MIGRATE_STATE, or settings.state in the plan)',
      )
    const file = new FileBackend(planDir)
    return direction === 'push' ? await pushState(file, shared) : await pullState(shared, file)
  } finally {
    await shared.close()
  }
}

export function formatTransfer(r: TransferResult): string {
  return [
    `${r.direction === 'push' ? 'Pushed' : 'Pulled'} ${r.copied} event(s) from ${r.from} to ${r.to}${r.already ? ` (${r.already} were there already)` : ''}.`,
    `Verified: source ${r.verified.source.events} events, destination ${r.verified.destination.events} events, hash chain intact on both ends.`,
  ].join('\n')
}
