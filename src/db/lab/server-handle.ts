// What every lab server shares: its handle (stop() kills the process and removes its temp dir), the list of those
// still running (stopAll), its temp dir, and stopping a daemon from its pid file.
import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

export interface ServerHandle {
  kind: 'postgres' | 'mariadb' | 'redis' | 'pgbouncer' | 'haproxy'
  port: number
  dir: string
  /** Connection URL for an administrator (superuser / root), no password. */
  url: string
  stop(): Promise<void>
}

const running = new Set<ServerHandle>()

export async function stopAll(): Promise<void> {
  for (const h of [...running].reverse()) await h.stop().catch(() => {})
}

/** Makes `stop()` run once, forget the server and remove its dir; stopAll() stops it if nothing else did. */
export function track(h: ServerHandle): ServerHandle {
  const stop = h.stop
  let stopped = false
  h.stop = async () => {
    if (stopped) return
    stopped = true
    running.delete(h)
    try {
      await stop()
    } finally {
      rmSync(h.dir, {recursive: true, force: true})
    }
  }
  running.add(h)
  return h
}

/** A new dir for one server under the temp dir, readable by the users the servers run as. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `migrate-${prefix}-`))
  chmodSync(dir, 0o755)
  return dir
}

/** Signals the process in `pidFile` and waits up to `waitMs` for it to end, then kills it. */
export async function killPidFile(pidFile: string, signal: NodeJS.Signals = 'SIGTERM', waitMs = 10_000): Promise<void> {
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
  if (!pid) return
  try {
    process.kill(pid, signal)
  } catch {
    return
  }
  const deadline = Date.now() + waitMs
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}
