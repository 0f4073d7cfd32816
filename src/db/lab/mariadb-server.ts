// The lab's MariaDB (Debian's binaries): a throwaway server with binlog and GTID in its own temp dir.
import {execa, type ResultPromise} from 'execa'
import {existsSync, mkdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {assertPortFree, portInUse} from './ports.js'
import {killPidFile, type ServerHandle, tempDir, track} from './server-handle.js'

export interface MariaOptions {
  port: number
  serverId: number
  /** Keep running after this process exits (the local lab); stop it from its pid file. */
  detached?: boolean
}

/** A MariaDB server with binlog (ROW), GTID strict mode, log_slave_updates; root@127.0.0.1 without password. */
export async function startMariadb(opts: MariaOptions): Promise<ServerHandle> {
  await assertPortFree(opts.port, 'MariaDB')
  const dir = tempDir(`maria${opts.port}`)
  const data = path.join(dir, 'data')
  const sock = path.join(dir, 'sock')
  // Each server gets its own tmpdir: two bootstraps sharing /tmp can trip over each other's temporary tables.
  const tmp = path.join(dir, 'tmp')
  mkdirSync(tmp)
  await execa(
    'mariadb-install-db',
    [
      '--no-defaults',
      '--user=root',
      `--datadir=${data}`,
      `--tmpdir=${tmp}`,
      '--auth-root-authentication-method=socket',
      '--skip-test-db',
    ],
    {env: {LC_ALL: 'C', TMPDIR: tmp}},
  )
  const child = execa(
    'mariadbd',
    [
      '--no-defaults',
      '--user=root',
      `--datadir=${data}`,
      `--tmpdir=${tmp}`,
      `--socket=${sock}`,
      `--port=${opts.port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${path.join(dir, 'pid')}`,
      `--server-id=${opts.serverId}`,
      `--log-bin=${path.join(data, 'bin')}`,
      '--binlog-format=ROW',
      '--gtid-strict-mode=1',
      '--log-slave-updates=1',
      '--skip-name-resolve',
      '--innodb-flush-log-at-trx-commit=0',
      '--sync-binlog=0',
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--performance-schema=0',
      `--log-error=${path.join(dir, 'err.log')}`,
    ],
    {reject: false, stdio: 'ignore', detached: !!opts.detached, cleanup: !opts.detached},
  )
  child.catch(() => {})
  if (opts.detached) child.unref()
  const deadline = Date.now() + 30_000
  for (;;) {
    const r = await execa('mariadb', ['--no-defaults', '-S', sock, '-u', 'root', '-e', 'SELECT 1'], {reject: false})
    if (r.exitCode === 0) break
    if (Date.now() > deadline || child.exitCode !== null) await notStarted(opts.port, dir, child)
    await new Promise((r) => setTimeout(r, 100))
  }
  await execa('mariadb', [
    '--no-defaults',
    '-S',
    sock,
    '-u',
    'root',
    '-e',
    "CREATE USER root@'127.0.0.1'; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES",
  ])
  return track({
    kind: 'mariadb',
    port: opts.port,
    dir,
    url: `mysql://root@127.0.0.1:${opts.port}/`,
    async stop() {
      child.kill('SIGKILL')
      await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
      await child.catch(() => {})
    },
  })
}

/** A mariadbd that did not start is stopped and its dir removed; one that could not bind: LAB_PORT_IN_USE. */
async function notStarted(port: number, dir: string, child: ResultPromise): Promise<never> {
  const errLog = path.join(dir, 'err.log')
  const log = existsSync(errLog) ? readFileSync(errLog, 'utf8') : ''
  child.kill('SIGKILL')
  await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
  await child.catch(() => {})
  rmSync(dir, {recursive: true, force: true})
  if (/Bind on TCP\/IP port|address already in use/i.test(log)) throw portInUse(port, 'MariaDB', 'could not bind')
  throw new Error(`mariadbd on ${port} did not start: ${log.slice(-800)}`)
}

/** Runs SQL with the mariadb client as root over the server's socket; returns stdout (batch, no headers). */
export async function mariadb(h: ServerHandle, sql: string): Promise<string> {
  const r = await execa('mariadb', [
    '--no-defaults',
    '-S',
    path.join(h.dir, 'sock'),
    '-u',
    'root',
    '-N',
    '-B',
    '-e',
    sql,
  ])
  return r.stdout
}
