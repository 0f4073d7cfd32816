// One discovery run: the chosen sources (in order, --db endpoints last), then one inventory written to --out.
import {writeInventory, type DiscoverResult, type WriteOptions} from './inventory.js'
import {withProgress, type ProgressMode} from './progress.js'
import type {DiscoverySource, SourceResult} from './types.js'

// biome-ignore lint/suspicious/noExplicitAny: rows/values of any shape, narrowed by the caller
export interface SourceJob<O = any> {
  source: DiscoverySource<O>
  options: O
}

export interface RunOptions extends WriteOptions {
  /** Database URLs to introspect read-only (passwords never reach output). */
  dbUrls?: string[]
  progress?: ProgressMode
}

/** Runs the jobs in order (the caller adds a job for --db endpoints: src/cli/discover-command.ts) and writes one inventory. */
export async function runDiscover(jobs: SourceJob[], o: RunOptions): Promise<DiscoverResult> {
  const taskNames = jobs.flatMap((j) => j.source.tasks(j.options))
  const results = await withProgress(o.progress ?? 'none', taskNames, async (emit) => {
    const out: SourceResult[] = []
    for (const j of jobs) out.push(await j.source.discover(j.options, emit))
    return out
  })
  return writeInventory(results, o)
}
