// Built-in health checks against real local peers: an HTTP server and TCP ports on 127.0.0.1 (the server's
// own port 0, a reserved port for the refused one),
// and real commands. Results are values: a failure never throws.
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCheck} from '../../src/health/index.js'
import {freePort} from '../helpers/ports.js'

let server: http.Server
let port = 0
const signal = new AbortController().signal

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('slow ok'), 300)
    if (req.url === '/down') return void res.writeHead(503).end('maintenance')
    res.end('{"status":"UP"}')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('health checks', () => {
  it('http: status, body and latency', async () => {
    expect(
      await runCheck(
        {type: 'http', method: 'GET', url: `http://127.0.0.1:${port}/`, status: 200, bodyContains: 'UP'},
        signal,
      ),
    ).toMatchObject({status: 'passed'})
    const down = await runCheck(
      {type: 'http', method: 'GET', url: `http://127.0.0.1:${port}/down`, status: [200, 204]},
      signal,
    )
    expect(down).toMatchObject({status: 'failed', data: {status: 503}})
    expect(down.message).toMatch(/status 503, expected 200 or 204/)
    const body = await runCheck(
      {type: 'http', method: 'GET', url: `http://127.0.0.1:${port}/`, status: 200, bodyContains: 'DOWN'},
      signal,
    )
    expect(body.message).toMatch(/body does not contain "DOWN"/)
    const slow = await runCheck(
      {type: 'http', method: 'GET', url: `http://127.0.0.1:${port}/slow`, status: 200, maxLatencyMs: 50},
      signal,
    )
    expect(slow.status).toBe('failed')
    expect(slow.message).toMatch(/more than 50 ms/)
    const timeout = await runCheck(
      {type: 'http', method: 'GET', url: `http://127.0.0.1:${port}/slow`, status: 200, timeout: '100ms'},
      signal,
    )
    expect(timeout.message).toMatch(/no answer within 100 ms/)
  })

  it('tcp: open and refused ports', async () => {
    expect(await runCheck({type: 'tcp', host: '127.0.0.1', port}, signal)).toMatchObject({status: 'passed'})
    // A reserved port nothing listens on (no other run starts a server there).
    const refused = await runCheck({type: 'tcp', host: '127.0.0.1', port: String(await freePort())}, signal)
    expect(refused.status).toBe('failed')
    expect(refused.message).toMatch(/refused \(ECONNREFUSED\)/)
  })

  it('command: exit code, output contains and matches', async () => {
    expect(
      await runCheck(
        {
          type: 'command',
          run: ['sh', '-c', 'echo READY_FOR_TEST'],
          exitCode: 0,
          outputMatches: '^READY_FOR_(TEST|CUTOVER)$',
        },
        signal,
      ),
    ).toMatchObject({status: 'passed'})
    expect(
      (
        await runCheck(
          {type: 'command', run: ['sh', '-c', 'echo NOT_READY'], exitCode: 0, outputMatches: '^READY'},
          signal,
        )
      ).message,
    ).toMatch(/does not match/)
    expect((await runCheck({type: 'command', run: ['sh', '-c', 'exit 3'], exitCode: 0}, signal)).message).toMatch(
      /exit code 3, expected 0/,
    )
    expect((await runCheck({type: 'command', run: ['no-such-program-xyz'], exitCode: 0}, signal)).status).toBe('failed')
  })
})
