// `migrate state push` (the journal file → a shared backend) and `migrate state pull` (a shared backend → the journal
// file): the same events, byte for byte, hashes included. Both ends are verified: the source before anything is
// copied, the destination after. Copying only ever extends: the destination must hold a prefix of the source (nothing,
// or what an earlier push/pull copied), else the two have diverged and nothing is written.
import path from 'node:path'
import {EXIT, MigrateError} from '../errors.js'
import {writeFileAtomic} from '../io/atomic.js'
import {PLAN_FILES} from '../paths.js'
import type {FileBackend, PgBackend, StateBackend} from './backend.js'
import type {ChainInput, VerifyResult} from './chain.js'
import {headFile} from './journal.js'
import {acquireLock} from './lock.js'
import {importPgEvents} from './pg/journal.js'

export interface TransferResult {
  direction: 'push' | 'pull'
  from: string
  to: string
  /** Events the destination held before, and copied now. */
  already: number
  copied: number
  verified: {source: VerifyResult; destination: VerifyResult}
}

function refuseUnverified(v: VerifyResult, where: string, side: string): void {
  if (v.ok) return
  const p = v.problems[0]
  throw new MigrateError(
    `the ${side} journal ${where} does not verify (${v.problems.length} problem(s), the first at event line ${p.line}: ${p.problem}): nothing was copied`,
    {
      code: 'JOURNAL_TAMPERED',
      exitCode: EXIT.FAILURE,
      hint: '`migrate status --verify` (with --state for the shared backend) lists every problem; restore it from a backup first',
      data: {problems: v.problems},
    },
  )
}

/** How many of the source's events the destination already holds; refuses when the destination is no prefix of it. */
function commonPrefix(src: ChainInput, dst: ChainInput, from: string, to: string): number {
  const n = dst.events.length
  if (n > src.events.length && src.events.every((e, i) => e.hash === dst.events[i].hash))
    throw new MigrateError(
      `${to} is ahead of ${from}: it holds ${n - src.events.length} event(s) more, nothing to copy`,
      {
        code: 'STATE_BEHIND',
        exitCode: EXIT.FAILURE,
        hint: 'Runs were recorded there since: copy the other way to bring this side up to date',
      },
    )
  const same = n <= src.events.length && dst.events.every((e, i) => e.hash === src.events[i].hash)
  if (!same)
    throw new MigrateError(
      `${to} holds ${n} event(s) that are not a prefix of the ${src.events.length} in ${from}: the two journals diverged (runs were recorded in both)`,
      {
        code: 'STATE_DIVERGED',
        exitCode: EXIT.FAILURE,
        hint: 'Nothing was copied. Decide which one is the record (the other holds runs the first does not know of) and move the other aside before copying',
      },
    )
  return n
}

async function verified(src: StateBackend, dst: StateBackend): Promise<[ChainInput, ChainInput, VerifyResult]> {
  const sv = await src.verify()
  refuseUnverified(sv, src.where, 'source')
  refuseUnverified(await dst.verify(), dst.where, 'destination')
  return [await src.read(), await dst.read(), sv]
}

export async function pushState(file: FileBackend, pg: PgBackend): Promise<TransferResult> {
  const lock = acquireLock(path.join(file.planDir, PLAN_FILES.lock), 'state push')
  try {
    const [src, dst, sv] = await verified(file, pg)
    const already = commonPrefix(src, dst, file.where, pg.where)
    const rest = src.events.slice(already).map((e, i) => ({
      seq: e.seq,
      line: JSON.stringify(src.raw[already + i]),
      hash: e.hash,
      prev: e.prev,
    }))
    if (rest.length > 0) await importPgEvents(pg.session, pg.planId, rest)
    const dv = await pg.verify()
    return {
      direction: 'push',
      from: file.where,
      to: pg.where,
      already,
      copied: rest.length,
      verified: {source: sv, destination: dv},
    }
  } finally {
    lock.release()
  }
}

export async function pullState(pg: PgBackend, file: FileBackend): Promise<TransferResult> {
  const lock = acquireLock(path.join(file.planDir, PLAN_FILES.lock), 'state pull')
  try {
    const [src, dst, sv] = await verified(pg, file)
    const already = commonPrefix(src, dst, pg.where, file.where)
    const copied = src.events.length - already
    if (copied > 0) {
      const lines = src.raw.map((r) => `${JSON.stringify(r)}\n`).join('')
      writeFileAtomic(file.file, lines)
      const last = src.events[src.events.length - 1]
      writeFileAtomic(headFile(file.file), `${String(last.seq).padStart(12, '0')} ${last.hash}\n`)
    }
    const dv = await file.verify()
    return {direction: 'pull', from: pg.where, to: file.where, already, copied, verified: {source: sv, destination: dv}}
  } finally {
    lock.release()
  }
}
