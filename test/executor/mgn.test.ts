// The shipped AWS MGN template, run by the executor through the real AWS CLI against a local endpoint that speaks
// MGN's REST-JSON protocol (and STS's query protocol for the credentials pre-flight). The endpoint keeps each source
// server's lifecycle, so the test sees the template drive READY_FOR_TEST → TESTING → READY_FOR_CUTOVER →
// CUTTING_OVER → CUTOVER, and a failed verification revert it in reverse.
import {readFileSync, writeFileSync, mkdirSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {executeWave} from '../../src/executor/engine.js'
import {whichProgram} from '../../src/process/which.js'
import {makePlanDir} from './helpers.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const HAS_AWS = whichProgram('aws')

interface Server {
  sourceServerID: string
  isArchived: boolean
  lifeCycle: {state: string}
  sourceProperties: {identificationHints: {hostname: string}}
  launchedInstance?: {ec2InstanceID: string; firstBoot: string}
}

const servers = new Map<string, Server>()
const calls: string[] = []
/** "Operation source-server-id" pairs that answer 409 ConflictException (a launch MGN refuses) while listed. */
const refuse = new Set<string>()
let endpoint = ''
let srv: http.Server

function addServer(id: string, hostname: string): void {
  servers.set(id, {
    sourceServerID: id,
    isArchived: false,
    lifeCycle: {state: 'READY_FOR_TEST'},
    sourceProperties: {identificationHints: {hostname}},
  })
}

beforeAll(async () => {
  srv = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const url = req.url ?? '/'
      if (req.method === 'GET' && url.startsWith('/health/')) {
        const ok = url.endsWith('/up')
        res.writeHead(ok ? 200 : 503).end(ok ? 'ok' : 'down')
        return
      }
      if (url === '/' && body.includes('Action=GetCallerIdentity')) {
        calls.push('sts:GetCallerIdentity')
        res.setHeader('content-type', 'text/xml')
        res.end(
          '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ops</Arn><UserId>AIDATEST</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
        )
        return
      }
      const op = url.replace(/^\//, '').split('?')[0]
      const input = body ? JSON.parse(body) : {}
      const ids: string[] = input.sourceServerIDs ?? (input.sourceServerID ? [input.sourceServerID] : [])
      const json = (v: unknown): void => {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify(v))
      }
      const label = op === 'ChangeServerLifeCycleState' ? `${op}:${input.lifeCycle?.state}` : op
      if (op !== 'DescribeSourceServers') calls.push(`${label} ${ids.join(',')}`)
      for (const id of ids) {
        const s = servers.get(id)
        if (refuse.has(`${label} ${id}`)) {
          calls.push(`refused ${label} ${id}`)
          res.writeHead(409, {'x-amzn-errortype': 'ConflictException', 'content-type': 'application/json'})
          return res.end(
            JSON.stringify({
              message: `Cannot ${op} source server ${id} in its current state`,
              code: 'ConflictException',
            }),
          )
        }
        if (!s) {
          res.writeHead(404, {'x-amzn-errortype': 'ResourceNotFoundException'})
          return json({message: `no source server ${id}`})
        }
        if (op === 'StartTest')
          Object.assign(s, {
            lifeCycle: {state: 'TESTING'},
            launchedInstance: {ec2InstanceID: 'i-0test0000000000001', firstBoot: 'SUCCEEDED'},
          })
        if (op === 'StartCutover')
          Object.assign(s, {
            lifeCycle: {state: 'CUTTING_OVER'},
            launchedInstance: {ec2InstanceID: 'i-0cut00000000000001', firstBoot: 'SUCCEEDED'},
          })
        if (op === 'ChangeServerLifeCycleState') s.lifeCycle = {state: input.lifeCycle.state}
        if (op === 'FinalizeCutover') s.lifeCycle = {state: 'CUTOVER'}
        if (op === 'TerminateTargetInstances') delete s.launchedInstance
        if (op === 'MarkAsArchived') s.isArchived = true
      }
      if (op === 'DescribeSourceServers') {
        const want: string[] | undefined = input.filters?.sourceServerIDs
        return json({items: [...servers.values()].filter((s) => !want || want.includes(s.sourceServerID))})
      }
      if (op.startsWith('Start') || op === 'TerminateTargetInstances')
        return json({job: {jobID: 'mgnjob-0000000000000001', type: 'LAUNCH', status: 'STARTED'}})
      return json(servers.get(ids[0]) ?? {})
    })
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  endpoint = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIATESTTESTTESTTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_MGN: endpoint,
    AWS_ENDPOINT_URL_STS: endpoint,
  })
})

afterAll(() => new Promise<void>((r) => srv.close(() => r())))

/** The shipped template with its 30 min soak and long waits shortened (a plan-local template overrides the package's). */
function planWith(apps: {name: string; host: string; health: string; hosts?: string[]}[]): string {
  const text = readFileSync(path.join(ROOT, 'templates/aws-mgn-rehost.yaml'), 'utf8')
    .replace('duration: 30m', 'duration: 1s')
    .replace(/interval: (1m|30s|2m)/g, 'interval: 500ms')
    .replace(/deadline: 30m/g, 'deadline: 2s')
  const dir = makePlanDir({
    apps: apps.map((a) => ({
      name: a.name,
      template: 'aws-mgn-rehost',
      servers: (a.hosts ?? [a.host]).map((h, k) => ({id: `${a.name}-0${k + 1}`, hostname: h})),
      params: {healthUrl: `${endpoint}/health/${a.health}`},
    })),
  })
  mkdirSync(path.join(dir, 'templates'), {recursive: true})
  writeFileSync(path.join(dir, 'templates', 'aws-mgn-rehost.yaml'), text)
  return dir
}

describe.skipIf(!HAS_AWS)('aws-mgn-rehost template (real AWS CLI, local MGN endpoint)', () => {
  it('drives the MGN lifecycle to CUTOVER, with gates; a failed verification reverts in reverse', async () => {
    addServer('s-0aaaaaaaaaaaaaaa1', 'pay-01.dc1.example')
    addServer('s-0bbbbbbbbbbbbbbb2', 'cart-01.dc1.example')
    const dir = planWith([
      {name: 'payments', host: 'pay-01.dc1.example', health: 'up'},
      {name: 'cart', host: 'cart-01.dc1.example', health: 'down'},
    ])
    const r1 = await executeWave({planDir: dir, wave: 1, yes: true, concurrency: 2})
    expect(r1.preflight.filter((f) => f.severity === 'blocker')).toEqual([])
    expect(calls).toContain('sts:GetCallerIdentity')
    const pay = r1.apps.find((a) => a.app === 'payments:payments-01')!
    expect(pay.outcome, pay.message).toBe('waiting-gate')
    expect(pay.message).toMatch(/finalize-cutover/)
    expect(servers.get('s-0aaaaaaaaaaaaaaa1')!.lifeCycle.state).toBe('CUTTING_OVER')
    const cart = r1.apps.find((a) => a.app === 'cart:cart-01')!
    expect(cart.outcome, cart.message).toBe('rolled-back')
    expect(cart.message).toMatch(/verify failed/)
    expect(calls.filter((c) => c.endsWith('s-0bbbbbbbbbbbbbbb2'))).toEqual([
      'StartTest s-0bbbbbbbbbbbbbbb2',
      'ChangeServerLifeCycleState:READY_FOR_CUTOVER s-0bbbbbbbbbbbbbbb2',
      'StartCutover s-0bbbbbbbbbbbbbbb2',
      // rollback, newest first
      'TerminateTargetInstances s-0bbbbbbbbbbbbbbb2',
      'ChangeServerLifeCycleState:READY_FOR_CUTOVER s-0bbbbbbbbbbbbbbb2',
      'ChangeServerLifeCycleState:READY_FOR_TEST s-0bbbbbbbbbbbbbbb2',
      'TerminateTargetInstances s-0bbbbbbbbbbbbbbb2',
    ])
    expect(servers.get('s-0bbbbbbbbbbbbbbb2')!.lifeCycle.state).toBe('READY_FOR_TEST')

    const r2 = await executeWave({planDir: dir, wave: 1, apps: ['payments'], approve: ['finalize-cutover']})
    expect(r2.apps[0].outcome, r2.apps[0].message).toBe('done')
    expect(servers.get('s-0aaaaaaaaaaaaaaa1')!.lifeCycle.state).toBe('CUTOVER')
    expect(calls.filter((c) => c.endsWith('s-0aaaaaaaaaaaaaaa1'))).toEqual([
      'StartTest s-0aaaaaaaaaaaaaaa1',
      'ChangeServerLifeCycleState:READY_FOR_CUTOVER s-0aaaaaaaaaaaaaaa1',
      'StartCutover s-0aaaaaaaaaaaaaaa1',
      'FinalizeCutover s-0aaaaaaaaaaaaaaa1',
    ])
  }, 180_000)

  it('an application on three servers: one unit each; a refused test launch holds the others before cutover; the rerun cuts all three over', async () => {
    const ids = ['s-0ddddddddddddddd1', 's-0ddddddddddddddd2', 's-0ddddddddddddddd3']
    const hosts = ['ord-01.dc1.example', 'ord-02.dc1.example', 'ord-03.dc1.example']
    ids.forEach((id, k) => {
      addServer(id, hosts[k])
    })
    refuse.add(`StartTest ${ids[1]}`)
    const dir = planWith([{name: 'orders', host: hosts[0], hosts, health: 'up'}])
    const mine = () => calls.filter((c) => ids.some((id) => c.endsWith(id)))
    const r1 = await executeWave({planDir: dir, wave: 1, yes: true, concurrency: 3})
    expect(r1.apps.map((a) => [a.app, a.outcome])).toEqual([
      ['orders:orders-01', 'held'],
      ['orders:orders-02', 'rolled-back'],
      ['orders:orders-03', 'held'],
    ])
    expect(r1.apps[0].message).toMatch(/held before cutover: orders:orders-02 failed and was rolled back/)
    expect(mine().filter((c) => c.startsWith('StartCutover'))).toEqual([])
    expect(servers.get(ids[0])!.lifeCycle.state).toBe('READY_FOR_CUTOVER')
    expect(servers.get(ids[2])!.lifeCycle.state).toBe('READY_FOR_CUTOVER')
    expect(servers.get(ids[1])!.lifeCycle.state).toBe('READY_FOR_TEST')

    refuse.clear()
    const r2 = await executeWave({planDir: dir, wave: 1, yes: true, concurrency: 3})
    expect(r2.apps.map((a) => [a.app, a.outcome])).toEqual([
      ['orders:orders-01', 'waiting-gate'],
      ['orders:orders-02', 'waiting-gate'],
      ['orders:orders-03', 'waiting-gate'],
    ])
    expect(
      mine()
        .filter((c) => c.startsWith('StartCutover'))
        .sort(),
    ).toEqual(ids.map((id) => `StartCutover ${id}`))
    // The held servers were tested once; the refused one after it was refused.
    expect(mine().filter((c) => c === `StartTest ${ids[0]}`)).toHaveLength(1)
    const refusals = mine().filter((c) => c === `refused StartTest ${ids[1]}`).length
    expect(refusals).toBeGreaterThan(0)
    expect(mine().filter((c) => c === `StartTest ${ids[1]}`)).toHaveLength(refusals + 1)
    for (const id of ids) expect(servers.get(id)!.lifeCycle.state).toBe('CUTTING_OVER')
  }, 180_000)
})
