// What one discovery run looked at: per source kind, the regions, files, hosts and --db endpoints it read
// successfully. A record of the previous inventory may be dropped only when this run looked where it came from and
// did not find it again; a target that failed (an unreachable host, a refused database) covers nothing.
import type {Database, Server} from '../schema/inventory.js'
import type {SourceResult} from './types.js'

type Ref = {kind: string; ref?: string; account?: string} | undefined

export class RunScope {
  private readonly targets = new Map<string, Set<string>>()
  /** Per cloud kind, the accounts its regions were read in (undefined in the set: a run that could not tell). */
  private readonly accounts = new Map<string, Set<string | undefined>>()

  constructor(results: readonly SourceResult[]) {
    for (const r of results) {
      const failed = new Set(r.failures.map((f) => f.target))
      let set = this.targets.get(r.kind)
      if (!set) this.targets.set(r.kind, (set = new Set()))
      for (const x of r.scope) if (!failed.has(x)) set.add(x)
      let accounts = this.accounts.get(r.kind)
      if (!accounts) this.accounts.set(r.kind, (accounts = new Set()))
      accounts.add(r.account)
    }
  }

  /** Whether this run read the target a record's `source` names (its region, file row, host or endpoint). */
  coversSource(source: Ref): boolean {
    const kind = source?.kind
    const set = kind ? this.targets.get(kind) : undefined
    if (!set) return false
    const ref = source?.ref ?? ''
    if (kind === 'aws' || kind === 'alicloud') {
      const slash = ref.indexOf('/')
      // A record of another account in the same region is not this run's; one that names no account (written
      // before accounts were recorded, or a cloud whose answers do not say) is covered by its region, as it was.
      const accountOk = source?.account === undefined || this.accounts.get(kind)!.has(source.account)
      return slash >= 0 && set.has(ref.slice(0, slash)) && accountOk
    }
    if (set.has(ref)) return true
    // A CMDB record: FILE:ROW or FILE:ID, where the file's name may itself hold colons.
    if (kind === 'file')
      for (let i = ref.indexOf(':'); i >= 0; i = ref.indexOf(':', i + 1)) if (set.has(ref.slice(0, i))) return true
    return false
  }

  coversServer(s: Server): boolean {
    return this.coversSource(s.source)
  }

  /**
   * A database is covered through its source only for the file and db kinds: the SSH probe covers the databases
   * of the hosts it read by what listens there (see buildInventory), not by who saw them first.
   */
  coversDatabaseSource(d: Database): boolean {
    return (d.source?.kind === 'file' || d.source?.kind === 'db') && this.coversSource(d.source)
  }
}

/** Whether a database id is the one discovery generates for it: `<engine>:<host>:<port>` (or the `mysql:` id older
 * versions gave MariaDB). Such an id follows the engine; any other id was chosen by a person or a CMDB and stays. */
export function isGeneratedDbId(d: Pick<Database, 'id' | 'engine' | 'host' | 'port'>): boolean {
  if (d.host === undefined || d.port === undefined) return false
  const tail = `:${d.host}:${d.port}`
  return d.id === `${d.engine}${tail}` || (d.id === `mysql${tail}` && d.engine === 'mariadb')
}

/** The id discovery gives a database: `<engine>:<host>:<port>`, as docs/discover.md says. */
export function generatedDbId(engine: string, host: string, port: number): string {
  return `${engine}:${host}:${port}`
}
