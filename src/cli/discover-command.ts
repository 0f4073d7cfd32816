// What the `migrate discover …` commands share: running their sources with the shared discover flags and printing
// the summary, and the flags of the cloud sources (aws, alicloud), whose help text names each provider's own terms.
import {Flags} from '@oclif/core'
import {BaseCommand} from './base-command.js'
import {EXIT} from '../errors.js'
import {runOptionsFrom, type DiscoverFlagValues} from '../discover/flags.js'
import type {DiscoverResult} from '../discover/inventory.js'
import {renderDiscover} from '../discover/render.js'
import {runDiscover, type SourceJob} from '../discover/run.js'
import type {CloudOptions} from '../providers/cloud-options.js'

export abstract class DiscoverCommand extends BaseCommand {
  // Restated: oclif's manifest reads static properties of a command's direct parent only.
  static override enableJsonFlag = true

  /** Runs `jobs` with the options of the shared flags (and `dbUrls` before any --db), prints the summary unless --json. */
  protected async discover(
    jobs: SourceJob[],
    flags: DiscoverFlagValues,
    dbUrls: string[] = [],
  ): Promise<DiscoverResult> {
    const o = runOptionsFrom(flags, !this.jsonEnabled() && process.stdout.isTTY ? 'tty' : 'none')
    const urls = [...dbUrls, ...(o.dbUrls ?? [])]
    // The database drivers load only when there are endpoints to introspect.
    const dbJob =
      urls.length > 0 ? [{source: (await import('../providers/db-introspect.js')).dbSource, options: {urls}}] : []
    const result = await runDiscover([...jobs, ...dbJob], o)
    if (!this.jsonEnabled()) for (const l of renderDiscover(result)) this.log(l)
    // Some targets could not be read: the inventory holds the rest, and the exit code says it is not complete.
    if (result.failures.length > 0 && !flags['allow-partial']) {
      process.exitCode = EXIT.PARTIAL
      const n = result.failures.length
      const line = (where: string) =>
        `${n} target(s) could not be read (${where}); exit ${EXIT.PARTIAL}. Fix them and run discover again (the inventory keeps the rest), or pass --allow-partial to accept this.`
      if (this.jsonEnabled()) this.warnings.push(line('result.failures'))
      else process.stderr.write(line('the FAILED lines above') + '\n')
    }
    return result
  }
}

/** --region, --all-regions, --profile, --endpoint and --concurrency, with the provider's own descriptions. */
export function cloudFlags(d: {
  region: string
  allRegions: string
  profile: string
  endpoint: string
  endpointValue: string
}) {
  return {
    region: Flags.string({char: 'r', description: d.region, multiple: true, helpValue: 'REGION'}),
    'all-regions': Flags.boolean({description: d.allRegions, default: false}),
    profile: Flags.string({description: d.profile, helpValue: 'NAME'}),
    endpoint: Flags.string({description: d.endpoint, helpValue: d.endpointValue}),
    concurrency: Flags.integer({description: 'regions read at once', default: 8, min: 1}),
  }
}

/** The source options of the cloudFlags() values. */
export function cloudOptions(f: {
  region?: string[]
  'all-regions': boolean
  profile?: string
  endpoint?: string
  concurrency: number
}): CloudOptions {
  return {
    regions: f.region ?? [],
    allRegions: f['all-regions'],
    profile: f.profile,
    endpoint: f.endpoint,
    concurrency: f.concurrency,
  }
}
