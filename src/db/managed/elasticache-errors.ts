// ElastiCache's faults as migrate's errors: the call, the service's code, and what to do about it.
import {EXIT, MigrateError, type ExitCode} from '../../errors.js'

/** What ElastiCache answered, as a MigrateError naming the call, the service's code and what to do. */
export function elasticacheError(
  error: unknown,
  t: {replicationGroupId: string; region: string},
  action: string,
): MigrateError {
  const e = error as {name?: string; message?: string; $metadata?: {httpStatusCode?: number}}
  const name = e?.name ?? 'Error'
  const where = `ElastiCache ${action} on ${t.replicationGroupId} (${t.region})`
  const data = {action, awsCode: name, replicationGroupId: t.replicationGroupId}
  const msg = (e?.message ?? String(error)).split('\n')[0]
  const known: Record<string, [string, string, ExitCode]> = {
    ReplicationGroupNotFoundFault: [
      'ELASTICACHE_GROUP_NOT_FOUND',
      'Check replication_group_id and the region in the plan; the group must exist before the wave (plan lists it)',
      EXIT.BAD_INPUT,
    ],
    InvalidReplicationGroupStateFault: [
      'ELASTICACHE_WRONG_STATE',
      'Wait until the group is available (DescribeReplicationGroups), or for CompleteMigration until the data is in sync',
      EXIT.FAILURE,
    ],
    ReplicationGroupAlreadyUnderMigrationFault: [
      'ELASTICACHE_ALREADY_MIGRATING',
      'A migration is already running into this group: complete it, or CompleteMigration --force to abandon it',
      EXIT.FAILURE,
    ],
    ReplicationGroupNotUnderMigrationFault: [
      'ELASTICACHE_NOT_MIGRATING',
      'The group is not migrating: run the replicate step (StartMigration) first',
      EXIT.FAILURE,
    ],
    InvalidParameterValueException: [
      'ELASTICACHE_BAD_PARAMETER',
      'Check the source address the group replicates from (source_addr: reachable from the group’s VPC)',
      EXIT.BAD_INPUT,
    ],
    InvalidParameterCombinationException: [
      'ELASTICACHE_BAD_PARAMETER',
      'Online migration needs cluster mode and in-transit encryption disabled on the group',
      EXIT.BAD_INPUT,
    ],
    Throttling: [
      'ELASTICACHE_THROTTLED',
      'ElastiCache kept throttling after the SDK’s retries: run the step again in a moment',
      EXIT.FAILURE,
    ],
    ThrottlingException: [
      'ELASTICACHE_THROTTLED',
      'ElastiCache kept throttling after the SDK’s retries: run the step again in a moment',
      EXIT.FAILURE,
    ],
    SignatureDoesNotMatch: [
      'AWS_BAD_CREDENTIALS',
      'Check the access key and secret (and this machine’s clock)',
      EXIT.BAD_INPUT,
    ],
    InvalidClientTokenId: ['AWS_BAD_CREDENTIALS', 'Check the access key and secret', EXIT.BAD_INPUT],
    CredentialsProviderError: [
      'AWS_NO_CREDENTIALS',
      'Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE',
      EXIT.BAD_INPUT,
    ],
  }
  const k = known[name]
  if (k) return new MigrateError(`${where}: ${name}: ${msg}`, {code: k[0], hint: k[1], exitCode: k[2], data})
  const status = e?.$metadata?.httpStatusCode
  return new MigrateError(`${where} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${msg}`, {
    code: 'ELASTICACHE_ERROR',
    hint: 'Check the endpoint (AWS_ENDPOINT_URL_ELASTICACHE), credentials and region; run again with --debug for details',
    data,
  })
}
