// http(s) health check: status, body contains, latency. One attempt; the executor retries.
import type {HealthCheck} from '../schema/template.js'
import type {CheckResult} from './types.js'

type Http = Extract<HealthCheck, {type: 'http'}>

export async function runHttpCheck(check: Http, signal: AbortSignal, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now()
  const statuses = Array.isArray(check.status) ? check.status : [check.status]
  try {
    const res = await fetch(check.url, {
      method: check.method,
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    })
    const body =
      check.bodyContains !== undefined && check.method !== 'HEAD' ? await res.text() : (await res.arrayBuffer(), '')
    const latencyMs = Math.round(performance.now() - started)
    const data = {status: res.status, latencyMs}
    if (!statuses.includes(res.status))
      return {
        status: 'failed',
        message: `${check.url}: status ${res.status}, expected ${statuses.join(' or ')}`,
        durationMs: latencyMs,
        data,
      }
    if (check.bodyContains !== undefined && !body.includes(check.bodyContains))
      return {
        status: 'failed',
        message: `${check.url}: body does not contain ${JSON.stringify(check.bodyContains)}`,
        durationMs: latencyMs,
        data,
      }
    if (check.maxLatencyMs !== undefined && latencyMs > check.maxLatencyMs)
      return {
        status: 'failed',
        message: `${check.url}: answered in ${latencyMs} ms, more than ${check.maxLatencyMs} ms`,
        durationMs: latencyMs,
        data,
      }
    return {status: 'passed', message: `${check.url}: ${res.status} in ${latencyMs} ms`, durationMs: latencyMs, data}
  } catch (e) {
    const err = e as Error & {cause?: {code?: string}}
    const why =
      err.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : err.name === 'AbortError'
          ? 'stopped'
          : (err.cause?.code ?? err.message)
    return {status: 'failed', message: `${check.url}: ${why}`, durationMs: Math.round(performance.now() - started)}
  }
}
