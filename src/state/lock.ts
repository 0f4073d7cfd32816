// The plan lock (plans/<name>/state.lock): created exclusively (link of a complete temp file, as O_EXCL), holding LockInfo JSON, so a
// second execute/rollback on the same plan is refused with who holds it. A lock left by a process that no longer
// runs on this host is stale and taken over (the caller journals that); --force-unlock takes any lock, loudly.
import {closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import os from 'node:os'
import {EXIT, MigrateError} from '../errors.js'
import {fsyncDir} from '../io/atomic.js'
import path from 'node:path'

export interface LockInfo {
  host: string
  pid: number
  user: string
  /** ISO time the lock was taken. */
  since: string
  /** What holds it: "execute wave 2", "rollback wave 2". */
  operation: string
}

export interface Lock {
  info: LockInfo
  /** The lock that was taken over, with why (stale holder or --force-unlock). */
  replaced?: {info: LockInfo | null; reason: 'stale' | 'forced'}
  release(): void
}

export function describeLock(i: LockInfo): string {
  return `${i.user}@${i.host} pid ${i.pid} (${i.operation}, since ${i.since})`
}

/** True when the process is alive (or alive but not ours to signal). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A zombie (killed, not yet reaped) is gone for our purposes.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

export function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as LockInfo
    return typeof v.pid === 'number' && typeof v.host === 'string' ? v : null
  } catch {
    return null
  }
}

/** Why the lock at `file` may be taken over without asking, or undefined when its holder may still be running. */
function staleReason(file: string, info: LockInfo | null): string | undefined {
  if (!info) {
    // Empty or unreadable: a crash between create and write. Give a live writer a moment.
    const age = Date.now() - statSync(file).mtimeMs
    return age > 5000 ? 'the lock file is empty or unreadable (a crash while taking it)' : undefined
  }
  if (info.host === os.hostname() && !pidAlive(info.pid)) return `process ${info.pid} on ${info.host} is no longer running`
  return undefined
}

function tryCreate(file: string, info: LockInfo): boolean {
  // Write the LockInfo to a private temp file first, then link it into place: link() fails if the lock exists (an
  // exclusive create, like open(O_EXCL)), and a crash can never leave an empty lock behind.
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
  const fd = openSync(tmp, 'wx', 0o644)
  try {
    writeSync(fd, JSON.stringify(info, null, 2) + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(tmp, file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  } finally {
    rmSync(tmp, {force: true})
  }
  fsyncDir(path.dirname(file))
  return true
}

/** Moves the old lock aside and deletes it, but only if it is still the one we judged (another process may have raced us). */
function breakLock(file: string, seen: LockInfo | null): boolean {
  const aside = `${file}.broken.${process.pid}`
  try {
    renameSync(file, aside)
  } catch {
    return false
  }
  const now = readLock(aside)
  if (JSON.stringify(now) !== JSON.stringify(seen)) {
    // Someone else took it in between: put theirs back if the name is free.
    try {
      if (!existsSync(file)) renameSync(aside, file)
    } catch {
      /* leave it */
    }
    return false
  }
  rmSync(aside, {force: true})
  return true
}

export function acquireLock(file: string, operation: string, opts: {force?: boolean} = {}): Lock {
  const info: LockInfo = {host: os.hostname(), pid: process.pid, user: process.env.USER ?? safeUser(), since: new Date().toISOString(), operation}
  let replaced: Lock['replaced']
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(file, info)) {
      let released = false
      return {
        info,
        replaced,
        release() {
          if (released) return
          released = true
          const cur = readLock(file)
          if (cur && cur.pid === info.pid && cur.host === info.host && cur.since === info.since) rmSync(file, {force: true})
        },
      }
    }
    const held = readLock(file)
    const stale = staleReason(file, held)
    if (stale || opts.force) {
      if (breakLock(file, held)) replaced = {info: held, reason: stale ? 'stale' : 'forced'}
      continue
    }
    throw new MigrateError(`the plan is locked by ${held ? describeLock(held) : 'another process (lock file being written)'}`, {
      code: 'LOCKED',
      exitCode: EXIT.LOCKED,
      hint: `Wait for it to finish. If you are sure it is gone (e.g. it ran on another host that crashed), rerun with --force-unlock: ` +
        `if that process is in fact still running, two runs would execute the same steps at once and the journal would interleave them. Lock file: ${file}`,
      data: {lock: held ?? undefined, file},
    })
  }
  throw new MigrateError(`could not take the plan lock ${file}: other processes keep taking it`, {code: 'LOCKED', exitCode: EXIT.LOCKED, hint: 'Run `migrate status` to see what is running'})
}

function safeUser(): string {
  try {
    return os.userInfo().username
  } catch {
    return 'unknown'
  }
}
