// What /proc says about processes on this host: a process's start time (so a pid reused by another process is not
// mistaken for the one recorded), the boot id (a pid recorded before a reboot is gone), and the processes a step
// started, found by the marker every step process inherits in its environment (MIGRATE_STEP), whatever process group
// or session it moved to. Linux only; elsewhere these answer "unknown" and callers fall back to the pid alone.
import {readdirSync, readFileSync} from 'node:fs'

/** The start time of a process (clock ticks since boot, field 22 of /proc/PID/stat), or undefined when unknown. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: the fields after it start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return rest[19]
  } catch {
    return undefined
  }
}

/** The state letter of a process (R, S, Z, …), or undefined when it is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

let cachedBootId: string | undefined | null = null
export function bootId(): string | undefined {
  if (cachedBootId === null) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    } catch {
      cachedBootId = undefined
    }
  }
  return cachedBootId
}

/** True when the process is alive (or alive but not ours to signal); a zombie counts as gone. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
  const st = procState(pid)
  return st !== 'Z' && st !== 'X'
}

/**
 * True when the very process recorded (pid, and start time and boot when recorded) still runs: a pid reused since by
 * another process, or recorded before a reboot, is dead.
 */
export function sameProcessAlive(pid: number, startTime?: string, boot?: string): boolean {
  if (boot !== undefined && bootId() !== undefined && boot !== bootId()) return false
  if (!pidAlive(pid)) return false
  if (startTime === undefined) return true
  const now = procStartTime(pid)
  return now === undefined || now === startTime
}

/** The environment variable every step process carries: `PLANKEY/UNIT/STEP` (see stepMarker). */
export const STEP_ENV = 'MIGRATE_STEP'

export interface StepProcess {
  pid: number
  /** The marker's value: PLANKEY/UNIT/STEP. */
  marker: string
  startTime?: string
  command: string
}

/** Every process on this host whose environment carries a step marker starting with `prefix`. */
export function findStepProcesses(prefix: string): StepProcess[] {
  const out: StepProcess[] = []
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return out
  }
  const needle = `${STEP_ENV}=${prefix}`
  for (const d of entries) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue
    const pid = Number(d)
    if (pid === process.pid) continue
    let env: string
    try {
      env = readFileSync(`/proc/${d}/environ`, 'latin1')
    } catch {
      continue
    }
    const at = env.indexOf(needle)
    if (at < 0 || (at > 0 && env.charCodeAt(at - 1) !== 0)) continue
    const st = procState(pid)
    if (st === undefined || st === 'Z' || st === 'X') continue
    const end = env.indexOf('\0', at)
    let command = ''
    try {
      command = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
    } catch {
      /* gone meanwhile */
    }
    out.push({
      pid,
      marker: env.slice(at + STEP_ENV.length + 1, end < 0 ? undefined : end),
      startTime: procStartTime(pid),
      command,
    })
  }
  return out
}
