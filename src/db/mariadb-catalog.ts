// What the MariaDB helpers read alike: server variables, the system databases, their password options.
import type mysql from 'mysql2/promise'
import {myRows} from './connect.js'
import type {PgOpts} from './pg-catalog.js'

export type MyOpts = PgOpts

/** The schemas that are the server's own, never moved. */
export const SYSTEM_DBS = ['mysql', 'information_schema', 'performance_schema', 'sys']

/** @@name of each of `names`, as strings ('' for NULL). */
export async function vars(c: mysql.Connection, names: string[]): Promise<Record<string, string>> {
  const rows = await myRows(c, `SELECT ${names.map((n) => `@@${n} AS ${n}`).join(', ')}`)
  return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, v === null ? '' : String(v)]))
}
