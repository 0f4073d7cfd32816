// Flags of the `migrate db dts-*` commands: which DTS job, in which region, through which endpoint; and for the
// commands that configure the job, the source as DTS reaches it and the accounts DTS uses (passwords by env name).
import {Flags} from '@oclif/core'
import {badInput} from '../errors.js'
import {DTS_ENGINES, type DtsEngine, type DtsTarget} from '../db/managed/dts.js'
import type {DtsJobSpec} from '../db/managed/dts-job.js'
import {parseAddr} from '../db/managed/elasticache.js'

export const dtsFlags = {
  'dts-job-id': Flags.string({
    required: true,
    description: 'DTS job id (CreateDtsInstance answers it with the instance id)',
  }),
  region: Flags.string({required: true, description: 'Alibaba Cloud region of the DTS instance, e.g. ap-southeast-5'}),
  endpoint: Flags.string({
    description:
      'DTS API endpoint, host[:port] or http(s)://host[:port] (default dts.aliyuncs.com; ALIBABA_CLOUD_DTS_ENDPOINT)',
  }),
}

export const dtsEngineFlag = {
  engine: Flags.option({
    options: ['mysql', 'mariadb', 'redis'] as const,
    required: true,
    description: 'source engine',
  })(),
}

export const dtsSpecFlags = {
  'source-addr': Flags.string({required: true, description: 'host:port of the source as DTS reaches it'}),
  'ecs-instance-id': Flags.string({
    description: 'the ECS instance the source runs on (source type ECS instead of OTHER)',
  }),
  'dts-source-user': Flags.string({
    default: '',
    description: 'account DTS reads the source with (MySQL: REPLICATION SLAVE, REPLICATION CLIENT, SELECT)',
  }),
  'dts-source-password-env': Flags.string({description: 'environment variable holding that account’s password'}),
  'target-instance-id': Flags.string({required: true, description: 'ApsaraDB RDS (rm-…) or Tair (r-…) instance id'}),
  'dts-target-user': Flags.string({
    default: '',
    description: 'account DTS writes the target with (its master account)',
  }),
  'dts-target-password-env': Flags.string({description: 'environment variable holding that account’s password'}),
  databases: Flags.string({default: '', description: 'MySQL family: comma-separated databases to move'}),
  'job-name': Flags.string({description: 'DTS job name (default migrate-<dts-job-id>)'}),
}

export function dtsTarget(flags: {region: string; endpoint?: string}): DtsTarget {
  return {region: flags.region, endpoint: flags.endpoint || undefined}
}

export function dtsEngine(engine: string): DtsEngine {
  const e = DTS_ENGINES[engine]
  if (!e)
    throw badInput(
      `--engine ${engine} is not one DTS is driven for`,
      'DTS_ENGINE_NOT_SUPPORTED',
      'Use mysql, mariadb or redis',
    )
  return e
}

export function dtsSpec(flags: {
  engine: string
  'dts-job-id': string
  'source-addr': string
  'ecs-instance-id'?: string
  'dts-source-user': string
  'dts-source-password-env'?: string
  'target-instance-id': string
  'dts-target-user': string
  'dts-target-password-env'?: string
  databases: string
  'job-name'?: string
}): DtsJobSpec {
  const engine = dtsEngine(flags.engine)
  const databases = flags.databases
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean)
  for (const d of databases)
    if (!/^[A-Za-z0-9_$-]{1,64}$/.test(d))
      throw badInput(`--databases: ${d} is not a database name`, 'DTS_BAD_DATABASE', 'Pass names like shop,billing')
  if (engine !== 'Redis' && databases.length === 0)
    throw badInput('--databases is empty', 'DTS_BAD_DATABASE', 'Name the databases DTS moves, e.g. --databases shop')
  return {
    jobId: flags['dts-job-id'],
    name: flags['job-name'] || `migrate-${flags['dts-job-id']}`,
    engine,
    source: {
      ...parseAddr(flags['source-addr'], '--source-addr'),
      user: flags['dts-source-user'],
      passwordEnv: flags['dts-source-password-env'],
      ecsInstanceId: flags['ecs-instance-id'],
    },
    target: {
      instanceId: flags['target-instance-id'],
      user: flags['dts-target-user'],
      passwordEnv: flags['dts-target-password-env'],
    },
    databases,
  }
}
