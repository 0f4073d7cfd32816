// The plan-state journal: append-only JSON lines (plans/<name>/state.journal), each event carrying who ran it and
// the hash of the previous event. Appends are group-committed: concurrent appends share one write + fsync, and
// append() resolves only once its line is on disk, so a step's "started" is durable before the step runs.
// A torn last line (a crash mid-append) is ignored on read and cut off before the next append.
// After each group commit the sequence number and hash of the last event go to a small head file beside it
// (state.journal.head), so lines cut from the end do not pass for an honest shorter journal. Both files are opened
// with O_NOFOLLOW: a symbolic link in their place is refused, never followed.
// The chain protects against accidents (an edit, a lost or reordered line, a copy from elsewhere), not against
// someone who can write the plan directory: they can recompute every hash and the head. See docs/execute.md.
import {
  closeSync,
  constants,
  fdatasync as fsFdatasync,
  fstatSync,
  ftruncateSync,
  openSync,
  write as fsWrite,
} from 'node:fs'
import {environmentError, MigrateError, EXIT} from '../errors.js'
import type {JournalEvent} from '../schema/state.js'
import {
  type Actor,
  type ChainInput,
  currentActor,
  eventBody,
  type JournalHead,
  parseEventLine,
  GENESIS,
  hashEvent,
  type NewEvent,
  type VerifyResult,
  verifyChain,
} from './chain.js'
import {readStateFile, symlinkRefused} from './lock.js'

export {
  type Actor,
  currentActor,
  GENESIS,
  type JournalHead,
  hashEvent,
  type NewEvent,
  type VerifyResult,
} from './chain.js'

export interface ReadJournal extends ChainInput {
  /** Byte length of the valid prefix (everything up to and including the last newline). */
  validBytes: number
}

/** The head file beside a journal. */
export function headFile(journal: string): string {
  return `${journal}.head`
}

/** The head (last event's seq and hash as last committed); undefined when there is none, null when unreadable. */
export function readHead(journal: string): JournalHead | null | undefined {
  const buf = readStateFile(headFile(journal))
  if (!buf) return undefined
  const m = /^(\d{12}) ([0-9a-f]{64})\n/.exec(buf.toString('utf8'))
  return m ? {seq: Number(m[1]), hash: m[2]} : null
}

/** Reads the journal; a missing file is an empty journal. Never throws on content (a symbolic link is refused). */
export function readJournal(file: string): ReadJournal {
  const buf = readStateFile(file)
  if (!buf) return {events: [], lines: [], raw: [], torn: false, bad: [], validBytes: 0}
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
    const r = parseEventLine(row)
    if (!r.ok && !r.json) {
      // A line that ends with a newline but is not JSON: only acceptable as the very last line (a crash that wrote
      // the newline of a partial page). Anything earlier is corruption.
      const isLast = rows.slice(i + 1).every((x) => x.trim() === '')
      if (isLast && !out.torn) {
        out.torn = true
        out.validBytes = rowStart
      } else out.bad.push({line: i + 1, reason: r.reason})
      return
    }
    if (!r.ok) {
      out.bad.push({line: i + 1, reason: r.reason})
      return
    }
    out.events.push(r.event)
    out.lines.push(i + 1)
    out.raw.push(r.raw)
  })
  return out
}
/**
 * Checks the hash chain and sequence numbers (any edited, removed, inserted or reordered line breaks it), and the
 * head: a journal that ends before the event its head recorded lost lines from its end.
 */
export function verifyJournal(file: string): VerifyResult {
  return verifyChain(readJournal(file), readHead(file), `the head file ${headFile(file)}`)
}

/**
 * The writer. Open it only while holding the plan lock: it trims a torn last line, continues the chain from the
 * last event, and appends with fsync.
 */
export class JournalWriter {
  private fd: number
  private headFd: number
  private seq: number
  private prev: string
  private queue: {line: string; seq: number; hash: string; resolve: () => void; reject: (e: unknown) => void}[] = []
  private flushing: Promise<void> | null = null
  private failed: unknown = null
  readonly actor: Actor
  /** Called synchronously with each event as it is appended (before it is on disk). */
  onAppend?: (e: JournalEvent) => void

  private constructor(
    readonly file: string,
    fd: number,
    headFd: number,
    seq: number,
    prev: string,
    readonly runId: string,
    readonly redact: (s: string) => string,
    actor: Actor,
  ) {
    this.fd = fd
    this.headFd = headFd
    this.seq = seq
    this.prev = prev
    this.actor = actor
  }

  static open(
    file: string,
    runId: string,
    redact: (s: string) => string = (s) => s,
    actor: Actor = currentActor(),
  ): JournalWriter {
    const j = readJournal(file)
    if (j.bad.length > 0) {
      throw new MigrateError(`${file}:${j.bad[0].line}: the journal is corrupt (${j.bad[0].reason})`, {
        code: 'JOURNAL_CORRUPT',
        exitCode: EXIT.FAILURE,
        hint: 'It was edited by hand or damaged: restore it from git or a backup, then run `migrate status --verify`',
      })
    }
    const fd = openNoFollow(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT)
    let headFd: number
    try {
      headFd = openNoFollow(headFile(file), constants.O_WRONLY | constants.O_CREAT)
    } catch (e) {
      closeSync(fd)
      throw e
    }
    // Cut a torn tail (and anything after the last newline) so the next line starts clean.
    if (fstatSync(fd).size !== j.validBytes) ftruncateSync(fd, j.validBytes)
    const last = j.events.at(-1)
    return new JournalWriter(
      file,
      fd,
      headFd,
      last ? last.seq + 1 : 0,
      last ? last.hash : GENESIS,
      runId,
      redact,
      actor,
    )
  }

  /** Builds the event (seq, time, actor, chain) now, in call order; resolves once it is fsynced. */
  append(e: NewEvent): Promise<JournalEvent> {
    if (this.failed) return Promise.reject(this.failed)
    // Key order is fixed here (verification re-serialises the parsed line in the same order).
    const seq = this.seq++
    const ordered = {seq, ...eventBody(e, this.runId, this.actor, this.redact), prev: this.prev} as Omit<
      JournalEvent,
      'hash'
    >
    const hash = hashEvent(ordered)
    this.prev = hash
    const event = {...ordered, hash} as JournalEvent
    const line = JSON.stringify(event) + '\n'
    this.onAppend?.(event)
    return new Promise<JournalEvent>((resolve, reject) => {
      this.queue.push({line, seq, hash, resolve: () => resolve(event), reject})
      // Group commit: the appends made in this turn of the event loop go in one write and one fdatasync.
      if (!this.flushing) this.flushing = nextTurn().then(() => this.flush())
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
        // Then the head: the journal is never shorter than its head says, unless lines were cut from it.
        const last = batch[batch.length - 1]
        const head = Buffer.from(`${String(last.seq).padStart(12, '0')} ${last.hash}\n`, 'utf8')
        await writeAt(this.headFd, head, 0, 0)
        await fdatasync(this.headFd)
        for (const b of batch) b.resolve()
      } catch (error) {
        this.failed = new MigrateError(`cannot write the journal ${this.file}: ${(error as Error).message}`, {
          code: 'JOURNAL_WRITE_FAILED',
          hint: 'Check free disk space and permissions; nothing further was run',
        })
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
    if (this.headFd >= 0) closeSync(this.headFd)
    this.fd = -1
    this.headFd = -1
  }
}

/** Resolves in the next turn of the event loop, after the promise callbacks queued in this one. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

// fs.write / fdatasync on a raw fd, promisified without FileHandle (so the fd stays usable synchronously too).
function writeAt(
  fd: number,
  buf: Buffer,
  off: number,
  position: number | null = null,
): Promise<{bytesWritten: number}> {
  return new Promise((resolve, reject) =>
    fsWrite(fd, buf, off, buf.length - off, position, (err, bytesWritten) =>
      err ? reject(err) : resolve({bytesWritten}),
    ),
  )
}

/** Opens a state file without following a symbolic link in its place. */
function openNoFollow(file: string, flags: number): number {
  try {
    return openSync(file, flags | constants.O_NOFOLLOW, 0o644)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw symlinkRefused(file)
    throw environmentError(e, file, 'open the journal')
  }
}
function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsFdatasync(fd, (err) => (err ? reject(err) : resolve())))
}
