// What the AWS SDK threw during discovery, as one MigrateError of cause and remedy (src/providers/aws.ts). Never
// includes keys or tokens.
import {EXIT, type ExitCode, MigrateError} from '../errors.js'

/** The IAM actions discovery needs, named in access-denied errors. */
export const AWS_PERMISSIONS = [
  'ec2:DescribeInstances',
  'ec2:DescribeVolumes',
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeRegions',
]

export interface AwsContext {
  profile: string
  region: string
  action: string
  endpoint?: string
}

interface SdkError {
  name?: string
  code?: string
  message?: string
  $metadata?: {httpStatusCode?: number}
  $response?: unknown
  cause?: {code?: string}
}

/** What the rules look at: the error's name, message and network code, and the words of the message. */
interface Facts {
  e: SdkError
  name: string
  message: string
  netCode: string
  where: string
  perm: string
  ctx: AwsContext
}

interface Rule {
  when: (f: Facts) => boolean
  error: (f: Facts) => {message: string; code: string; exitCode: ExitCode; hint: string}
}

const EXPIRED = ['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']
const DENIED = ['UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException', 'Blocked', 'OptInRequired']
const REJECTED = [
  'AuthFailure',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'IncompleteSignature',
]
const NETWORK = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']
const THROTTLED = ['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException']

/** The kinds of failure, first match wins. */
const RULES: Rule[] = [
  // First: an expired SSO session also comes as a CredentialsProviderError, whose message says it expired.
  {
    when: (f) =>
      EXPIRED.includes(f.name) || /token.*expired|expired.*token|session.*expired|sso.*expired/i.test(f.message),
    error: (f) => ({
      message: `${f.where}: the security token has expired (${f.name || 'expired'}) calling ${f.perm}`,
      code: 'AWS_TOKEN_EXPIRED',
      exitCode: EXIT.BAD_INPUT,
      hint: `Refresh the credentials: \`aws sso login --profile ${f.ctx.profile}\`, or renew the session token in the environment`,
    }),
  },
  {
    when: (f) => f.name === 'CredentialsProviderError' || /Could not load credentials/i.test(f.message),
    error: (f) => ({
      message: `${f.where}: no AWS credentials found`,
      code: 'AWS_NO_CREDENTIALS',
      exitCode: EXIT.BAD_INPUT,
      hint: `Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, pass --profile NAME from ~/.aws/config, or run \`aws sso login --profile ${f.ctx.profile}\``,
    }),
  },
  {
    when: (f) => DENIED.includes(f.name),
    error: (f) => ({
      message: `${f.where}: access denied to ${f.perm} (${f.name})`,
      code: 'AWS_ACCESS_DENIED',
      exitCode: EXIT.BAD_INPUT,
      hint: `Grant the profile's IAM identity ${AWS_PERMISSIONS.join(', ')} (read-only), or use a profile that has them`,
    }),
  },
  {
    when: (f) => REJECTED.includes(f.name),
    error: (f) => ({
      message: `${f.where}: the credentials were rejected (${f.name}) calling ${f.perm}`,
      code: 'AWS_BAD_CREDENTIALS',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Check the access key and secret of this profile (and that the clock of this machine is right)',
    }),
  },
  {
    when: (f) => NETWORK.includes(f.netCode) || f.name === 'TimeoutError',
    error: (f) => ({
      message: `${f.where}: cannot reach the EC2 endpoint${f.ctx.endpoint ? ` ${f.ctx.endpoint}` : ''} (${f.netCode || f.name})`,
      code: 'AWS_UNREACHABLE',
      exitCode: EXIT.FAILURE,
      hint: 'Check the network path, proxy and --endpoint / AWS_ENDPOINT_URL_EC2, then run discover again',
    }),
  },
  {
    when: (f) => THROTTLED.includes(f.name),
    error: (f) => ({
      message: `${f.where}: EC2 kept throttling ${f.perm} after the SDK's retries (${f.name})`,
      code: 'AWS_THROTTLED',
      exitCode: EXIT.FAILURE,
      hint: 'Run again later, or with fewer regions at once (--concurrency)',
    }),
  },
  {
    when: (f) => f.name === 'InvalidRegion' || f.name === 'UnknownEndpoint' || /region/i.test(f.name),
    error: (f) => ({
      message: `${f.where}: ${f.name}`,
      code: 'AWS_BAD_REGION',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Check the region name (e.g. ap-southeast-1), or use --all-regions',
    }),
  },
  {
    when: (f) =>
      f.e?.$response !== undefined ||
      /Deserialization error|XML|Unexpected end|char '|Invalid character/i.test(f.message),
    error: (f) => ({
      message: `${f.where}: the answer to ${f.perm} was not a valid EC2 response`,
      code: 'AWS_BAD_RESPONSE',
      exitCode: EXIT.FAILURE,
      hint: 'The endpoint did not answer like EC2: check --endpoint / AWS_ENDPOINT_URL_EC2 and any proxy in between',
    }),
  },
]

/** One line of cause and remedy for whatever the SDK threw. Never includes keys or tokens. */
export function awsError(error: unknown, ctx: AwsContext): MigrateError {
  const e = error as SdkError
  const f: Facts = {
    e,
    name: e?.name ?? '',
    message: e?.message ?? '',
    netCode: e?.code ?? e?.cause?.code ?? '',
    where: `aws (profile ${ctx.profile}, region ${ctx.region})`,
    perm: `ec2:${ctx.action}`,
    ctx,
  }
  const data = {profile: ctx.profile, region: ctx.region, action: ctx.action, awsCode: f.name}
  const rule = RULES.find((r) => r.when(f))
  if (rule) {
    const {message, ...rest} = rule.error(f)
    return new MigrateError(message, {...rest, data})
  }
  const status = e?.$metadata?.httpStatusCode
  return new MigrateError(
    `${f.where}: ${f.perm} failed: ${f.name || 'error'}${status ? ` (HTTP ${status})` : ''}: ${(e?.message ?? String(error)).split('\n')[0]}`,
    {code: 'AWS_ERROR', exitCode: EXIT.FAILURE, hint: 'Run again with --debug for details', data},
  )
}
