import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {discoverFlags, runOptionsFrom} from '../../src/discover/flags.js'
import type {DiscoverResult} from '../../src/discover/inventory.js'
import {renderDiscover} from '../../src/discover/render.js'
import {runDiscover} from '../../src/discover/run.js'
import {awsSource} from '../../src/providers/aws.js'

export default class DiscoverAws extends BaseCommand {
  static override summary = 'Inventory EC2 instances, their volumes and sizes, across regions.'
  static override description =
    'Reads DescribeInstances (paged), DescribeVolumes and DescribeInstanceTypes in every --region (in parallel) with the credentials of the SDK default chain or --profile. Needs ec2:DescribeInstances, ec2:DescribeVolumes, ec2:DescribeInstanceTypes (and ec2:DescribeRegions for --all-regions). Applications, roles and environments come from the tags app, role, env.'
  static override examples = [
    '<%= config.bin %> discover aws --region ap-southeast-1 --region ap-southeast-3 --out plans/tokopedia/inventory.yaml',
    '<%= config.bin %> discover aws --all-regions --profile migration-readonly --json',
    'AWS_ENDPOINT_URL_EC2=https://vpce-0abc.ec2.ap-southeast-1.vpce.amazonaws.com <%= config.bin %> discover aws --region ap-southeast-1',
  ]
  static override flags = {
    region: Flags.string({char: 'r', description: 'region to read (repeatable)', multiple: true, helpValue: 'REGION'}),
    'all-regions': Flags.boolean({description: 'every region enabled for the account (DescribeRegions)', default: false}),
    profile: Flags.string({description: 'profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE or default)', helpValue: 'NAME'}),
    endpoint: Flags.string({description: 'EC2 endpoint URL (a VPC endpoint); AWS_ENDPOINT_URL_EC2 works too', helpValue: 'URL'}),
    concurrency: Flags.integer({description: 'regions read at once', default: 8, min: 1}),
    ...discoverFlags(Flags),
  }

  async run(): Promise<DiscoverResult> {
    const {flags} = await this.parse(DiscoverAws)
    const o = runOptionsFrom(flags, !this.jsonEnabled() && process.stdout.isTTY ? 'tty' : 'none')
    const options = {regions: flags.region ?? [], allRegions: flags['all-regions'], profile: flags.profile, endpoint: flags.endpoint, concurrency: flags.concurrency}
    const result = await runDiscover([{source: awsSource, options}], o)
    if (!this.jsonEnabled()) for (const l of renderDiscover(result)) this.log(l)
    return result
  }
}
