// What the Alibaba Cloud SDK threw during discovery, as one MigrateError of cause and remedy
// (src/providers/alicloud.ts). Never includes keys or tokens.
import {EXIT, type ExitCode, MigrateError} from '../errors.js'

export const ALICLOUD_PERMISSIONS = ['ecs:DescribeInstances', 'ecs:DescribeDisks', 'ecs:DescribeRegions']

interface Ctx {
  profile: string
  region: string
  action: string
  endpoint: string
}

interface SdkError {
  name?: string
  code?: string
  message?: string
  statusCode?: number
  data?: {statusCode?: number}
  cause?: {code?: string}
}

/** What the rules look at: the error's code and message, a network failure named in them, and the words to use. */
interface Facts {
  e: SdkError
  code: string
  msg: string
  net: RegExpExecArray | null
  where: string
  perm: string
  ctx: Ctx
}

interface Rule {
  when: (f: Facts) => boolean
  error: (f: Facts) => {message: string; code: string; exitCode: ExitCode; hint: string}
}

/** The kinds of failure, first match wins. */
const RULES: Rule[] = [
  {
    when: (f) =>
      /credentials|AccessKey.*(not set|empty)|unable to get|provider chain|Please set up the credentials/i.test(
        f.msg,
      ) && !f.code.includes('.'),
    error: (f) => ({
      message: `${f.where}: no Alibaba Cloud credentials found`,
      code: 'ALICLOUD_NO_CREDENTIALS',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure a profile (aliyun configure) and pass --profile NAME',
    }),
  },
  {
    when: (f) => /^Forbidden|NoPermission|^Forbidden\.RAM|AccessDenied/i.test(f.code),
    error: (f) => ({
      message: `${f.where}: access denied to ${f.perm} (${f.code})`,
      code: 'ALICLOUD_ACCESS_DENIED',
      exitCode: EXIT.BAD_INPUT,
      hint: `Grant the RAM user or role ${ALICLOUD_PERMISSIONS.join(', ')} (e.g. the AliyunECSReadOnlyAccess policy)`,
    }),
  },
  {
    when: (f) => /Expired/i.test(f.code),
    error: (f) => ({
      message: `${f.where}: the security token has expired (${f.code}) calling ${f.perm}`,
      code: 'ALICLOUD_TOKEN_EXPIRED',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Get a fresh STS token (or assume the RAM role again) and set ALIBABA_CLOUD_SECURITY_TOKEN',
    }),
  },
  {
    when: (f) =>
      /InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature|InvalidAccessKeySecret|InvalidSecurityToken/i.test(
        f.code,
      ),
    error: (f) => ({
      message: `${f.where}: the credentials were rejected (${f.code}) calling ${f.perm}`,
      code: 'ALICLOUD_BAD_CREDENTIALS',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Check ALIBABA_CLOUD_ACCESS_KEY_ID / …SECRET or the profile, and the clock of this machine',
    }),
  },
  {
    when: (f) => /InvalidRegionId/i.test(f.code),
    error: (f) => ({
      message: `${f.where}: unknown region (${f.code})`,
      code: 'ALICLOUD_BAD_REGION',
      exitCode: EXIT.BAD_INPUT,
      hint: 'Use a region id such as ap-southeast-5 (Jakarta) or ap-southeast-1 (Singapore)',
    }),
  },
  {
    when: (f) => /Throttling/i.test(f.code),
    error: (f) => ({
      message: `${f.where}: ECS kept throttling ${f.perm} after retries (${f.code})`,
      code: 'ALICLOUD_THROTTLED',
      exitCode: EXIT.FAILURE,
      hint: 'Run again later, or with fewer regions at once (--concurrency)',
    }),
  },
  {
    when: (f) => f.net !== null,
    error: (f) => ({
      message: `${f.where}: cannot reach the ECS endpoint ${f.ctx.endpoint} (${f.net?.[0]})`,
      code: 'ALICLOUD_UNREACHABLE',
      exitCode: EXIT.FAILURE,
      hint: 'Check the network path, proxy and --endpoint, then run discover again',
    }),
  },
  {
    when: (f) =>
      f.e instanceof SyntaxError ||
      f.code === 'MalformedResponse' ||
      /JSON|Unexpected (end|token)|malformed/i.test(f.msg),
    error: (f) => ({
      message: `${f.where}: the answer to ${f.perm} was not a valid ECS response`,
      code: 'ALICLOUD_BAD_RESPONSE',
      exitCode: EXIT.FAILURE,
      hint: 'The endpoint did not answer like ECS: check --endpoint and any proxy in between',
    }),
  },
]

export function alicloudError(error: unknown, ctx: Ctx): MigrateError {
  const e = error as SdkError
  const code = String(e?.code ?? '')
  const msg = String(e?.message ?? error)
  const f: Facts = {
    e,
    code,
    msg,
    net: /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN|socket hang up|timeout/i.exec(
      `${code} ${msg} ${e?.cause?.code ?? ''}`,
    ),
    where: `alicloud (profile ${ctx.profile}, region ${ctx.region})`,
    perm: `ecs:${ctx.action}`,
    ctx,
  }
  const data = {profile: ctx.profile, region: ctx.region, action: ctx.action, alicloudCode: code}
  const rule = RULES.find((r) => r.when(f))
  if (rule) {
    const {message, ...rest} = rule.error(f)
    return new MigrateError(message, {...rest, data})
  }
  return new MigrateError(`${f.where}: ${f.perm} failed: ${code || e?.name || 'error'}: ${msg.split('\n')[0]}`, {
    code: 'ALICLOUD_ERROR',
    exitCode: EXIT.FAILURE,
    hint: 'Run again with --debug for details',
    data,
  })
}
