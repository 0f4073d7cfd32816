// Helpers for the managed-target tests: the ElastiCache stand-in (a Redis node that renames REPLICAOF, the API
// fixture) and its scenario; the ports come from the caller (onFreePorts, test/helpers/ports.ts).
import {execa} from 'execa'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {writePlanDir, type Scenario} from '../../src/db/lab/scenarios.js'
import {startHaproxy, startRedis, waitPort, type ServerHandle} from '../../src/db/lab/servers.js'
import {startElastiCacheFixture} from '../fixtures/elasticache-server.mjs'
import {assertPortFree, portInUse} from '../../src/db/lab/ports.js'
import {ROOT} from './helpers.js'

/** A redis-server as ElastiCache presents it to clients: REPLICAOF under a secret name, SLAVEOF/CONFIG/SYNC/PSYNC gone. */
export async function startElastiCacheNode(port: number, secret: string): Promise<ServerHandle> {
  await assertPortFree(port, 'ElastiCache node')
  const dir = mkdtempSync(path.join(tmpdir(), `migrate-ecnode${port}-`))
  await execa('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'yes',
    '--pidfile',
    path.join(dir, 'pid'),
    '--logfile',
    path.join(dir, 'log'),
    '--rename-command',
    'REPLICAOF',
    secret,
    '--rename-command',
    'SLAVEOF',
    '',
    '--rename-command',
    'CONFIG',
    '',
    '--rename-command',
    'SYNC',
    '',
    '--rename-command',
    'PSYNC',
    '',
  ])
  await waitPort(port)
  // A daemon that lost the port to another process says so in its log and exits (CONFIG is renamed: no asking it).
  if (/address already in use/i.test(readFileSync(path.join(dir, 'log'), 'utf8'))) {
    rmSync(dir, {recursive: true, force: true})
    throw portInUse(port, 'ElastiCache node')
  }
  return {
    kind: 'redis',
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await execa('redis-cli', ['-p', String(port), 'SHUTDOWN', 'NOSAVE'], {reject: false})
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** Seeds 2000 keys (seed:1 … seed:2000) on the Redis on `port`, for a migration to carry over. */
export async function seedRedisKeys(port: number): Promise<void> {
  await execa('redis-cli', [
    '-p',
    String(port),
    'EVAL',
    "for i=1,2000 do redis.call('SET', 'seed:'..i, i) end return 1",
    '0',
  ])
}

export type ElastiCacheScenario = Scenario & {fixture: Awaited<ReturnType<typeof startElastiCacheFixture>>}

/** Source redis (ours), an ElastiCache node behind the ElastiCache API fixture (group shop-cache), HAProxy → source. */
export async function setupElastiCache(base: number): Promise<ElastiCacheScenario> {
  const root = mkdtempSync(path.join(tmpdir(), 'migrate-lab-ec-'))
  const servers: ServerHandle[] = []
  // Each server is recorded as soon as it is up, so a failed setup stops what it started.
  const up = <T extends ServerHandle>(p: Promise<T>) => p.then((h) => (servers.push(h), h))
  const fail = async (e: unknown): Promise<never> => {
    for (const h of [...servers].reverse()) await h.stop().catch(() => {})
    rmSync(root, {recursive: true, force: true})
    throw e
  }
  const [src, node] = await Promise.all([
    up(startRedis({port: base})),
    up(startElastiCacheNode(base + 1, 'ec-internal-replicaof')),
  ]).catch(fail)
  await seedRedisKeys(src.port)
  const fixture = await startElastiCacheFixture({
    groups: {
      'shop-cache': {
        status: 'available',
        nodeType: 'cache.r6g.large',
        engineVersion: '7.0.7',
        multiAZ: true,
        transitEncryption: false,
        clusterEnabled: false,
        endpoint: {host: '127.0.0.1', port: node.port},
        renamed: {replicaof: 'ec-internal-replicaof'},
      },
    },
  })
  const proxy = await startHaproxy({
    apiPort: base + 2,
    frontends: [{name: 'redis', port: base + 3, server: {host: '127.0.0.1', port: src.port}}],
  }).catch(async (e) => (await fixture.close(), fail(e)))
  servers.push(proxy)
  const binDir = path.join(root, 'bin')
  mkdirSync(binDir, {recursive: true})
  symlinkSync(path.join(ROOT, 'bin', 'run.js'), path.join(binDir, 'migrate'))
  const params = {
    source_url: src.url,
    source_addr: `127.0.0.1:${src.port}`,
    replication_group_id: 'shop-cache',
    region: 'us-east-1',
    haproxy_api: `127.0.0.1:${base + 2}`,
    haproxy_server: 'redis_be/db',
    proxy_url: `redis://127.0.0.1:${base + 3}`,
  }
  const planDir = path.join(root, 'plan')
  writePlanDir(planDir, 'redis', 'redis-elasticache', params, {host: '127.0.0.1', port: src.port, name: 'cache'})
  const env = {
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_ELASTICACHE: fixture.url,
  }
  return {
    engine: 'redis',
    planDir,
    binDir,
    clientUrl: params.proxy_url,
    sourceUrl: src.url,
    targetUrl: node.url,
    sourceAdminUrl: src.url,
    targetAdminUrl: node.url,
    params,
    servers,
    env,
    fixture,
    async stop() {
      await fixture.close()
      for (const s of [...servers].reverse()) await s.stop().catch(() => {})
      rmSync(root, {recursive: true, force: true})
    },
  }
}
