// A database of its own on the machine's PostgreSQL (127.0.0.1:5432, trust, user postgres) for one test file,
// dropped afterwards (with any session still connected to it).
import {randomBytes} from 'node:crypto'
import pg from 'pg'
import {afterAll, beforeAll} from 'vitest'

export const PG_ADMIN = {host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres'}

export interface TestDb {
  name: string
  url: string
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>
  drop(): Promise<void>
}

export async function createTestDb(prefix: string): Promise<TestDb> {
  const name = `migrate_${prefix}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client(PG_ADMIN)
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = `postgres://postgres@127.0.0.1:5432/${name}`
  return {
    name,
    url,
    async query(sql, params) {
      const c = new pg.Client({...PG_ADMIN, database: name})
      await c.connect()
      try {
        return await c.query(sql, params)
      } finally {
        await c.end()
      }
    },
    async drop() {
      const a = new pg.Client(PG_ADMIN)
      await a.connect()
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await a.end()
    },
  }
}

/** A database of its own for the test file: filled in before its tests, dropped after them. */
export function useTestDb(prefix: string): TestDb {
  const db = {} as TestDb
  beforeAll(async () => {
    Object.assign(db, await createTestDb(prefix))
  })
  afterAll(async () => {
    await db.drop?.()
  })
  return db
}
