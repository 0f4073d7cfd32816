// Ports for the lab's servers: checked free before a server starts (portFree), and, for the tests and the cutover
// benchmark, reserved at run time so that two runs on one machine never start servers on the same port.
//
// A reservation is a lock file per port, /tmp/migrate-ports/<port>, holding the pid of the process that took it,
// created atomically (link(2) of a written file: it exists whole or not at all). Every run takes its ports through
// these files, so two runs racing for a port cannot both get it; a lock whose process is gone is taken over. The
// files coordinate only the processes that use them: a port is also checked free (portFree), each server checks that
// it is the one answering on its port, and onFreePorts starts again on another block when a port was taken anyway.
// Reservations last until released or until the process exits. The range lies below Linux's range for outgoing
// connections (32768-60999), where no client connection can hold a port, and apart from `migrate db lab up`'s.
import {randomInt} from 'node:crypto'
import {chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {MigrateError} from '../../errors.js'

/** The ports reservePorts hands out. */
export const RESERVABLE_PORTS = {from: 25000, to: 32767} as const

/** Not os.tmpdir(): the test runs each set their own TMPDIR, and the locks must be shared between runs. */
export const PORT_LOCK_DIR = '/tmp/migrate-ports'

/**
 * Whether 127.0.0.1:port is free: it can be bound exclusively (so nothing holds it, nor a wildcard address covering
 * it) and nothing answers a connection there. A lab server starts only on a port that passed this.
 */
export async function portFree(port: number): Promise<boolean> {
  const bindable = await new Promise<boolean>((resolve) => {
    const srv = net.createServer()
    srv.once('error', () => resolve(false))
    srv.listen({port, host: '127.0.0.1', exclusive: true}, () => srv.close(() => resolve(true)))
  })
  if (!bindable) return false
  const answers = await new Promise<boolean>((resolve) => {
    const c = net.connect({port, host: '127.0.0.1'})
    c.once('connect', () => (c.destroy(), resolve(true)))
    c.once('error', () => resolve(false))
  })
  return !answers
}

/** The error of a server start that finds its port held by another process (before it starts, or while it binds). */
export function portInUse(port: number, kind: string, seen?: string): MigrateError {
  return new MigrateError(
    `port ${port}, meant for the lab's ${kind}, is already in use on 127.0.0.1${seen ? ` (${seen})` : ''}: the lab starts its own servers and never uses one it did not start`,
    {
      code: 'LAB_PORT_IN_USE',
      hint: `Stop what listens there (ss -ltnp 'sport = :${port}'), or let the lab pick free ports (migrate db lab up without fixed ports)`,
    },
  )
}

/** Refuses a port something else uses: the lab never talks to, or changes, a server it did not start. */
export async function assertPortFree(port: number, kind: string): Promise<void> {
  if (!(await portFree(port))) throw portInUse(port, kind)
}

/** After a start: the server answering on the port must be the one started in its dir, else nothing is touched. */
export function notOurs(kind: string, port: number, seen: string): MigrateError {
  return new MigrateError(
    `the ${kind} answering on port ${port} is not the one the lab started (${seen}): another process took the port; the lab leaves it alone`,
    {code: 'LAB_FOREIGN_SERVER', hint: 'Run the lab again: it picks ports that are free'},
  )
}

/** Whether a server start failed because another process had or took one of its ports (so another port may do). */
export function isPortTaken(e: unknown): boolean {
  if (e instanceof MigrateError) return e.code === 'LAB_PORT_IN_USE' || e.code === 'LAB_FOREIGN_SERVER'
  return /EADDRINUSE|address already in use|could not bind|cannot bind/i.test(String((e as Error)?.message ?? e))
}

function noFreePorts(count: number, from: number, to: number, kind: string): MigrateError {
  return new MigrateError(`no ${count} consecutive free port(s) for the lab's ${kind} in ${from}-${to}`, {
    code: 'LAB_NO_FREE_PORT',
    hint: 'Free some ports in that range, or stop labs you no longer use (migrate db lab down --dir DIR)',
  })
}

/**
 * The first `count` consecutive ports from `from` (up to `to`) that are all free and reserved by no other process;
 * refuses when there are none. They stay reserved for this process (releasePorts, or its exit).
 */
export async function freePorts(count: number, from: number, to: number, kind: string): Promise<number> {
  for (let p = from; p + count - 1 <= to; p++) if (await takeBlock(p, count)) return p
  throw noFreePorts(count, from, to, kind)
}

/**
 * `count` consecutive ports of RESERVABLE_PORTS, free and reserved for this process (until releasePorts or its exit);
 * the search starts at a random port, so that runs starting together seldom contend for the same locks.
 */
export async function reservePorts(count = 1): Promise<number> {
  const {from, to} = RESERVABLE_PORTS
  const span = to - from + 1 - (count - 1)
  const start = randomInt(span)
  for (let i = 0; i < span; i++) {
    const base = from + ((start + i) % span)
    if (await takeBlock(base, count)) return base
  }
  throw noFreePorts(count, from, to, 'servers')
}

/**
 * Runs `start(base)` on `count` consecutive reserved ports (base, base + 1, …) and returns what it returns. When the
 * start fails because a port was taken after all (by a process that takes no reservations: isPortTaken), it runs
 * again on another block, up to `tries` times; the ports of a failed start are released.
 */
export async function onFreePorts<T>(count: number, start: (base: number) => Promise<T>, tries = 5): Promise<T> {
  for (let k = 1; ; k++) {
    const base = await reservePorts(count)
    try {
      return await start(base)
    } catch (e) {
      releasePorts(base, count)
      if (!isPortTaken(e) || k >= tries) throw e
    }
  }
}

/** onFreePorts for a server on one port. */
export function onFreePort<T>(start: (port: number) => Promise<T>, tries = 5): Promise<T> {
  return onFreePorts(1, start, tries)
}

/** Gives back this process's reservations of `count` ports from `base`. */
export function releasePorts(base: number, count = 1): void {
  for (let p = base; p < base + count; p++) unlock(p)
}

const held = new Set<number>()

/** Gives back every reservation of this process (also done when it exits normally; a killed one's are stale). */
export function releaseAllPorts(): void {
  for (const p of [...held]) unlock(p)
}

/**
 * Reserves the `count` ports from `base` for this process when each is free and reserved by no other process;
 * on any failure gives back what it took.
 */
export async function takeBlock(base: number, count: number): Promise<boolean> {
  const taken: number[] = []
  let ok = true
  for (let p = base; p < base + count && ok; p++) {
    ok = lock(p)
    if (ok) taken.push(p)
    ok &&= await portFree(p)
  }
  if (!ok) for (const p of taken) unlock(p)
  return ok
}

function lockFile(port: number): string {
  return path.join(PORT_LOCK_DIR, String(port))
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Whether a lock file belongs to no live process (a run that was killed); unreadable ones count as held. */
function stale(file: string): boolean {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim())
    if (Number.isInteger(pid) && pid > 0) return !alive(pid)
    return Date.now() - statSync(file).mtimeMs > 60_000
  } catch {
    return false
  }
}

let setUp = false

function setUpLocks(): void {
  if (setUp) return
  setUp = true
  mkdirSync(PORT_LOCK_DIR, {recursive: true})
  // Shared by every user's runs; the sticky bit keeps one from removing another's live locks.
  try {
    chmodSync(PORT_LOCK_DIR, 0o1777)
  } catch {}
  process.on('exit', releaseAllPorts)
}

/** Takes the lock of `port` for this process (a stale one is taken over); false when another process holds it. */
function lock(port: number): boolean {
  if (held.has(port)) return false
  setUpLocks()
  const file = lockFile(port)
  const mine = path.join(PORT_LOCK_DIR, `.${process.pid}-${port}`)
  writeFileSync(mine, `${process.pid}\n`)
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, file)
        held.add(port)
        return true
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !stale(file)) return false
        try {
          unlinkSync(file)
        } catch {}
      }
    }
    return false
  } finally {
    unlinkSync(mine)
  }
}

function unlock(port: number): void {
  if (!held.delete(port)) return
  try {
    unlinkSync(lockFile(port))
  } catch {}
}

/** Waits until something accepts connections on host:port. */
export async function waitPort(port: number, host = '127.0.0.1', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({port, host})
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
