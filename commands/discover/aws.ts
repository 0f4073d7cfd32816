import {Flags} from '@oclif/core'
import {cloudFlags, cloudOptions, DiscoverCommand} from '../../src/cli/discover-command.js'
import {discoverFlags} from '../../src/discover/flags.js'
import type {DiscoverResult} from '../../src/discover/inventory.js'
import {awsSource} from '../../src/providers/aws.js'

export default class DiscoverAws extends DiscoverCommand {
  static override summary = 'Inventory EC2 instances, their volumes and sizes, across regions.'
  static override description =
    'Reads DescribeInstances (paged), DescribeVolumes and DescribeInstanceTypes in every --region (in parallel) with the credentials of the SDK default chain or --profile. Needs ec2:DescribeInstances, ec2:DescribeVolumes, ec2:DescribeInstanceTypes (and ec2:DescribeRegions for --all-regions). Applications, roles and environments come from the tags app, role, env.'
  static override examples = [
    '<%= config.bin %> discover aws --region ap-southeast-1 --region ap-southeast-3 --out plans/tokopedia/inventory.yaml',
    '<%= config.bin %> discover aws --all-regions --profile migration-readonly --json',
    'AWS_ENDPOINT_URL_EC2=https://vpce-0abc.ec2.ap-southeast-1.vpce.amazonaws.com <%= config.bin %> discover aws --region ap-southeast-1',
  ]
  static override flags = {
    ...cloudFlags({
      region: 'region to read (repeatable)',
      allRegions: 'every region enabled for the account (DescribeRegions)',
      profile: 'profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE or default)',
      endpoint: 'EC2 endpoint URL (a VPC endpoint); AWS_ENDPOINT_URL_EC2 works too',
      endpointValue: 'URL',
    }),
    ...discoverFlags(Flags),
  }

  async run(): Promise<DiscoverResult> {
    const {flags} = await this.parse(DiscoverAws)
    return this.discover([{source: awsSource, options: cloudOptions(flags)}], flags)
  }
}
