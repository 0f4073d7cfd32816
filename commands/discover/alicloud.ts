import {Flags} from '@oclif/core'
import {cloudFlags, cloudOptions, DiscoverCommand} from '../../src/cli/discover-command.js'
import {discoverFlags} from '../../src/discover/flags.js'
import type {DiscoverResult} from '../../src/discover/inventory.js'
import {alicloudSource} from '../../src/providers/alicloud.js'

export default class DiscoverAlicloud extends DiscoverCommand {
  static override summary = 'Inventory Alibaba Cloud ECS instances, their disks, tags and IPs, across regions.'
  static override description =
    'Reads DescribeInstances (paged with NextToken) and DescribeDisks in every --region, in parallel. Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN), else the default chain of @alicloud/credentials (profile file, RAM role). Needs ecs:DescribeInstances and ecs:DescribeDisks (ecs:DescribeRegions for --all-regions), e.g. the AliyunECSReadOnlyAccess policy.'
  static override examples = [
    '<%= config.bin %> discover alicloud --region ap-southeast-5 --region ap-southeast-1 --out plans/tokopedia/inventory.yaml',
    '<%= config.bin %> discover alicloud --region ap-southeast-5 --endpoint ecs-vpc.ap-southeast-5.aliyuncs.com --json',
  ]
  static override flags = {
    ...cloudFlags({
      region: 'region id to read, e.g. ap-southeast-5 (repeatable)',
      allRegions: 'every region (DescribeRegions)',
      profile: 'profile of the Alibaba Cloud credentials file (default: ALIBABA_CLOUD_PROFILE or default)',
      endpoint: 'ECS endpoint host[:port] or URL (a VPC endpoint); a bare loopback address is plain HTTP',
      endpointValue: 'HOST:PORT',
    }),
    ...discoverFlags(Flags),
  }

  async run(): Promise<DiscoverResult> {
    const {flags} = await this.parse(DiscoverAlicloud)
    return this.discover([{source: alicloudSource, options: cloudOptions(flags)}], flags)
  }
}
