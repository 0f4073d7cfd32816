// The shipped Alibaba Cloud SMC template, run by the executor. The aliyun CLI is a Go binary that is not packaged for
// this machine, so a stand-in `aliyun` program (first on PATH) answers the SMC/ECS RPC actions the template calls
// with the JSON shapes the real API returns, and logs every call. The test checks the argv the template builds, that
// captures (source id, job id, image ids, instance ids) flow from one step to the next, and the order of the flow.
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {executeWave} from '../../src/executor/engine.js'
import {makePlanDir} from './helpers.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const bin = mkdtempSync(path.join(os.tmpdir(), 'migrate-aliyun-'))
const state = path.join(bin, 'state.json')
const log = path.join(bin, 'calls.log')
let srv: http.Server
let health = ''

const FAKE = `#!/usr/bin/env node
const fs = require('fs')
const [svc, action, ...rest] = process.argv.slice(2)
const arg = (k) => { const i = rest.indexOf('--' + k); return i < 0 ? undefined : rest[i + 1] }
const st = fs.existsSync(${JSON.stringify(state)}) ? JSON.parse(fs.readFileSync(${JSON.stringify(state)}, 'utf8')) : {jobs: {}, n: 0}
const save = () => fs.writeFileSync(${JSON.stringify(state)}, JSON.stringify(st))
fs.appendFileSync(${JSON.stringify(log)}, [svc, action, ...rest].join(' ') + '\\n')
const out = (v) => { save(); console.log(JSON.stringify(v, null, 2)) }
switch (svc + ' ' + action) {
  case 'ecs DescribeRegions': out({Regions: {Region: [{RegionId: arg('RegionId')}]}}); break
  case 'smc DescribeSourceServers': out({TotalCount: 1, SourceServers: {SourceServer: [{SourceId: 's-bp1smc000000001', Name: arg('Name'), State: 'Available'}]}}); break
  case 'smc CreateReplicationJob': { const id = 'j-bp1job00000000' + (++st.n); st.jobs[id] = {Status: 'Waiting', ImageId: 'm-bp1test000000001'}; out({JobId: id, RequestId: 'r'}); break }
  case 'smc DescribeReplicationJobs': { const id = arg('JobId.1'); out({ReplicationJobs: {ReplicationJob: [{JobId: id, ...st.jobs[id]}]}}); break }
  case 'smc CutOverReplicationJob': { st.jobs[arg('JobId')] = {Status: 'Finished', ImageId: 'm-bp1final00000001'}; out({RequestId: 'r'}); break }
  case 'ecs RunInstances': out({InstanceIdSets: {InstanceIdSet: ['i-' + arg('InstanceName')]}, RequestId: 'r'}); break
  case 'ecs DescribeInstanceStatus': out({InstanceStatuses: {InstanceStatus: [{InstanceId: arg('InstanceId.1'), Status: 'Running'}]}}); break
  case 'ecs DeleteInstance': case 'smc DeleteReplicationJob': out({RequestId: 'r'}); break
  default: console.error('ERROR: unknown action ' + svc + ' ' + action); process.exit(1)
}
`

beforeAll(async () => {
  writeFileSync(path.join(bin, 'aliyun'), FAKE)
  chmodSync(path.join(bin, 'aliyun'), 0o755)
  process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`
  srv = http.createServer((_req, res) => res.end('ok'))
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  health = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/health`
})
afterAll(() => new Promise<void>((r) => srv.close(() => r())))

describe('alicloud-smc-rehost template', () => {
  it('replicates, tests, cuts over and finalizes, passing captured ids from step to step', async () => {
    const text = readFileSync(path.join(ROOT, 'templates/alicloud-smc-rehost.yaml'), 'utf8')
      .replace('duration: 30m', 'duration: 1s')
      .replace(/interval: (5m|2m|1m|30s)/g, 'interval: 300ms')
    const dir = makePlanDir({
      apps: [
        {
          name: 'search',
          template: 'alicloud-smc-rehost',
          servers: [{id: 'search-01', hostname: 'search-01.dc1.example'}],
          params: {vSwitchId: 'vsw-bp1test', securityGroupId: 'sg-bp1test', healthUrl: health},
        },
      ],
    })
    mkdirSync(path.join(dir, 'templates'), {recursive: true})
    writeFileSync(path.join(dir, 'templates', 'alicloud-smc-rehost.yaml'), text)
    const r1 = await executeWave({planDir: dir, wave: 1, yes: true})
    // One unit per server of the application (a per-server runbook).
    expect(r1.apps.map((a) => a.app)).toEqual(['search:search-01'])
    expect(r1.apps[0].outcome, r1.apps[0].message).toBe('waiting-gate')
    const r2 = await executeWave({planDir: dir, wave: 1, approve: ['finalize']})
    expect(r2.apps[0].outcome, r2.apps[0].message).toBe('done')
    const calls = readFileSync(log, 'utf8').trim().split('\n')
    const actions = calls
      .map((c) => c.split(' ').slice(0, 2).join(' '))
      .filter((a) => !/Describe(ReplicationJobs|InstanceStatus)/.test(a))
    expect(actions).toEqual([
      'ecs DescribeRegions',
      'smc DescribeSourceServers',
      'smc CreateReplicationJob',
      'ecs RunInstances',
      'smc CutOverReplicationJob',
      'ecs RunInstances',
      'ecs DeleteInstance',
      'ecs DescribeRegions',
      'smc DeleteReplicationJob',
    ])
    expect(calls).toContain(
      'smc CreateReplicationJob --RegionId ap-southeast-3 --SourceId s-bp1smc000000001 --TargetType Image --Name migrate-search-search-01-w1 --ImageName migrate-search-search-01 --RunOnce false --Frequency 12 --MaxNumberOfImageToKeep 3',
    )
    expect(calls).toContain(
      'ecs RunInstances --RegionId ap-southeast-3 --ImageId m-bp1test000000001 --InstanceType t3.small --VSwitchId vsw-bp1test --SecurityGroupId sg-bp1test --InstanceName search-01-test --Amount 1',
    )
    expect(calls).toContain(
      'ecs RunInstances --RegionId ap-southeast-3 --ImageId m-bp1final00000001 --InstanceType t3.small --VSwitchId vsw-bp1test --SecurityGroupId sg-bp1test --InstanceName search-01 --Amount 1',
    )
    expect(calls).toContain('ecs DeleteInstance --InstanceId i-search-01-test --Force true')
    expect(calls.at(-1)).toBe('smc DeleteReplicationJob --RegionId ap-southeast-3 --JobId j-bp1job000000001')
  }, 120_000)
})
