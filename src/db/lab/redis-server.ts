// The lab's Redis 7: a throwaway server without persistence in its own temp dir.
import {execa} from 'execa'
import {rmSync} from 'node:fs'
import path from 'node:path'
import {assertPortFree, notOurs, waitPort} from './ports.js'
import {killPidFile, type ServerHandle, tempDir, track} from './server-handle.js'

/** A Redis 7 server without persistence. */
export async function startRedis(opts: {port: number}): Promise<ServerHandle> {
  await assertPortFree(opts.port, 'Redis')
  const dir = tempDir(`redis${opts.port}`)
  await execa('redis-server', [
    '--port',
    String(opts.port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--repl-diskless-sync-delay',
    '0',
    '--daemonize',
    'yes',
    '--pidfile',
    path.join(dir, 'pid'),
    '--logfile',
    path.join(dir, 'log'),
  ])
  await waitPort(opts.port)
  // --daemonize returns before the child binds: if another server took the port meanwhile, it answers here.
  const seen = await execa('redis-cli', ['-p', String(opts.port), '--raw', 'CONFIG', 'GET', 'dir'], {
    reject: false,
    timeout: 5000,
  })
  if (seen.stdout.split('\n')[1] !== dir) {
    await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
    rmSync(dir, {recursive: true, force: true})
    throw notOurs('Redis', opts.port, `dir ${seen.stdout.split('\n')[1] ?? seen.stderr.trim()}`)
  }
  return track({
    kind: 'redis',
    port: opts.port,
    dir,
    url: `redis://127.0.0.1:${opts.port}`,
    async stop() {
      await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
    },
  })
}
