// Shared by the discover suites: run the built CLI as a user would, in a temp directory.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {execa} from 'execa'
import {onFreePort, portInUse} from '../helpers/ports.js'

export const ROOT = path.resolve(__dirname, '../..')
export const BIN = path.join(ROOT, 'bin/run.js')

export function tempDir(prefix = 'migrate-discover-'): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

/** Runs `migrate …` with only the environment given (plus PATH and a throwaway HOME), never the caller's credentials. */
export async function migrate(args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  const home = env.HOME ?? mkdtempSync(path.join(tmpdir(), 'migrate-home-'))
  try {
    const r = await execa('node', [BIN, ...args], {
      cwd,
      reject: false,
      extendEnv: false,
      env: {PATH: process.env.PATH ?? '', HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...env},
    })
    return {
      exitCode: r.exitCode,
      stdout: String(r.stdout),
      stderr: String(r.stderr),
      firstLine: String(r.stderr).split('\n')[0],
    }
  } finally {
    if (!env.HOME) rmSync(home, {recursive: true, force: true})
  }
}

export async function waitForPort(port: number, host = '127.0.0.1', ms = 10_000): Promise<void> {
  const net = await import('node:net')
  const until = Date.now() + ms
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host, () => {
        s.end()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listens on ${host}:${port}`)
}

/** A throwaway redis-server on a reserved port (checked: the redis-server started is the one listening), without persistence. */
export async function startRedis(extra: string[] = []): Promise<{port: number; stop: () => Promise<void>}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'migrate-redis-'))
  return onFreePort(async (port) => {
    const p = execa(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra],
      {reject: false},
    )
    await waitForPort(port).catch(() => undefined)
    // A redis-server that found the port taken exits at once: give it that moment before asking.
    await new Promise((r) => setTimeout(r, 100))
    if (p.exitCode !== null) throw portInUse(port, 'Redis')
    return {
      port,
      stop: async () => {
        p.kill('SIGTERM')
        await p
        rmSync(dir, {recursive: true, force: true})
      },
    }
  })
}
