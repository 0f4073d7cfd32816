// `migrate db lab`: a local estate a person can migrate for real on one machine. `up` starts a source and a
// target server and the proxy in front (left running), and writes a plan directory; `load` writes through the
// proxy the way an application does and reports what it saw; `down` stops everything. lab.json records it all.
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {execa} from 'execa'
import {badInput} from '../../errors.js'
import {PG_BIN} from './servers.js'
import {lostWrites, startMariadbLoad, startPgLoad, startRedisLoad, type LoadStats} from './load.js'
import {freeLabPorts, type Ports, setupMariadb, setupPostgres, setupRedis, type Scenario} from './scenarios.js'

export type LabEngine = 'postgres' | 'mariadb' | 'redis'

export interface LabInfo {
  engine: LabEngine
  dir: string
  planDir: string
  clientUrl: string
  sourceUrl: string
  targetUrl: string
  /** PATH entry holding a `migrate` that runs this checkout. */
  binDir: string
  env: Record<string, string>
  servers: {kind: string; port: number; dir: string}[]
}

/** Preferred ports: the upper end of each range, away from the tests; others are picked when these are taken. */
const PORTS: Record<LabEngine, Ports> = {
  postgres: {db: 24398, proxy: 64398},
  mariadb: {db: 23398, proxy: 65396},
  redis: {db: 63398, proxy: 65398},
}

/** Starts a lab of `engine` in `dir` on `prefer`'s ports when they are free (the engine's defaults), else on free ones. */
export async function labUp(engine: LabEngine, dir: string, prefer: Ports = PORTS[engine]): Promise<LabInfo> {
  if (existsSync(path.join(dir, 'lab.json')))
    throw badInput(`${dir} already holds a lab`, 'LAB_EXISTS', `Stop it first: migrate db lab down --dir ${dir}`)
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw badInput(`${dir} is not empty`, 'LAB_DIR_NOT_EMPTY', 'Pass --dir with a new or empty directory')
  mkdirSync(dir, {recursive: true})
  const root = path.resolve(dir)
  // Every port is verified free first (another lab, a test, a system service may hold the defaults); each server
  // checks its own again when it starts, and a lab never uses or changes a server it did not start.
  const ports = await freeLabPorts(engine, prefer)
  const s: Scenario =
    engine === 'postgres'
      ? await setupPostgres(ports, {root})
      : engine === 'mariadb'
        ? await setupMariadb(ports, {root, detached: true})
        : await setupRedis(ports, {root})
  const info: LabInfo = {
    engine,
    dir: root,
    planDir: s.planDir,
    clientUrl: s.clientUrl,
    sourceUrl: s.sourceUrl,
    targetUrl: s.targetUrl,
    binDir: s.binDir,
    env: s.env,
    servers: s.servers.map((h) => ({kind: h.kind, port: h.port, dir: h.dir})),
  }
  writeFileSync(path.join(root, 'lab.json'), JSON.stringify(info, null, 2) + '\n')
  return info
}

export function readLab(dir: string): LabInfo {
  const f = path.join(dir, 'lab.json')
  if (!existsSync(f))
    throw badInput(`no lab in ${dir}`, 'LAB_NOT_FOUND', 'Start one with: migrate db lab up --engine postgres --dir DIR')
  return JSON.parse(readFileSync(f, 'utf8')) as LabInfo
}

function killPid(file: string): void {
  if (!existsSync(file)) return
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0])
  if (!pid) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}

/** Stops every server of the lab and removes their data; the plan directory (with its journal) stays. */
export async function labDown(dir: string): Promise<{stopped: number}> {
  const info = readLab(dir)
  for (const sv of [...info.servers].reverse()) {
    if (sv.kind === 'postgres') {
      const argv = [`${PG_BIN}/pg_ctl`, '-D', path.join(sv.dir, 'data'), '-m', 'immediate', '-w', 'stop']
      await (process.getuid?.() === 0
        ? execa('runuser', ['-u', 'postgres', '--', ...argv], {reject: false})
        : execa(argv[0], argv.slice(1), {reject: false}))
    } else killPid(path.join(sv.dir, 'pid'))
    rmSync(sv.dir, {recursive: true, force: true})
  }
  rmSync(path.join(dir, 'lab.json'), {force: true})
  return {stopped: info.servers.length}
}

export interface LabLoadResult extends Omit<LoadStats, 'acks'> {
  engine: LabEngine
  /** Acknowledged writes not visible where the clients now connect. */
  lost: number
}

/** Writes through the proxy for `seconds`, then checks every acknowledged write is where the clients now connect. */
export async function labLoad(
  dir: string,
  seconds: number,
  onTick?: (committed: number, failed: number) => void,
): Promise<LabLoadResult> {
  const info = readLab(dir)
  const start = info.engine === 'postgres' ? startPgLoad : info.engine === 'mariadb' ? startMariadbLoad : startRedisLoad
  const load = start({url: info.clientUrl, workers: 2, intervalMs: 5})
  const until = Date.now() + seconds * 1000
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, Math.min(1000, until - Date.now())))
    onTick?.(load.committed(), 0)
  }
  const {acks, ...stats} = await load.stop()
  const lost = await lostWrites(info.engine, info.clientUrl, acks)
  return {engine: info.engine, ...stats, lost: lost.length}
}
