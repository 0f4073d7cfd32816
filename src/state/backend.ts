// The state backend seam: where a plan's journal lives and how runners keep out of each other's way. Two backends:
// - file (the default): <plan>/state.journal + its head file, and the plan lock (one runner per plan at a time);
// - postgres: the same events, hash chain and head in PostgreSQL, keyed by plan id, with a lock per unit held on the
//   runner's session, so runners on many machines run different units of one wave at once.
// The executor, `migrate status` and `migrate state push|pull` see only this interface.
import path from 'node:path'
import {PLAN_FILES} from '../paths.js'
import type {JournalEvent} from '../schema/state.js'
import {type Actor, type ChainInput, currentActor, type NewEvent, type VerifyResult, verifyChain} from './chain.js'
import {headFile, JournalWriter, readHead, readJournal} from './journal.js'
import {acquireLock, holderAlive, type Lock, type LockInfo, readLock} from './lock.js'
import {type StateLocation, stateLocation} from './pg/connect.js'
import {type BarrierMeeting, type BarrierOutcome, failBarrier, meetAtBarrier} from './pg/barriers.js'
import {PgJournal, readPgJournal} from './pg/journal.js'
import {lockUnits, type UnitHolder, unitHolders, unlockUnits} from './pg/locks.js'
import {PgSession} from './pg/session.js'

/** What the executor appends to: the journal file's writer, or the PostgreSQL journal. */
export interface JournalAppender {
  readonly file: string
  readonly runId: string
  readonly actor: Actor
  onAppend?: (e: JournalEvent) => void
  append(e: NewEvent): Promise<JournalEvent>
  drain(): Promise<void>
  close(): Promise<void>
}

/** The units a run holds: the plan lock (file), or one session lock per unit (postgres). */
export interface UnitLease {
  /** The plan lock that was taken over (file backend only: a stale or forced lock). */
  replaced?: Lock['replaced']
  release(): Promise<void>
}

export type BarrierRequest = Omit<BarrierMeeting, 'timeoutMs'>

export interface SharedBarrier {
  /** Waits (up to MIGRATE_BARRIER_WAIT seconds, 600 by default) until every server is at the barrier. */
  meet(m: BarrierRequest): Promise<BarrierOutcome>
  /** These servers will not get there in this run: the others stop waiting. */
  fail(m: BarrierRequest): Promise<void>
}

export interface StateBackend {
  readonly kind: 'file' | 'postgres'
  /** For messages: the journal file, or the redacted URL and plan id. */
  readonly where: string
  read(): Promise<ChainInput>
  verify(): Promise<VerifyResult>
  lock(units: string[], operation: string, opts?: {force?: boolean}): Promise<UnitLease>
  /** Who holds the plan lock (file) or which units (postgres), with whether the holder still runs. */
  holders(): Promise<(UnitHolder & {alive: boolean | null})[]>
  openJournal(runId: string, redact: (s: string) => string): Promise<JournalAppender>
  /** A shared backend: where the servers of one application driven by different runners meet at their barriers. */
  readonly barrier?: SharedBarrier
  /** Called when the backend can no longer vouch for the locks (the session died): stop before the next step. */
  onLost(fn: (e: Error) => void): void
  close(): Promise<void>
}

export class FileBackend implements StateBackend {
  readonly kind = 'file' as const
  readonly file: string
  constructor(readonly planDir: string) {
    this.file = path.join(planDir, PLAN_FILES.journal)
  }
  get where(): string {
    return this.file
  }
  async read(): Promise<ChainInput> {
    return readJournal(this.file)
  }
  async verify(): Promise<VerifyResult> {
    return verifyChain(readJournal(this.file), readHead(this.file), `the head file ${headFile(this.file)}`)
  }
  async lock(_units: string[], operation: string, opts: {force?: boolean} = {}): Promise<UnitLease> {
    const l = acquireLock(path.join(this.planDir, PLAN_FILES.lock), operation, opts)
    return {replaced: l.replaced, release: async () => l.release()}
  }
  async holders(): Promise<(UnitHolder & {alive: boolean | null})[]> {
    const l: LockInfo | null = readLock(path.join(this.planDir, PLAN_FILES.lock))
    if (!l) return []
    return [
      {
        unit: '*',
        host: l.host,
        pid: l.pid,
        user: l.user,
        operation: l.operation,
        since: l.since,
        alive: holderAlive(l),
      },
    ]
  }
  async openJournal(runId: string, redact: (s: string) => string): Promise<JournalAppender> {
    return JournalWriter.open(this.file, runId, redact)
  }
  onLost(): void {
    // A file cannot be lost from under the runner: its lock is the plan lock.
  }
  async close(): Promise<void> {}
}

export class PgBackend implements StateBackend {
  readonly kind = 'postgres' as const
  private held: string[] = []
  readonly barrier: SharedBarrier
  constructor(
    readonly session: PgSession,
    readonly planId: string,
  ) {
    const timeoutMs = Number(process.env.MIGRATE_BARRIER_WAIT ?? 600) * 1000
    this.barrier = {
      meet: (m) => meetAtBarrier(session, planId, {...m, timeoutMs}),
      fail: (m) => failBarrier(session, planId, {...m, timeoutMs}),
    }
  }
  get where(): string {
    return `${this.session.loc.shown} (plan ${this.planId})`
  }
  async read(): Promise<ChainInput> {
    return (await readPgJournal(this.session, this.planId)).input
  }
  async verify(): Promise<VerifyResult> {
    const {input, head} = await readPgJournal(this.session, this.planId)
    return verifyChain(input, head, `the head of plan ${this.planId} in ${this.session.loc.shown}`)
  }
  async lock(units: string[], operation: string): Promise<UnitLease> {
    await lockUnits(this.session, this.planId, units, operation, currentActor())
    this.held.push(...units)
    return {
      release: async () => {
        await unlockUnits(this.session, this.planId, units).catch(() => undefined)
        this.held = this.held.filter((u) => !units.includes(u))
      },
    }
  }
  async holders(): Promise<(UnitHolder & {alive: boolean | null})[]> {
    return (await unitHolders(this.session, this.planId)).map((h) => ({...h, alive: true}))
  }
  async openJournal(runId: string, redact: (s: string) => string): Promise<JournalAppender> {
    return new PgJournal(this.session, this.planId, this.where, runId, redact, currentActor())
  }
  onLost(fn: (e: Error) => void): void {
    this.session.onLost(fn)
  }
  async close(): Promise<void> {
    await this.session.close()
  }
}

/**
 * The backend of a plan: --state / $MIGRATE_STATE / the plan's settings.state, else the journal file. The plan id
 * that keys a plan in a shared backend is its metadata.name.
 */
export async function openBackend(
  planDir: string,
  planId: string,
  opts: {state?: string; settings?: string} = {},
): Promise<StateBackend> {
  const loc: StateLocation = stateLocation(opts.state, opts.settings)
  if (loc.kind === 'file') return new FileBackend(planDir)
  return new PgBackend(await PgSession.connect(loc), planId)
}
