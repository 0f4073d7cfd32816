import {Args, Flags} from '@oclif/core'
import {DiscoverCommand} from '../../src/cli/discover-command.js'
import {discoverFlags} from '../../src/discover/flags.js'
import type {DiscoverResult} from '../../src/discover/inventory.js'
import {FILE_FORMATS, fileSource} from '../../src/providers/file.js'

export default class DiscoverFile extends DiscoverCommand {
  static override summary =
    'Inventory from CMDB exports: our YAML/JSON, generic CSV, ADS import template, Azure Migrate CSV, RVTools vInfo, CMF intake form.'
  static override description =
    'The format of each CSV is detected from its header (or pass --format). Generic CSV columns: name, vcpus, memory_mib (or memory_gb) required; id, ip, disk_gb or disks (sda:100;sdb:500), os, os_version, app, role, env, owner, criticality, region, zone, state, instance_type, tags (k=v;k=v) and tag:KEY columns optional. Unknown and missing columns are reported by name and line.'
  static override strict = false
  static override args = {file: Args.string({description: 'CMDB export(s): .csv, .yaml, .json', required: true})}
  static override examples = [
    '<%= config.bin %> discover file cmdb.csv --out plans/dc1/inventory.yaml',
    '<%= config.bin %> discover file RVTools_tabvInfo.csv --assign-by name-prefix',
    '<%= config.bin %> discover file azure-migrate-import.csv ads-import.csv --json',
  ]
  static override flags = {
    format: Flags.option({
      options: FILE_FORMATS,
      description: 'format of the files (default: detected)',
      default: 'auto' as const,
    })(),
    'decimal-separator': Flags.option({
      options: ['.', ','] as const,
      description:
        'how the CSV files write decimals (default: what the file shows; a number it cannot tell, such as 16.384, is refused)',
    })(),
    ...discoverFlags(Flags),
  }

  async run(): Promise<DiscoverResult> {
    const {argv, flags} = await this.parse(DiscoverFile)
    return this.discover(
      [
        {
          source: fileSource,
          options: {files: argv as string[], format: flags.format, decimal: flags['decimal-separator']},
        },
      ],
      flags,
    )
  }
}
