// The DTS job's life as the template's steps drive it: configure + precheck + start (idempotent: it looks at the
// job's state first), suspend and resume around the cutover, the reverse task for the way back, and stop at the end.
import {badInput, MigrateError} from '../../errors.js'
import {type DtsEngine, type DtsJobState, type DtsTarget, dtsCall, dtsDescribe, dtsWaitFor} from './dts.js'

export interface DtsJobSpec {
  jobId: string
  name: string
  engine: DtsEngine
  /** The source as DTS reaches it: an address on a self-managed host (OTHER, or ECS with its instance id). */
  source: {host: string; port: number; user: string; passwordEnv?: string; ecsInstanceId?: string}
  /** The ApsaraDB RDS / Tair instance and the account DTS writes with. */
  target: {instanceId: string; user: string; passwordEnv?: string}
  /** MySQL family: the databases to move (all their tables). */
  databases: string[]
}

function secret(name: string | undefined, what: string): string | undefined {
  if (!name) return undefined
  const v = process.env[name]
  if (v === undefined)
    throw badInput(
      `environment variable ${name} (${what}) is not set`,
      'DB_PASSWORD_ENV_MISSING',
      `Export ${name}; DTS needs the password to connect, and it never goes into the plan`,
    )
  return v
}

/** ConfigureDtsJob's parameters for a full load + incremental migration of `spec` (passwords from the environment). */
export function configureParams(
  t: DtsTarget,
  spec: DtsJobSpec,
): {query: Record<string, string>; body: Record<string, string>} {
  const redis = spec.engine === 'Redis'
  const query: Record<string, string | undefined> = {
    DtsJobId: spec.jobId,
    DtsJobName: spec.name,
    JobType: 'MIGRATION',
    SourceEndpointInstanceType: spec.source.ecsInstanceId ? 'ECS' : 'OTHER',
    SourceEndpointInstanceID: spec.source.ecsInstanceId,
    SourceEndpointEngineName: spec.engine,
    SourceEndpointRegion: t.region,
    SourceEndpointIP: spec.source.host,
    SourceEndpointPort: String(spec.source.port),
    SourceEndpointUserName: spec.source.user || undefined,
    SourceEndpointPassword: secret(spec.source.passwordEnv, 'the source password'),
    DestinationEndpointInstanceType: redis ? 'REDIS' : 'RDS',
    DestinationEndpointInstanceID: spec.target.instanceId,
    DestinationEndpointEngineName: spec.engine,
    DestinationEndpointRegion: t.region,
    DestinationEndpointUserName: spec.target.user || undefined,
    DestinationEndpointPassword: secret(spec.target.passwordEnv, 'the target password'),
    StructureInitialization: String(!redis),
    DataInitialization: 'true',
    DataSynchronization: 'true',
  }
  const dbList = redis ? {} : Object.fromEntries(spec.databases.map((d) => [d, {name: d, all: true}]))
  return {
    query: Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as Record<string, string>,
    body: {DbList: JSON.stringify(dbList)},
  }
}

/**
 * Configure (if not yet), wait for the precheck, start (or resume a suspended job). Running already: nothing to do.
 * A finished or failed job cannot run again: DTS needs a new job for that.
 */
export async function dtsReplicate(
  t: DtsTarget,
  spec: DtsJobSpec,
  o: {timeoutMs: number; log?: (l: string) => void},
): Promise<DtsJobState> {
  let s = await dtsDescribe(t, spec.jobId)
  if (['Migrating', 'Synchronizing'].includes(s.status)) return s
  if (['NotConfigured', 'PrecheckFailed'].includes(s.status)) {
    const {query, body} = configureParams(t, spec)
    await dtsCall(t, 'ConfigureDtsJob', query, body)
    o.log?.(
      `job ${spec.jobId} configured: ${spec.engine} ${spec.source.host}:${spec.source.port} → ${spec.target.instanceId}`,
    )
    s = await dtsWaitFor(t, spec.jobId, (x) => x.status !== 'Prechecking', {...o, what: 'the end of the precheck'})
    if (s.status === 'PrecheckFailed')
      throw new MigrateError(
        `DTS precheck of job ${spec.jobId} failed: ${s.precheck.failed.join('; ') || s.errorMessage}`,
        {
          code: 'DTS_PRECHECK_FAILED',
          hint: 'Fix what the precheck names (accounts, binlog settings, network from DTS to the source), then run the step again: it configures the job anew',
          data: {jobId: spec.jobId, failed: s.precheck.failed},
        },
      )
  }
  if (['NotStarted', 'Suspending'].includes(s.status)) {
    await dtsCall(t, 'StartDtsJob', {DtsJobId: spec.jobId})
    return dtsDescribe(t, spec.jobId)
  }
  throw new MigrateError(
    `DTS job ${spec.jobId} is ${s.status}: it cannot be started${s.errorMessage ? ` (${s.errorMessage})` : ''}`,
    {
      code: 'DTS_WRONG_STATE',
      hint: 'A finished or failed DTS job does not run again: buy a new DTS instance (its job id goes into the plan) and run the wave again',
      data: {jobId: spec.jobId, status: s.status},
    },
  )
}

/** SuspendDtsJob when running (the cutover: nothing more is applied to the target). */
export async function dtsSuspend(t: DtsTarget, jobId: string): Promise<string> {
  const s = await dtsDescribe(t, jobId)
  if (s.status !== 'Migrating') return `already ${s.status}`
  await dtsCall(t, 'SuspendDtsJob', {DtsJobId: jobId})
  return 'suspended'
}

/** StartDtsJob on a suspended job (undoing the suspension). */
export async function dtsResume(t: DtsTarget, jobId: string): Promise<void> {
  const s = await dtsDescribe(t, jobId)
  if (s.status === 'Suspending') await dtsCall(t, 'StartDtsJob', {DtsJobId: jobId})
}

/** StopDtsJob of the job and of its reverse task, whatever they are doing; finished ones are left alone. */
export async function dtsStop(t: DtsTarget, jobId: string): Promise<string[]> {
  const s = await dtsDescribe(t, jobId)
  const done: string[] = []
  for (const id of [s.reverseJobId, jobId]) {
    if (!id) continue
    const x = id === jobId ? s : await dtsDescribe(t, id)
    if (['Finished', 'NotConfigured'].includes(x.status)) continue
    await dtsCall(t, 'StopDtsJob', {DtsJobId: id})
    done.push(id)
  }
  return done
}

/** The reverse task (collecting the target's changes from now on; it writes them into the source only when told). */
export async function dtsCreateReverse(t: DtsTarget, jobId: string): Promise<string> {
  const s = await dtsDescribe(t, jobId)
  if (s.reverseJobId) {
    const r = await dtsDescribe(t, s.reverseJobId)
    if (r.status !== 'Finished') return s.reverseJobId
  }
  const b = await dtsCall(t, 'CreateReverseDtsJob', {DtsJobId: jobId})
  return String(b.DtsJobId)
}
