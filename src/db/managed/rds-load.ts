// Loading a dump into RDS for MariaDB as its master user: the mariadb client reads the dump (a maintained part,
// not re-implemented here); the password goes through MYSQL_PWD in the child's environment only.
import {execa} from 'execa'
import {existsSync} from 'node:fs'
import {MigrateError, badInput} from '../../errors.js'
import {parseUrl, redactUrl, withMysql} from '../connect.js'

function clientArgs(url: string): string[] {
  const u = parseUrl(url)
  return [
    '--no-defaults',
    '--host',
    u.hostname || '127.0.0.1',
    '--port',
    u.port || '3306',
    '--user',
    decodeURIComponent(u.username || 'admin'),
  ]
}

function passwordEnv(name: string | undefined): Record<string, string> {
  if (!name) return {}
  const v = process.env[name]
  if (v === undefined)
    throw badInput(
      `environment variable ${name} is not set`,
      'DB_PASSWORD_ENV_MISSING',
      `Export ${name} with the master user's password`,
    )
  return {MYSQL_PWD: v}
}

export async function rdsMariadbLoad(
  url: string,
  dumpFile: string | undefined,
  pwEnv?: string,
): Promise<{loaded: string}> {
  if (!dumpFile || !existsSync(dumpFile))
    throw badInput(
      `dump file ${dumpFile ?? '(none)'} does not exist`,
      'RDS_DUMP_MISSING',
      'Pass --dump-file with the file the dump step wrote',
    )
  const r = await execa('mariadb', [...clientArgs(url), '-e', `source ${dumpFile}`], {
    reject: false,
    env: passwordEnv(pwEnv),
    stdin: 'ignore',
  })
  if (r.exitCode !== 0)
    throw new MigrateError(
      `loading ${dumpFile} into ${redactUrl(url)} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`,
      {
        code: 'RDS_LOAD_FAILED',
        hint: 'A "SUPER" or "BINLOG ADMIN" error means the dump holds a statement RDS refuses: dump with --gtid --master-data=2, and recreate DEFINER objects as the master user',
      },
    )
  return {loaded: dumpFile}
}

export async function rdsMariadbDropDatabase(url: string, pwEnv?: string): Promise<string> {
  const db = decodeURIComponent(parseUrl(url).pathname.replace(/^\//, ''))
  if (!db)
    throw badInput(
      `${redactUrl(url)} names no database to drop`,
      'DB_BAD_URL',
      'Write the URL as mysql://admin@host:3306/<database>',
    )
  await withMysql(url.replace(/\/[^/?]*(\?|$)/, '/$1'), pwEnv, async (c) =>
    c.query(`DROP DATABASE IF EXISTS ${c.escapeId(db)}`),
  )
  return db
}
