import {Args, Flags} from '@oclif/core'
import {DiscoverCommand} from '../../src/cli/discover-command.js'
import {discoverFlags} from '../../src/discover/flags.js'
import type {DiscoverResult} from '../../src/discover/inventory.js'

export default class DiscoverDb extends DiscoverCommand {
  static override summary =
    'Introspect databases read-only: engine, exact version, size, replication role, wal_level / binlog_format / GTID / Redis persistence.'
  static override description =
    'Connects with pg, mysql2 or ioredis in a read-only session and records what matters for migration. URLs: postgres://user[:password]@host:5432/db, mysql:// or mariadb://user@host:3306, redis://[:password@]host:6379. Passwords never reach the output, the inventory or an error. The same works as --db URL on every discover source; a database on a host already in the inventory is attached to that server.'
  static override strict = false
  static override args = {url: Args.string({description: 'database URL(s)', required: true})}
  static override examples = [
    '<%= config.bin %> discover db postgres://postgres@127.0.0.1:5432/postgres mysql://root@127.0.0.1:3306 redis://127.0.0.1:6379',
    'PGPASSWORD=… <%= config.bin %> discover db postgres://readonly@10.20.0.21/postgres --out plans/dc1/inventory.yaml --json',
  ]
  static override flags = {...discoverFlags(Flags)}

  async run(): Promise<DiscoverResult> {
    const {argv, flags} = await this.parse(DiscoverDb)
    return this.discover([], flags, argv as string[])
  }
}
