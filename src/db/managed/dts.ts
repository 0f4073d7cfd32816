// Alibaba Cloud Data Transmission Service (DTS, API 2020-01-01): the way data reaches ApsaraDB RDS (MySQL, MariaDB)
// and Tair/ApsaraDB for Redis from a server we own. The team buys the DTS instance (CreateDtsInstance answers an
// instance id and a job id, which the plan carries); migrate configures that job (ConfigureDtsJob: full load +
// incremental, the source as the job's accounts reach it), starts it once the service's precheck passed, watches
// DescribeDtsJobDetail (Status, Delay in ms, Checkpoint), suspends it at cutover and stops it at finalize. The way
// back is DTS's reverse task (CreateReverseDtsJob: it collects the destination's changes from its creation on, and
// writes them into the source only after StartReverseWriter).
// Calls go through @alicloud/openapi-core (the generic RPC call that Alibaba's generated SDKs are built on: the DTS
// package @alicloud/dts20200101 is not on the registry this project installs from), signed ACS3-HMAC-SHA256 with
// ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET (and …SECURITY_TOKEN) from the environment: never in plan, state or logs.
import {createRequire} from 'node:module'
import {badInput, EXIT, MigrateError, type ExitCode} from '../../errors.js'
import {parseAlicloudEndpoint} from '../../providers/alicloud.js'
import {sleep} from '../connect.js'

type Core = typeof import('@alicloud/openapi-core')

export interface DtsTarget {
  region: string
  /** host[:port] or http(s)://host[:port] of the DTS API (default dts.aliyuncs.com; ALIBABA_CLOUD_DTS_ENDPOINT). */
  endpoint?: string
  maxAttempts?: number
}

export type DtsEngine = 'MySQL' | 'MariaDB' | 'Redis'

export interface DtsJobState {
  id: string
  instanceId: string
  status: string
  /** Incremental delay in milliseconds (DescribeDtsJobDetail Delay). */
  delayMs: number
  /** UNIX seconds of the newest change applied (DescribeDtsJobDetail Checkpoint). */
  checkpoint: number
  fullLoad: {status: string; percent: string}
  incremental: {status: string}
  precheck: {status: string; failed: string[]}
  errorMessage: string
  reverseJobId?: string
}

/** The fields of DTS answers migrate reads (wire names). */
export interface DtsBody {
  Success?: boolean
  ErrCode?: string
  Code?: string
  ErrMessage?: string
  Message?: string
  DtsJobId?: string
  DtsInstanceID?: string
  Status?: string
  Delay?: number | string
  Checkpoint?: number | string
  ErrorMessage?: string
  DataInitializationStatus?: {Status?: string; Percent?: string}
  DataSynchronizationStatus?: {Status?: string}
  PrecheckStatus?: {Status?: string; Detail?: {CheckItem?: string; CheckResult?: string; FailedReason?: string}[]}
  ReverseJob?: {DtsJobId?: string}
}

export const DTS_ENGINES: Record<string, DtsEngine> = {mysql: 'MySQL', mariadb: 'MariaDB', redis: 'Redis'}

/** The access key from the environment, or a located error saying how to give it (checked before anything runs). */
export function dtsCredentials(): {accessKeyId: string; accessKeySecret: string; securityToken?: string} {
  const env = process.env
  if (!env.ALIBABA_CLOUD_ACCESS_KEY_ID || !env.ALIBABA_CLOUD_ACCESS_KEY_SECRET)
    throw badInput(
      'no Alibaba Cloud credentials: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not both set',
      'ALICLOUD_NO_CREDENTIALS',
      'Export them (a RAM user with AliyunDTSFullAccess), and ALIBABA_CLOUD_SECURITY_TOKEN for an STS token; they never go into the plan',
    )
  return {
    accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    ...(env.ALIBABA_CLOUD_SECURITY_TOKEN ? {securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN} : {}),
  }
}

function core(): Core {
  const m = createRequire(import.meta.url)('@alicloud/openapi-core') as Core & {default?: Core}
  return m.default && '$OpenApiUtil' in m.default ? m.default : m
}

/** What DTS answered, as a MigrateError naming the call, the service's code and what to do. */
export function dtsError(error: unknown, t: DtsTarget, action: string, jobId?: string): MigrateError {
  const e = error as {code?: string; message?: string; statusCode?: number; data?: {Message?: string}}
  const code = String(e?.code ?? '')
  const msg = String(e?.data?.Message ?? e?.message ?? error).split('\n')[0]
  const where = `DTS ${action}${jobId ? ` on job ${jobId}` : ''} (${t.region})`
  const data = {action, alicloudCode: code, ...(jobId ? {jobId} : {})}
  const rules: [RegExp, string, string, ExitCode][] = [
    [
      /InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature|InvalidSecurityToken/,
      'ALICLOUD_BAD_CREDENTIALS',
      'Check ALIBABA_CLOUD_ACCESS_KEY_ID/…SECRET (and this machine’s clock)',
      EXIT.BAD_INPUT,
    ],
    [/^Forbidden|NoPermission/, 'ALICLOUD_ACCESS_DENIED', 'Grant the RAM user AliyunDTSFullAccess', EXIT.BAD_INPUT],
    [
      /Throttling/,
      'DTS_THROTTLED',
      'DTS kept throttling after the retries: run the step again in a moment',
      EXIT.FAILURE,
    ],
    [
      /NotFound|NotExist/,
      'DTS_NOT_FOUND',
      'Check dts_job_id, the destination instance id and the region in the plan: the DTS instance must be bought before the wave (plan lists it)',
      EXIT.BAD_INPUT,
    ],
    [
      /OperationDenied|Status/,
      'DTS_WRONG_STATE',
      'Look at the job (migrate db dts-check) and run the step that fits its state',
      EXIT.FAILURE,
    ],
    [
      /MissingParameter|InvalidParameter|Invalid/,
      'DTS_BAD_PARAMETER',
      'Check the job’s parameters in the plan (addresses, accounts, databases)',
      EXIT.BAD_INPUT,
    ],
  ]
  for (const [re, c, hint, exitCode] of rules)
    if (re.test(code)) return new MigrateError(`${where}: ${code}: ${msg}`, {code: c, hint, exitCode, data})
  if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN|socket hang up|timeout/i.test(`${code} ${msg}`))
    return new MigrateError(`${where}: cannot reach the DTS endpoint ${t.endpoint ?? 'dts.aliyuncs.com'} (${msg})`, {
      code: 'DTS_UNREACHABLE',
      hint: 'Check the network path and --endpoint (ALIBABA_CLOUD_DTS_ENDPOINT)',
      data,
    })
  return new MigrateError(`${where} failed: ${code || 'error'}: ${msg}`, {
    code: 'DTS_ERROR',
    hint: 'Run again with --debug for details',
    data,
  })
}

/** One DTS call: RPC style, query parameters (and form body ones), JSON answer; Success=false is an error too. */
export async function dtsCall(
  t: DtsTarget,
  action: string,
  query: Record<string, string | number | boolean | undefined>,
  body?: Record<string, string>,
): Promise<DtsBody> {
  const c = core()
  const ep = parseAlicloudEndpoint(t.endpoint || process.env.ALIBABA_CLOUD_DTS_ENDPOINT || 'dts.aliyuncs.com')
  const client = new c.default(
    new c.$OpenApiUtil.Config({
      ...dtsCredentials(),
      regionId: t.region,
      endpoint: ep.host,
      protocol: ep.protocol,
      connectTimeout: 10_000,
      readTimeout: 60_000,
      retryOptions: {
        retryable: true,
        retryCondition: [
          {
            maxAttempts: (t.maxAttempts ?? 5) - 1,
            exception: ['ThrottlingError'],
            errorCode: ['Throttling', 'Throttling.User', 'Throttling.Api', 'ServiceUnavailable'],
            maxDelay: 20_000,
            backoff: {getDelayTime: (x: {retriesAttempted: number}) => Math.min(20_000, 200 * 2 ** x.retriesAttempted)},
          },
        ],
        noRetryCondition: [],
      },
    } as never),
  )
  const params = new c.$OpenApiUtil.Params({
    action,
    version: '2020-01-01',
    protocol: 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  })
  const q: Record<string, string> = {RegionId: t.region}
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q[k] = String(v)
  const jobId = q.DtsJobId
  let out: DtsBody
  try {
    const req = new c.$OpenApiUtil.OpenApiRequest({query: c.OpenApiUtil.query(q), ...(body ? {body} : {})})
    out = ((await client.callApi(params, req, {} as never)) as {body: DtsBody}).body
  } catch (e) {
    throw dtsError(e, t, action, jobId)
  }
  if (out?.Success === false)
    throw dtsError({code: out.ErrCode ?? out.Code, message: out.ErrMessage ?? out.Message}, t, action, jobId)
  return out
}

export async function dtsDescribe(t: DtsTarget, jobId: string): Promise<DtsJobState> {
  const b = await dtsCall(t, 'DescribeDtsJobDetail', {DtsJobId: jobId})
  return {
    id: b.DtsJobId ?? jobId,
    instanceId: b.DtsInstanceID ?? '',
    status: b.Status ?? 'unknown',
    delayMs: Number(b.Delay ?? 0),
    checkpoint: Number(b.Checkpoint ?? 0),
    fullLoad: {status: b.DataInitializationStatus?.Status ?? '', percent: b.DataInitializationStatus?.Percent ?? ''},
    incremental: {status: b.DataSynchronizationStatus?.Status ?? ''},
    precheck: {
      status: b.PrecheckStatus?.Status ?? '',
      failed: (b.PrecheckStatus?.Detail ?? [])
        .filter((d) => d.CheckResult !== 'Success')
        .map((d) => d.FailedReason ?? d.CheckItem ?? ''),
    },
    errorMessage: b.ErrorMessage ?? '',
    reverseJobId: b.ReverseJob?.DtsJobId || undefined,
  }
}

/** Polls DescribeDtsJobDetail until `done` says so (or throws), with a progress line per change of state. */
export async function dtsWaitFor(
  t: DtsTarget,
  jobId: string,
  done: (s: DtsJobState) => boolean,
  o: {timeoutMs: number; what: string; intervalMs?: number; log?: (l: string) => void},
): Promise<DtsJobState> {
  const deadline = Date.now() + o.timeoutMs
  let last = ''
  for (;;) {
    const s = await dtsDescribe(t, jobId)
    if (done(s)) return s
    const line = `${s.status}, full load ${s.fullLoad.status || '-'} ${s.fullLoad.percent}%, incremental ${s.incremental.status || '-'}, delay ${s.delayMs} ms`
    if (line !== last) o.log?.(`job ${jobId}: ${line}`)
    last = line
    if (['MigrationFailed', 'Failed', 'PrecheckFailed', 'Finished'].includes(s.status))
      throw new MigrateError(`DTS job ${jobId} is ${s.status} while waiting for ${o.what}: ${s.errorMessage}`, {
        code: 'DTS_JOB_FAILED',
        hint: 'Read the job’s error in the DTS console or with migrate db dts-check, fix it, and run the step again',
        data: {jobId, status: s.status, precheckFailed: s.precheck.failed},
      })
    if (Date.now() > deadline)
      throw new MigrateError(`DTS job ${jobId} did not reach ${o.what} in ${o.timeoutMs} ms (now ${line})`, {
        code: 'DTS_TIMEOUT',
        hint: 'Writes may outrun the job’s class: wait (run the step again) or upgrade the DTS instance class',
        data: {jobId, status: s.status, delayMs: s.delayMs},
      })
    await sleep(o.intervalMs ?? 200)
  }
}

export async function waitDtsJob(
  t: DtsTarget,
  jobId: string,
  maxDelayMs: number,
  timeoutMs: number,
  log?: (l: string) => void,
) {
  return dtsWaitFor(
    t,
    jobId,
    (s) =>
      ['Migrating', 'Synchronizing'].includes(s.status) &&
      s.fullLoad.status === 'Finished' &&
      s.incremental.status !== 'NotStarted' &&
      s.delayMs <= maxDelayMs,
    {timeoutMs, what: `a delay ≤ ${maxDelayMs} ms`, log},
  )
}
