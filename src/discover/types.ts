// The one interface every discovery source implements, and what a source hands back. Sources never log or exit:
// they return records and warnings, report progress through `emit`, and throw MigrateError for what stops them.
import type {Diagnostic} from '../diagnostics.js'
import type {Application, Database, Dependency, Server} from '../schema/inventory.js'

export type SourceKind = 'aws' | 'alicloud' | 'file' | 'ssh' | 'db'

/** Progress of one unit of work (a region, a file, a host), for the listr2 view or NDJSON. */
export interface ProgressEvent {
  /** e.g. "aws ap-southeast-1", "ssh deploy@10.0.0.5". */
  task: string
  status: 'start' | 'progress' | 'done' | 'failed' | 'skipped'
  message?: string
}
export type Emit = (e: ProgressEvent) => void

/** A target a source could not read while the others went on (an unreachable host). */
export interface SourceFailure {
  target: string
  code: string
  message: string
}

export interface SourceResult {
  kind: SourceKind
  /** Regions, files or hosts; never credentials. */
  scope: string[]
  /** The cloud account the regions were read in (AWS: the instances' owner), when known: another account's
   * records in the same regions are not this run's to remove. */
  account?: string
  servers: Server[]
  databases: Database[]
  dependencies: Dependency[]
  applications: Application[]
  warnings: Diagnostic[]
  failures: SourceFailure[]
}

export interface DiscoverySource<O> {
  kind: SourceKind
  /** The units of work, known before the source runs (for the progress view). */
  tasks(options: O): string[]
  discover(options: O, emit: Emit): Promise<SourceResult>
}

export function emptyResult(kind: SourceKind, scope: string[]): SourceResult {
  return {kind, scope, servers: [], databases: [], dependencies: [], applications: [], warnings: [], failures: []}
}
