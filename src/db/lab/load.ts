// Write load for trying and measuring a cutover: a few writers, each inserting (worker, seq) rows (PostgreSQL,
// MariaDB) or setting w:worker:seq keys (Redis) through the proxy the application uses, one write at a time.
// Every write the server acknowledged is recorded with its time; a failed write is counted and retried with the
// same (worker, seq), so "committed" means "the client was told it is committed". Afterwards lostWrites() reads
// the target and lists every acknowledged write that is not there, and the longest gap between acknowledgements
// is the write-unavailability window a client saw.
import pg from 'pg'
import mysql from 'mysql2/promise'
import {Redis} from 'ioredis'

export interface Ack {
  worker: number
  seq: number
  /** performance.now() when the acknowledgement arrived. */
  at: number
}

export interface LoadStats {
  committed: number
  failed: number
  /** Distinct error messages with their counts. */
  errors: Record<string, number>
  /** Longest time between two consecutive acknowledgements (any worker), ms. */
  maxGapMs: number
  /** When the longest gap started, ms since the load started. */
  maxGapAtMs: number
  durationMs: number
  acks: Ack[]
}

export interface Load {
  stop(): Promise<LoadStats>
  /** Acknowledged writes so far. */
  committed(): number
}

export interface LoadOptions {
  url: string
  workers?: number
  /** Pause between two writes of one worker, ms. */
  intervalMs?: number
}

type Writer = {write(seq: number): Promise<void>; close(): Promise<void>}

function startLoad(makeWriter: (worker: number) => Promise<Writer>, opts: LoadOptions): Load {
  const workers = opts.workers ?? 2
  const interval = opts.intervalMs ?? 5
  const acks: Ack[] = []
  const errors: Record<string, number> = {}
  let failed = 0
  let running = true
  const t0 = performance.now()
  const loops = Array.from({length: workers}, async (_, worker) => {
    let w: Writer | undefined
    let seq = 0
    while (running) {
      try {
        w ??= await makeWriter(worker)
        await w.write(seq)
        acks.push({worker, seq, at: performance.now()})
        seq++
        if (interval > 0) await new Promise((r) => setTimeout(r, interval))
      } catch (e) {
        failed++
        const m = (e instanceof Error ? e.message : String(e)).replace(/\d+/g, 'N').slice(0, 120)
        errors[m] = (errors[m] ?? 0) + 1
        await w?.close().catch(() => {})
        w = undefined
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    await w?.close().catch(() => {})
  })
  return {
    committed: () => acks.length,
    async stop() {
      running = false
      await Promise.all(loops)
      const sorted = [...acks].sort((a, b) => a.at - b.at)
      let maxGapMs = 0
      let maxGapAtMs = 0
      for (let i = 1; i < sorted.length; i++) {
        const g = sorted[i].at - sorted[i - 1].at
        if (g > maxGapMs) {
          maxGapMs = g
          maxGapAtMs = sorted[i - 1].at - t0
        }
      }
      return {
        committed: acks.length,
        failed,
        errors,
        maxGapMs: Math.round(maxGapMs),
        maxGapAtMs: Math.round(maxGapAtMs),
        durationMs: Math.round(performance.now() - t0),
        acks,
      }
    },
  }
}

export const PG_LOAD_TABLE =
  'CREATE TABLE writes (id bigserial PRIMARY KEY, worker int NOT NULL, seq int NOT NULL, at timestamptz NOT NULL DEFAULT now(), UNIQUE (worker, seq))'

/** Inserts into `writes` through `url` (e.g. PgBouncer). A retried write that already committed counts once. */
export function startPgLoad(opts: LoadOptions): Load {
  return startLoad(async (worker) => {
    const c = new pg.Client({connectionString: opts.url, connectionTimeoutMillis: 5000})
    c.on('error', () => {})
    await c.connect()
    return {
      async write(seq) {
        await c.query('INSERT INTO writes (worker, seq) VALUES ($1, $2) ON CONFLICT (worker, seq) DO NOTHING', [
          worker,
          seq,
        ])
      },
      close: () => c.end(),
    }
  }, opts)
}

export const MARIADB_LOAD_TABLE =
  'CREATE TABLE writes (id bigint AUTO_INCREMENT PRIMARY KEY, worker int NOT NULL, seq int NOT NULL, at timestamp(6) NOT NULL DEFAULT current_timestamp(6), UNIQUE KEY ws (worker, seq)) ENGINE=InnoDB'

/** Inserts into `writes` through `url` (e.g. HAProxy); a retry that finds its row already there counts once. */
export function startMariadbLoad(opts: LoadOptions): Load {
  return startLoad(async (worker) => {
    const c = await mysql.createConnection({uri: opts.url, connectTimeout: 5000})
    c.on('error', () => {})
    return {
      async write(seq) {
        await c.query('INSERT IGNORE INTO writes (worker, seq) VALUES (?, ?)', [worker, seq])
      },
      close: () => c.end(),
    }
  }, opts)
}

/** SETs w:worker:seq through `url` (e.g. HAProxy). */
export function startRedisLoad(opts: LoadOptions): Load {
  return startLoad(async (worker) => {
    const u = new URL(opts.url)
    const r = new Redis({
      host: u.hostname,
      port: Number(u.port),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      retryStrategy: () => null,
      connectTimeout: 5000,
      commandTimeout: 30_000,
    })
    r.on('error', () => {})
    await r.connect()
    return {
      async write(seq) {
        await r.set(`w:${worker}:${seq}`, String(seq))
      },
      close: async () => void r.disconnect(),
    }
  }, opts)
}

/** Acknowledged writes missing from the target. */
export async function lostWrites(
  engine: 'postgres' | 'mariadb' | 'redis',
  targetUrl: string,
  acks: Ack[],
): Promise<Ack[]> {
  const have = new Set<string>()
  if (engine === 'postgres') {
    const c = new pg.Client({connectionString: targetUrl})
    await c.connect()
    for (const r of (await c.query('SELECT worker, seq FROM writes')).rows) have.add(`${r.worker}:${r.seq}`)
    await c.end()
  } else if (engine === 'mariadb') {
    const c = await mysql.createConnection({uri: targetUrl})
    const [rows] = await c.query('SELECT worker, seq FROM writes')
    for (const r of rows as {worker: number; seq: number}[]) have.add(`${r.worker}:${r.seq}`)
    await c.end()
  } else {
    const u = new URL(targetUrl)
    const r = new Redis({host: u.hostname, port: Number(u.port)})
    let cursor = '0'
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', 'w:*', 'COUNT', 1000)
      for (const k of keys) have.add(k.slice(2))
      cursor = next
    } while (cursor !== '0')
    r.disconnect()
  }
  return acks.filter((a) => !have.has(`${a.worker}:${a.seq}`))
}
