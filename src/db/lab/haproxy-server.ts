// The lab's HAProxy: the TCP proxy in front of a MariaDB or Redis lab, repointed through its runtime API.
import {execa} from 'execa'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {assertPortFree, portInUse, waitPort} from './ports.js'
import {killPidFile, type ServerHandle, tempDir, track} from './server-handle.js'

export interface HaproxyOptions {
  /** The runtime API (stats socket, level admin) listens on 127.0.0.1:apiPort. */
  apiPort: number
  /** Frontend port → backend server address. */
  frontends: {name: string; port: number; server: {host: string; port: number}}[]
}

export interface HaproxyHandle extends ServerHandle {
  /** host:port of the runtime API. */
  api: string
}

/** HAProxy in TCP mode, one backend per frontend with one server named `db`; the runtime API on apiPort. */
export async function startHaproxy(opts: HaproxyOptions): Promise<HaproxyHandle> {
  await assertPortFree(opts.apiPort, 'HAProxy runtime API')
  for (const f of opts.frontends) await assertPortFree(f.port, `HAProxy frontend ${f.name}`)
  const dir = tempDir(`haproxy${opts.apiPort}`)
  const cfg = path.join(dir, 'haproxy.cfg')
  const lines = [
    'global',
    `  stats socket ipv4@127.0.0.1:${opts.apiPort} level admin`,
    `  pidfile ${path.join(dir, 'pid')}`,
    '  daemon',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 5m',
    '  timeout server 5m',
  ]
  for (const f of opts.frontends) {
    lines.push(`frontend ${f.name}`, `  bind 127.0.0.1:${f.port}`, `  default_backend ${f.name}_be`)
    lines.push(`backend ${f.name}_be`, `  server db ${f.server.host}:${f.server.port}`)
  }
  writeFileSync(cfg, lines.join('\n') + '\n')
  const started = await execa('haproxy', ['-f', cfg], {reject: false})
  if (started.exitCode !== 0) {
    rmSync(dir, {recursive: true, force: true})
    // Another process bound a port after the check: the caller may start again elsewhere (isPortTaken).
    if (/cannot bind|address already in use/i.test(started.stderr))
      throw portInUse(opts.apiPort, 'HAProxy', started.stderr.trim().slice(0, 200))
    throw new Error(`haproxy did not start: ${started.stderr.trim().slice(0, 800)}`)
  }
  await waitPort(opts.apiPort)
  const h = track({
    kind: 'haproxy',
    port: opts.apiPort,
    dir,
    url: `tcp://127.0.0.1:${opts.apiPort}`,
    async stop() {
      await killPidFile(path.join(dir, 'pid'), 'SIGKILL')
    },
  }) as HaproxyHandle
  h.api = `127.0.0.1:${opts.apiPort}`
  return h
}
