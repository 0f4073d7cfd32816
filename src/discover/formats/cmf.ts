// The Cloud Migration Factory intake form: sizes are optional (taken from the target instance type when missing),
// wave, target account, region and instance type become tags.
import {normaliseEnv, normaliseRole} from '../app-tags.js'
import type {CsvFormatDef, MappedRow, RowReader} from './row.js'
import {osOf, parseTags, splitList, STRATEGIES} from './values.js'

/** Rough vCPU/MiB of an AWS or Alibaba instance type name (m5.xlarge, ecs.g7.large), for forms without sizes. */
export function sizeFromInstanceType(t: string | undefined): [number, number] | undefined {
  if (!t) return undefined
  const m = /^(?:ecs\.)?([a-z]+)\d+[a-z-]*\.(nano|micro|small|medium|large|xlarge|(\d+)xlarge)$/.exec(
    t.trim().toLowerCase(),
  )
  if (!m) return undefined
  const fam = m[1]
  const size = m[2]
  const burst: Record<string, [number, number]> = {
    nano: [2, 512],
    micro: [2, 1024],
    small: [2, 2048],
    medium: [2, 4096],
    large: [2, 8192],
    xlarge: [4, 16384],
  }
  if (fam === 't') return burst[size] ?? [Number(m[3] ?? 2) * 4, Number(m[3] ?? 2) * 16384]
  const vcpus = size === 'large' ? 2 : size === 'xlarge' ? 4 : m[3] ? Number(m[3]) * 4 : 1
  const perCpu = fam.startsWith('r') ? 8192 : fam.startsWith('c') ? 2048 : fam.startsWith('x') ? 16384 : 4096
  return [vcpus, vcpus * perCpu]
}

/** vCPUs and MiB from the row, else from the instance type, else 1 / 1024 with sizingUnknown. */
function sizesOf(row: RowReader): {vcpus: number; memoryMiB: number; sizingUnknown: boolean} {
  const sized = sizeFromInstanceType(row.get('instancetype'))
  let vcpus = row.num('cpu', ['vcpus', 'cpus', 'cpu', 'cores'], {positive: true})
  const gb = (g: number | undefined) => (g === undefined ? undefined : Math.round(g * 1024))
  let mem =
    row.num('memory_mb', ['memorymb', 'rammb', 'memory', 'ram'], {positive: true}) ??
    gb(row.num('memory_gb', ['memorygb'], {positive: true}))
  let sizingUnknown = false
  if (vcpus === undefined || mem === undefined) {
    if (sized) {
      vcpus ??= sized[0]
      mem ??= sized[1]
    } else {
      sizingUnknown = true
      vcpus ??= 1
      mem ??= 1024
    }
  }
  return {vcpus, memoryMiB: mem, sizingUnknown}
}

const TAG_COLUMNS = [
  ['wave', 'wavename'],
  ['targetAccount', 'awsaccountid'],
  ['targetRegion', 'awsregion'],
  ['targetInstanceType', 'instancetype'],
] as const

function mapCmfRow(row: RowReader): MappedRow {
  const {vcpus, memoryMiB, sizingUnknown} = sizesOf(row)
  const tags = parseTags(row.get('tags'))
  for (const [k, c] of TAG_COLUMNS) {
    const v = row.get(c)
    if (v) tags[k] = v
  }
  const disk = row.num('disk_gb', ['diskgb', 'disk', 'storagegb'])
  const server: MappedRow['server'] = {
    name: row.get('servername'),
    provider: 'onprem',
    hostname: row.get('serverfqdn'),
    privateIps: splitList(row.get('privateip')),
    publicIps: [],
    vcpus,
    memoryMiB,
    disks: disk !== undefined ? [{name: 'disk0', sizeGiB: disk}] : [],
    os: osOf(row.get('serverosversion'), undefined, row.get('serverosfamily')),
    state: 'running',
    tags,
  }
  const tier = row.get('servertier')
  if (tier) server.role = normaliseRole(tier)
  const env = row.get('serverenvironment')
  if (env) server.environment = normaliseEnv(env)
  return {
    server,
    appName: row.get('appname'),
    strategy: STRATEGIES[(row.get('rtype') ?? '').toLowerCase()],
    sizingUnknown,
  }
}

export const cmfCsv: CsvFormatDef = {
  title: 'Cloud Migration Factory intake form',
  required: [
    {label: 'server_name', any: ['servername']},
    {label: 'app_name', any: ['appname']},
  ],
  known: [
    'waveid',
    'wavename',
    'appid',
    'appname',
    'cloud',
    'awsaccountid',
    'awsregion',
    'servername',
    'serverosfamily',
    'serverosversion',
    'serverfqdn',
    'servertier',
    'serverenvironment',
    'rtype',
    'subnetids',
    'securitygroupids',
    'subnetidstest',
    'securitygroupidstest',
    'instancetype',
    'tenancy',
    'iamrole',
    'privateip',
    'secondaryprivateip',
    'dedicatedhostid',
    'networkinterfaceid',
    'networkinterfaceidtest',
    'tags',
    'ebsencrypted',
    'ebskmskeyid',
    'ebsvolumetype',
    'ebsiops',
    'ebsthroughput',
    'serverid',
    'migrationstatus',
    'replicationstatus',
    'cpu',
    'cpus',
    'vcpus',
    'cores',
    'memory',
    'memorymb',
    'memorygb',
    'ram',
    'rammb',
    'diskgb',
    'disk',
    'storagegb',
    'serverbootmode',
    'placementgroup',
  ],

  detect: (cols) =>
    cols.has('servername') &&
    cols.has('appname') &&
    (cols.has('serverosfamily') || cols.has('wavename') || cols.has('rtype') || cols.has('serverenvironment')),
  mapRow: mapCmfRow,
}
