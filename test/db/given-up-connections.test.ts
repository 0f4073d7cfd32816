// A sub-step given up inside a cutover's window must not run later. When the server it waits on is frozen while the
// sub-step is still connecting, the connection completes once the server answers again: the sub-step's queries
// (STOP SLAVE, RESET SLAVE ALL, read_only = 0 of a promotion) must then not be run on it. A real MariaDB on a
// reserved port, frozen with SIGSTOP.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import mysql from 'mysql2/promise'
import {afterAll, beforeAll, expect, test} from 'vitest'
import {dropSharedConnections, withMysql, withSharedConnections} from '../../src/db/connect.js'
import {type ServerHandle, startMariadb} from '../../src/db/lab/servers.js'
import {onFreePort} from '../helpers/ports.js'

let server: ServerHandle

beforeAll(async () => {
  server = await onFreePort((port) => startMariadb({port, serverId: 71}))
})
afterAll(async () => {
  await server?.stop()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('a query of a sub-step given up while its connection was opening never runs', async () => {
  const pid = Number(readFileSync(path.join(server.dir, 'pid'), 'utf8'))
  const outcome = await withSharedConnections(async () => {
    process.kill(pid, 'SIGSTOP')
    const run = withMysql(server.url, undefined, async (c) => {
      await c.query('CREATE DATABASE given_up')
      return 'ran'
    }).catch((e) => e)
    try {
      await sleep(500)
      dropSharedConnections()
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    return run
  })
  expect(outcome).toMatchObject({code: 'CONNECTION_GIVEN_UP'})
  await sleep(500)
  const c = await mysql.createConnection({uri: server.url})
  try {
    const [rows] = await c.query("SHOW DATABASES LIKE 'given_up'")
    expect(rows).toEqual([])
  } finally {
    await c.end()
  }
})
