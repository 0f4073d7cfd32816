// Flags of the `migrate db elasticache-*` commands that name the replication group and how to reach its API.
import {Flags} from '@oclif/core'
import type {ElastiCacheTarget} from '../db/managed/elasticache.js'

export const elasticacheFlags = {
  'replication-group-id': Flags.string({
    required: true,
    description: 'ElastiCache replication group (cluster mode disabled)',
  }),
  region: Flags.string({required: true, description: 'AWS region of the group'}),
  endpoint: Flags.string({
    description:
      'ElastiCache API endpoint URL (default: the region’s; AWS_ENDPOINT_URL_ELASTICACHE also works); empty means default',
  }),
}

export function elasticacheTarget(flags: {
  'replication-group-id': string
  region: string
  endpoint?: string
}): ElastiCacheTarget {
  return {
    replicationGroupId: flags['replication-group-id'],
    region: flags.region,
    endpoint: flags.endpoint || undefined,
  }
}
