// The hash chain every state backend keeps: how an event is built (key order, redaction, who ran it) and how a
// sequence of events is verified against its head. The journal file and the PostgreSQL backend share these, so both
// hold the same events with the same hashes, and `migrate status --verify` means the same thing for either.
import {createHash} from 'node:crypto'
import os from 'node:os'
import {type EventType, JournalEvent} from '../schema/state.js'

export const GENESIS = '0'.repeat(64)

export type NewEvent = Omit<JournalEvent, 'seq' | 'time' | 'actor' | 'prev' | 'hash' | 'runId'> & {type: EventType}

export interface Actor {
  user: string
  host: string
  pid: number
}

export function currentActor(): Actor {
  let user = process.env.USER ?? process.env.LOGNAME ?? ''
  if (!user) {
    try {
      user = os.userInfo().username
    } catch {
      user = 'unknown'
    }
  }
  return {user, host: os.hostname(), pid: process.pid}
}

export function hashEvent(withoutHash: Omit<JournalEvent, 'hash'>): string {
  return createHash('sha256').update(JSON.stringify(withoutHash)).digest('hex')
}

/**
 * An event without its place in the chain (seq, prev, hash), keys in the order every backend writes them: time,
 * type, runId, the event's own fields (strings, argv and checks redacted), actor.
 */
export function eventBody(
  e: NewEvent,
  runId: string,
  actor: Actor,
  redact: (s: string) => string,
): Omit<JournalEvent, 'seq' | 'prev' | 'hash'> {
  const clean: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(e)) {
    if (v === undefined) continue
    clean[k] =
      typeof v === 'string'
        ? redact(v)
        : k === 'argv' && Array.isArray(v)
          ? v.map((x) => redact(String(x)))
          : k === 'check'
            ? JSON.parse(redact(JSON.stringify(v)))
            : v
  }
  return {time: new Date().toISOString(), type: e.type, runId, ...clean, actor} as Omit<
    JournalEvent,
    'seq' | 'prev' | 'hash'
  >
}

export interface JournalHead {
  seq: number
  hash: string
}

/** Events as a backend read them: each with its position (a line of the file, or seq + 1) and as written. */
export interface ChainInput {
  events: JournalEvent[]
  lines: number[]
  raw: Record<string, unknown>[]
  torn: boolean
  bad: {line: number; reason: string}[]
}

export interface VerifyResult {
  ok: boolean
  events: number
  torn: boolean
  problems: {line: number; seq?: number; problem: string}[]
  /** The head as recorded (undefined: no head, a journal from before heads were kept). */
  head?: JournalHead | null
}

/**
 * Checks the hash chain and sequence numbers (any edited, removed, inserted or reordered event breaks it), and the
 * head: events that end before the one the head recorded lost events from their end. `headName` names the head in
 * messages (the head file, or the backend's head row).
 */
export function verifyChain(j: ChainInput, head: JournalHead | null | undefined, headName: string): VerifyResult {
  const problems: VerifyResult['problems'] = j.bad.map((b) => ({line: b.line, problem: b.reason}))
  let prev = GENESIS
  j.events.forEach((e, i) => {
    const line = j.lines[i]
    const {hash, ...rest} = j.raw[i] as Record<string, unknown> & {hash: string}
    if (e.seq !== i)
      problems.push({
        line,
        seq: e.seq,
        problem: `sequence number ${e.seq}, expected ${i} (an event was removed or inserted)`,
      })
    if (e.prev !== prev)
      problems.push({
        line,
        seq: e.seq,
        problem: 'prev does not match the hash of the event before it (an event was removed, reordered or edited)',
      })
    if (hashEvent(rest as Omit<JournalEvent, 'hash'>) !== hash)
      problems.push({line, seq: e.seq, problem: 'hash does not match the event (the line was edited)'})
    prev = hash
  })
  const endLine = (j.lines.at(-1) ?? 0) + 1
  if (head === null) problems.push({line: endLine, problem: `${headName} is unreadable (edited or damaged)`})
  else if (head !== undefined) {
    const last = j.events.at(-1)
    if (!last || last.seq < head.seq) {
      const n = head.seq - (last ? last.seq : -1)
      problems.push({
        line: endLine,
        seq: head.seq,
        problem: `the journal ends ${last ? `at event ${last.seq}` : 'empty'} but its head recorded event ${head.seq}: ${n} event(s) were cut from the end`,
      })
    } else if (j.events[head.seq]?.hash !== head.hash) {
      problems.push({
        line: j.lines[head.seq] ?? endLine,
        seq: head.seq,
        problem: `event ${head.seq} is not the one the head recorded (the journal was rewritten or replaced from there)`,
      })
    }
  }
  problems.sort((a, b) => a.line - b.line)
  return {ok: problems.length === 0, events: j.events.length, torn: j.torn, problems, head}
}

/** Parses one written event (a journal line, or a row of the PostgreSQL backend) as ChainInput parts. */
export function parseEventLine(
  row: string,
): {ok: true; event: JournalEvent; raw: Record<string, unknown>} | {ok: false; reason: string; json: boolean} {
  let raw: unknown
  try {
    raw = JSON.parse(row)
  } catch {
    return {ok: false, reason: 'not valid JSON', json: false}
  }
  const r = JournalEvent.safeParse(raw)
  if (!r.success)
    return {
      ok: false,
      json: true,
      reason: r.error.issues.map((x) => `${x.path.join('.') || 'event'}: ${x.message}`).join('; '),
    }
  return {ok: true, event: r.data, raw: raw as Record<string, unknown>}
}
