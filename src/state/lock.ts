// The plan lock (plans/<name>/state.lock): created exclusively (link of a complete temp file, as O_EXCL), holding LockInfo JSON, so a
// second execute/rollback on the same plan is refused with who holds it. A lock left by a process that no longer
// runs on this host is stale and taken over (the caller journals that). The holder is identified by pid, process
// start time and boot id, so a pid reused by another process does not keep a dead run's lock. --force-unlock takes a
// lock held from another host (which this host cannot check), never one whose holder is alive here. A symbolic link
// in place of the lock is refused, never followed.
import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {environmentError, EXIT, MigrateError} from '../errors.js'
import {fsyncDir} from '../io/atomic.js'
import {bootId, pidAlive, procStartTime, sameProcessAlive} from './proc.js'

export {pidAlive}

export interface LockInfo {
  host: string
  pid: number
  user: string
  /** ISO time the lock was taken. */
  since: string
  /** What holds it: "execute wave 2", "rollback wave 2". */
  operation: string
  /** The holder's start time (/proc/PID/stat, clock ticks since boot): a reused pid is another process. */
  startTime?: string
  /** The boot the holder ran in (/proc/sys/kernel/random/boot_id). */
  bootId?: string
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

/** Whether the holder of a lock still runs: true/false on this host, null for another host (cannot tell). */
export function holderAlive(i: LockInfo): boolean | null {
  if (i.host !== os.hostname()) return null
  return sameProcessAlive(i.pid, i.startTime, i.bootId)
}

/** A state file (lock, journal, head) that is a symbolic link: refused, never followed. */
export function symlinkRefused(file: string): MigrateError {
  return new MigrateError(
    `${file} is a symbolic link: state files are never followed through links (it could point anywhere)`,
    {
      code: 'STATE_SYMLINK',
      exitCode: EXIT.FAILURE,
      hint: `Remove the link (\`rm ${file}\`) and, if it pointed at the real file, move that file into the plan directory in its place`,
      data: {file},
    },
  )
}

/** Opens a state file for reading without following a link; undefined when it does not exist. */
export function readStateFile(file: string): Buffer | undefined {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    if (code === 'ELOOP') throw symlinkRefused(file)
    throw e
  }
  try {
    return readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

export function readLock(file: string): LockInfo | null {
  let buf: Buffer | undefined
  try {
    buf = readStateFile(file)
  } catch (e) {
    if ((e as MigrateError).code === 'STATE_SYMLINK') throw e
    return null
  }
  if (!buf) return null
  try {
    const v = JSON.parse(buf.toString('utf8')) as LockInfo
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
  if (holderAlive(info) === false) {
    return pidAlive(info.pid)
      ? `process ${info.pid} on ${info.host} is another process than the one that took the lock (its pid was reused)`
      : `process ${info.pid} on ${info.host} is no longer running`
  }
  return undefined
}

function tryCreate(file: string, info: LockInfo): boolean {
  // Write the LockInfo to a private temp file first, then link it into place: link() fails if the lock exists (an
  // exclusive create, like open(O_EXCL)), and a crash can never leave an empty lock behind.
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
  let fd: number
  try {
    fd = openSync(tmp, 'wx', 0o644)
  } catch (e) {
    throw environmentError(e, file, 'create the plan lock')
  }
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
    throw environmentError(e, file, 'create the plan lock')
  } finally {
    rmSync(tmp, {force: true})
  }
  fsyncDir(path.dirname(file))
  return true
}

/**
 * Temp files of lock taking (state.lock.PID.MS.tmp) and broken-lock leftovers (state.lock.broken.PID) of processes
 * that no longer run: a kill at the wrong moment leaves them; they are removed.
 */
export function cleanLockLeftovers(file: string): string[] {
  const dir = path.dirname(file)
  const base = path.basename(file)
  const removed: string[] = []
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return removed
  }
  for (const n of names) {
    if (!n.startsWith(`${base}.`)) continue
    const m = /^\.(\d+)\.\d+\.tmp$/.exec(n.slice(base.length)) ?? /^\.broken\.(\d+)$/.exec(n.slice(base.length))
    if (!m) continue
    const pid = Number(m[1])
    const full = path.join(dir, n)
    let old = false
    try {
      old = Date.now() - lstatSync(full).mtimeMs > 60_000
    } catch {
      continue
    }
    if (pid === process.pid || (pidAlive(pid) && !old)) continue
    rmSync(full, {force: true})
    removed.push(n)
  }
  return removed
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

function refuseSymlink(file: string): void {
  try {
    if (lstatSync(file).isSymbolicLink()) throw symlinkRefused(file)
  } catch (e) {
    if ((e as MigrateError).code === 'STATE_SYMLINK') throw e
  }
}

export function acquireLock(file: string, operation: string, opts: {force?: boolean} = {}): Lock {
  const info: LockInfo = {
    host: os.hostname(),
    pid: process.pid,
    user: process.env.USER ?? safeUser(),
    since: new Date().toISOString(),
    operation,
    startTime: procStartTime(process.pid),
    bootId: bootId(),
  }
  let replaced: Lock['replaced']
  cleanLockLeftovers(file)
  for (let attempt = 0; attempt < 3; attempt++) {
    refuseSymlink(file)
    if (tryCreate(file, info)) {
      let released = false
      return {
        info,
        replaced,
        release() {
          if (released) return
          released = true
          const cur = readLock(file)
          if (cur && cur.pid === info.pid && cur.host === info.host && cur.since === info.since)
            rmSync(file, {force: true})
        },
      }
    }
    refuseSymlink(file)
    const held = readLock(file)
    const stale = staleReason(file, held)
    if (!stale && opts.force && held && holderAlive(held) === true) {
      throw new MigrateError(
        `--force-unlock refused: the plan is locked by ${describeLock(held)}, which is still running on this host`,
        {
          code: 'LOCKED',
          exitCode: EXIT.LOCKED,
          hint: `Two runs at once would execute the same steps and fork the journal. Wait for it to finish, or stop it (\`kill ${held.pid}\`; it stops its steps and records where it stopped), then run again without --force-unlock. Lock file: ${file}`,
          data: {lock: held, file},
        },
      )
    }
    if (stale || opts.force) {
      if (breakLock(file, held)) replaced = {info: held, reason: stale ? 'stale' : 'forced'}
      continue
    }
    throw new MigrateError(
      `the plan is locked by ${held ? describeLock(held) : 'another process (lock file being written)'}`,
      {
        code: 'LOCKED',
        exitCode: EXIT.LOCKED,
        hint:
          `Wait for it to finish (rerun with --lock-timeout 10m to wait here). If it ran on another host that is gone, rerun with --force-unlock (refused while the holder runs on this host): ` +
          `if that process is in fact still running, two runs would execute the same steps at once and the journal would interleave them. Lock file: ${file}`,
        data: {lock: held ?? undefined, file},
      },
    )
  }
  throw new MigrateError(`could not take the plan lock ${file}: other processes keep taking it`, {
    code: 'LOCKED',
    exitCode: EXIT.LOCKED,
    hint: 'Run `migrate status` to see what is running',
  })
}

function safeUser(): string {
  try {
    return os.userInfo().username
  } catch {
    return 'unknown'
  }
}
