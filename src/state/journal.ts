// The plan-state journal: append-only JSON lines (plans/<name>/state.journal), each event carrying who ran it and
// the hash of the previous event. Appends are group-committed: concurrent appends share one write + fsync, and
// append() resolves only once its line is on disk, so a step's "started" is durable before the step runs.
// A torn last line (a crash mid-append) is ignored on read and cut off before the next append.
import {createHash} from 'node:crypto'
import {closeSync, existsSync, fdatasync as fsFdatasync, fstatSync, ftruncateSync, openSync, readFileSync, write as fsWrite} from 'node:fs'
import os from 'node:os'
import {MigrateError, EXIT} from '../errors.js'
import {JournalEvent, type EventType} from '../schema/state.js'

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

export interface ReadJournal {
  events: JournalEvent[]
  /** 1-based line of each event. */
  lines: number[]
  /** Each event as written (key order of the line), for hash verification. */
  raw: Record<string, unknown>[]
  /** A torn (incomplete) last line was found and ignored. */
  torn: boolean
  /** Lines in the middle that are not valid events: corruption, not a crash. */
  bad: {line: number; reason: string}[]
  /** Byte length of the valid prefix (everything up to and including the last newline). */
  validBytes: number
}

/** Reads the journal; a missing file is an empty journal. Never throws on content. */
export function readJournal(file: string): ReadJournal {
  if (!existsSync(file)) return {events: [], lines: [], raw: [], torn: false, bad: [], validBytes: 0}
  const buf = readFileSync(file)
  const lastNl = buf.lastIndexOf(0x0a)
  const validBytes = lastNl + 1
  const text = buf.subarray(0, validBytes).toString('utf8')
  const tail = buf.subarray(validBytes).toString('utf8')
  const out: ReadJournal = {events: [], lines: [], raw: [], torn: tail.trim().length > 0, bad: [], validBytes}
  const rows = text.split('\n')
  let offset = 0
  rows.forEach((row, i) => {
    const rowStart = offset
    offset += Buffer.byteLength(row, 'utf8') + 1
    if (row.trim() === '') return
    let raw: unknown
    try {
      raw = JSON.parse(row)
    } catch {
      // A line that ends with a newline but is not JSON: only acceptable as the very last line (a crash that wrote
      // the newline of a partial page). Anything earlier is corruption.
      const isLast = rows.slice(i + 1).every((r) => r.trim() === '')
      if (isLast && !out.torn) {
        out.torn = true
        out.validBytes = rowStart
      } else out.bad.push({line: i + 1, reason: 'not valid JSON'})
      return
    }
    const r = JournalEvent.safeParse(raw)
    if (!r.success) {
      out.bad.push({line: i + 1, reason: r.error.issues.map((x) => `${x.path.join('.') || 'event'}: ${x.message}`).join('; ')})
      return
    }
    out.events.push(r.data)
    out.lines.push(i + 1)
    out.raw.push(raw as Record<string, unknown>)
  })
  return out
}

export interface VerifyResult {
  ok: boolean
  events: number
  torn: boolean
  problems: {line: number; seq?: number; problem: string}[]
}

/** Checks the hash chain and sequence numbers: any edited, removed or inserted line breaks it. */
export function verifyJournal(file: string): VerifyResult {
  const j = readJournal(file)
  const problems: VerifyResult['problems'] = j.bad.map((b) => ({line: b.line, problem: b.reason}))
  let prev = GENESIS
  j.events.forEach((e, i) => {
    const line = j.lines[i]
    const {hash, ...rest} = j.raw[i] as Record<string, unknown> & {hash: string}
    if (e.seq !== i) problems.push({line, seq: e.seq, problem: `sequence number ${e.seq}, expected ${i} (an event was removed or inserted)`})
    if (e.prev !== prev) problems.push({line, seq: e.seq, problem: 'prev does not match the hash of the event before it (an event was removed, reordered or edited)'})
    if (hashEvent(rest as Omit<JournalEvent, 'hash'>) !== hash) problems.push({line, seq: e.seq, problem: 'hash does not match the event (the line was edited)'})
    prev = hash
  })
  problems.sort((a, b) => a.line - b.line)
  return {ok: problems.length === 0, events: j.events.length, torn: j.torn, problems}
}

/**
 * The writer. Open it only while holding the plan lock: it trims a torn last line, continues the chain from the
 * last event, and appends with fsync.
 */
export class JournalWriter {
  private fd: number
  private seq: number
  private prev: string
  private queue: {line: string; resolve: () => void; reject: (e: unknown) => void}[] = []
  private flushing: Promise<void> | null = null
  private failed: unknown = null
  readonly actor: Actor
  /** Called synchronously with each event as it is appended (before it is on disk). */
  onAppend?: (e: JournalEvent) => void

  private constructor(
    readonly file: string,
    fd: number,
    seq: number,
    prev: string,
    readonly runId: string,
    readonly redact: (s: string) => string,
    actor: Actor,
  ) {
    this.fd = fd
    this.seq = seq
    this.prev = prev
    this.actor = actor
  }

  static open(file: string, runId: string, redact: (s: string) => string = (s) => s, actor: Actor = currentActor()): JournalWriter {
    const j = readJournal(file)
    if (j.bad.length > 0) {
      throw new MigrateError(`${file}:${j.bad[0].line}: the journal is corrupt (${j.bad[0].reason})`, {
        code: 'JOURNAL_CORRUPT',
        exitCode: EXIT.FAILURE,
        hint: 'It was edited by hand or damaged: restore it from git or a backup, then run `migrate status --verify`',
      })
    }
    const fd = openSync(file, 'a', 0o644)
    // Cut a torn tail (and anything after the last newline) so the next line starts clean.
    if (fstatSync(fd).size !== j.validBytes) ftruncateSync(fd, j.validBytes)
    const last = j.events.at(-1)
    return new JournalWriter(file, fd, last ? last.seq + 1 : 0, last ? last.hash : GENESIS, runId, redact, actor)
  }

  /** Builds the event (seq, time, actor, chain) now, in call order; resolves once it is fsynced. */
  append(e: NewEvent): Promise<JournalEvent> {
    if (this.failed) return Promise.reject(this.failed)
    const clean: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(e)) {
      if (v === undefined) continue
      clean[k] = typeof v === 'string' ? this.redact(v) : k === 'argv' && Array.isArray(v) ? v.map((x) => this.redact(String(x))) : k === 'check' ? JSON.parse(this.redact(JSON.stringify(v))) : v
    }
    // Key order is fixed here (verification re-serialises the parsed line in the same order).
    const ordered = {seq: this.seq++, time: new Date().toISOString(), type: e.type, runId: this.runId, ...clean, actor: this.actor, prev: this.prev} as Omit<JournalEvent, 'hash'>
    const hash = hashEvent(ordered)
    this.prev = hash
    const event = {...ordered, hash} as JournalEvent
    const line = JSON.stringify(event) + '\n'
    this.onAppend?.(event)
    return new Promise<JournalEvent>((resolve, reject) => {
      this.queue.push({line, resolve: () => resolve(event), reject})
      if (!this.flushing) this.flushing = this.flush()
    })
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      try {
        const buf = Buffer.from(batch.map((b) => b.line).join(''), 'utf8')
        let off = 0
        while (off < buf.length) {
          const {bytesWritten} = await writeAt(this.fd, buf, off)
          off += bytesWritten
        }
        await fdatasync(this.fd)
        for (const b of batch) b.resolve()
      } catch (error) {
        this.failed = new MigrateError(`cannot write the journal ${this.file}: ${(error as Error).message}`, {code: 'JOURNAL_WRITE_FAILED', hint: 'Check free disk space and permissions; nothing further was run'})
        for (const b of batch) b.reject(this.failed)
        for (const b of this.queue) b.reject(this.failed)
        this.queue = []
      }
    }
    this.flushing = null
  }

  /** Waits for every queued append. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  async close(): Promise<void> {
    await this.drain()
    if (this.fd >= 0) closeSync(this.fd)
    this.fd = -1
  }
}

// fs.write / fdatasync on a raw fd, promisified without FileHandle (so the fd stays usable synchronously too).
function writeAt(fd: number, buf: Buffer, off: number): Promise<{bytesWritten: number}> {
  return new Promise((resolve, reject) => fsWrite(fd, buf, off, buf.length - off, null, (err, bytesWritten) => (err ? reject(err) : resolve({bytesWritten}))))
}
function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsFdatasync(fd, (err) => (err ? reject(err) : resolve())))
}
