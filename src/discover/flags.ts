// Flags every `migrate discover …` command shares. Takes oclif's Flags as an argument so that src/ does not import
// @oclif/core at run time (only commands/ and src/cli/ do).
import type {Flags as OclifFlags} from '@oclif/core'
import {parseAssignRule, parseTagKeys} from './app-tags.js'
import {defaultOut} from './inventory.js'
import type {RunOptions} from './run.js'

export function discoverFlags(Flags: typeof OclifFlags) {
  return {
    out: Flags.string({
      char: 'o',
      description:
        'inventory file to write (default: plans/<name>/inventory.yaml); if it exists, other sources in it are kept and the changes are shown',
      helpValue: 'FILE',
    }),
    name: Flags.string({description: 'inventory name (metadata.name and the plan directory name)', helpValue: 'NAME'}),
    'tag-key': Flags.string({
      description: 'tag key for app, role or env (default app, role, env)',
      multiple: true,
      helpValue: 'app=KEY',
    }),
    'assign-by': Flags.string({
      description: 'application of servers without an app tag: tag:KEY, name-prefix, or regex:PATTERN (first group)',
      helpValue: 'RULE',
    }),
    db: Flags.string({
      description: 'also introspect this database read-only (postgres://, mysql://, mariadb://, redis://); repeatable',
      multiple: true,
      helpValue: 'URL',
    }),
    replace: Flags.boolean({
      description: 'start from the sources alone instead of keeping what other sources put in --out',
      default: false,
    }),
    'dry-run': Flags.boolean({description: 'discover and show the changes, but do not write --out', default: false}),
    'allow-partial': Flags.boolean({
      description:
        'exit 0 even when some hosts or databases could not be read (they are listed either way; without this flag the exit code is 7)',
      default: false,
    }),
  }
}

export interface DiscoverFlagValues {
  out?: string
  name?: string
  'tag-key'?: string[]
  'assign-by'?: string
  db?: string[]
  replace: boolean
  'dry-run': boolean
  'allow-partial'?: boolean
}

export function runOptionsFrom(f: DiscoverFlagValues, progress: RunOptions['progress']): RunOptions {
  return {
    out: f.out ?? defaultOut(f.name),
    name: f.name,
    tagKeys: parseTagKeys(f['tag-key'] ?? []),
    assignRule: f['assign-by'] ? parseAssignRule(f['assign-by']) : undefined,
    replace: f.replace,
    dryRun: f['dry-run'],
    dbUrls: f.db ?? [],
    progress,
  }
}
