// tcp health check: can a connection be opened to host:port within the timeout.
import net from 'node:net'
import type {CheckResult} from './types.js'

export function runTcpCheck(host: string, port: number, signal: AbortSignal, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now()
  return new Promise((resolve) => {
    const sock = net.connect({host, port})
    let done = false
    const finish = (ok: boolean, why: string): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      sock.destroy()
      const ms = Math.round(performance.now() - started)
      resolve({
        status: ok ? 'passed' : 'failed',
        message: `${host}:${port} ${why}`,
        durationMs: ms,
        data: {latencyMs: ms},
      })
    }
    const onAbort = (): void => finish(false, 'stopped')
    const timer = setTimeout(() => finish(false, `no connection within ${timeoutMs} ms`), timeoutMs)
    signal.addEventListener('abort', onAbort, {once: true})
    sock.once('connect', () => finish(true, 'accepts connections'))
    sock.once('error', (e: NodeJS.ErrnoException) => finish(false, `refused (${e.code ?? e.message})`))
  })
}
