import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {discoverFlags, runOptionsFrom} from '../../src/discover/flags.js'
import type {DiscoverResult} from '../../src/discover/inventory.js'
import {renderDiscover} from '../../src/discover/render.js'
import {runDiscover} from '../../src/discover/run.js'
import {alicloudSource} from '../../src/providers/alicloud.js'

export default class DiscoverAlicloud extends BaseCommand {
  static override summary = 'Inventory Alibaba Cloud ECS instances, their disks, tags and IPs, across regions.'
  static override description =
    'Reads DescribeInstances (paged with NextToken) and DescribeDisks in every --region, in parallel. Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN), else the default chain of @alicloud/credentials (profile file, RAM role). Needs ecs:DescribeInstances and ecs:DescribeDisks (ecs:DescribeRegions for --all-regions), e.g. the AliyunECSReadOnlyAccess policy.'
  static override examples = [
    '<%= config.bin %> discover alicloud --region ap-southeast-5 --region ap-southeast-1 --out plans/tokopedia/inventory.yaml',
    '<%= config.bin %> discover alicloud --region ap-southeast-5 --endpoint ecs-vpc.ap-southeast-5.aliyuncs.com --json',
  ]
  static override flags = {
    region: Flags.string({char: 'r', description: 'region id to read, e.g. ap-southeast-5 (repeatable)', multiple: true, helpValue: 'REGION'}),
    'all-regions': Flags.boolean({description: 'every region (DescribeRegions)', default: false}),
    profile: Flags.string({description: 'profile of the Alibaba Cloud credentials file (default: ALIBABA_CLOUD_PROFILE or default)', helpValue: 'NAME'}),
    endpoint: Flags.string({description: 'ECS endpoint host[:port] or URL (a VPC endpoint); a bare loopback address is plain HTTP', helpValue: 'HOST:PORT'}),
    concurrency: Flags.integer({description: 'regions read at once', default: 8, min: 1}),
    ...discoverFlags(Flags),
  }

  async run(): Promise<DiscoverResult> {
    const {flags} = await this.parse(DiscoverAlicloud)
    const o = runOptionsFrom(flags, !this.jsonEnabled() && process.stdout.isTTY ? 'tty' : 'none')
    const options = {regions: flags.region ?? [], allRegions: flags['all-regions'], profile: flags.profile, endpoint: flags.endpoint, concurrency: flags.concurrency}
    const result = await runDiscover([{source: alicloudSource, options}], o)
    if (!this.jsonEnabled()) for (const l of renderDiscover(result)) this.log(l)
    return result
  }
}
