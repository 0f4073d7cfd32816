// Our generic CSV: one server per row, columns by any of several common names, disks as "sda:100;sdb:500" or one
// size, tags from a tags cell and from tag:<key> columns.
import type {Server} from '../../schema/inventory.js'
import {normaliseEnv, normaliseRole} from '../app-tags.js'
import type {CsvFormatDef, MappedRow, RowReader} from './row.js'
import {diskParts, osOf, parseTags, powerState, splitList, STRATEGIES, utilizationOf} from './values.js'

/** The generic columns, each by its accepted names (normalised). */
export const GENERIC = {
  id: ['id', 'serverid', 'assetid', 'ci', 'ciid'],
  name: ['name', 'hostname', 'host', 'server', 'servername', 'vm', 'vmname'],
  ip: ['ip', 'ips', 'ipaddress', 'ipaddresses', 'privateip', 'privateips'],
  publicIp: ['publicip', 'publicips'],
  vcpus: ['vcpus', 'vcpu', 'cpu', 'cpus', 'cores', 'numcpu'],
  memoryMiB: ['memorymib', 'memorymb', 'memory', 'rammb', 'ram', 'ramtotalsizeinmb'],
  memoryGiB: ['memorygib', 'memorygb', 'ramgb', 'ramgib'],
  diskGiB: ['diskgib', 'diskgb', 'disk', 'storagegb', 'storagegib', 'disksizegb'],
  disks: ['disks'],
  diskUsedGiB: ['diskusedgib', 'diskusedgb', 'usedgb'],
  os: ['os', 'osname', 'operatingsystem'],
  osVersion: ['osversion'],
  osFamily: ['osfamily'],
  app: ['app', 'application', 'appname', 'service'],
  role: ['role', 'tier', 'servertier'],
  env: ['env', 'environment'],
  owner: ['owner', 'appowner'],
  criticality: ['criticality'],
  region: ['region', 'site', 'datacenter', 'datacentre', 'location'],
  zone: ['zone', 'rack', 'cluster'],
  tags: ['tags', 'labels'],
  state: ['state', 'status', 'powerstate'],
  instanceType: ['instancetype', 'type', 'size'],
  provider: ['provider', 'platform'],
  fqdn: ['fqdn', 'dnsname'],
  cpuP95: ['cpup95', 'cpuutil', 'cpuutilization'],
  memoryP95: ['memoryp95', 'memutil', 'memoryutilization'],
  strategy: ['strategy', 'rtype'],
}

const PROVIDERS = ['aws', 'alicloud', 'onprem', 'vmware', 'azure', 'gcp', 'other']

/** The disks of a row: the "disks" cell's entries (each bad one an error), else one disk from disk_gb. */
function disksOf(row: RowReader): Server['disks'] {
  const disks: Server['disks'] = []
  const diskList = row.get('disks')
  if (!diskList) {
    const size = row.num('disk_gb', GENERIC.diskGiB)
    const used = row.num('disk_used_gb', GENERIC.diskUsedGiB)
    if (size !== undefined) disks.push({name: 'disk0', sizeGiB: size, ...(used !== undefined ? {usedGiB: used} : {})})
    return disks
  }
  const entries = diskList.split(/[;|]/).filter((p) => p.trim() !== '')
  for (const [k, part] of diskParts(diskList).entries()) {
    const size = part ? row.read(part[1]) : undefined
    if (part && size && 'value' in size) {
      disks.push({name: part[0], sizeGiB: size.value})
      continue
    }
    const why = size && 'problem' in size ? `: its size ${size.problem}` : ' is not NAME:GiB'
    row.report(
      'error',
      'CSV_BAD_VALUE',
      `disks entry ${JSON.stringify(entries[k].trim())}${why}`,
      size && 'hint' in size ? size.hint : 'Write disks as sda:100;sdb:500',
      row.column(['disks']),
    )
  }
  return disks
}

/** The tags cell plus every tag:<key> (or tags.<key>) column. */
function tagsOf(row: RowReader): Record<string, string> {
  const tags = parseTags(row.get(...GENERIC.tags))
  const {header} = row.ctx.table
  header.forEach((h, i) => {
    const m = /^tags?[:.](.+)$/i.exec(h.trim())
    if (m && row.rec.fields[i]?.trim()) tags[m[1]] = row.rec.fields[i].trim()
  })
  return tags
}

function mapGenericRow(row: RowReader): MappedRow {
  const get = (names: string[]) => row.get(...names)
  const memGiB = row.num('memory_gb', GENERIC.memoryGiB, {positive: true})
  const memMiB =
    memGiB !== undefined
      ? Math.round(memGiB * 1024)
      : row.num('memory_mib', GENERIC.memoryMiB, {required: true, positive: true})
  const disks = disksOf(row)
  const tags = tagsOf(row)
  const cpu95 = row.num('cpu_p95', GENERIC.cpuP95)
  const mem95 = row.num('memory_p95', GENERIC.memoryP95)
  const provider = (get(GENERIC.provider) ?? 'onprem').toLowerCase()
  const server: MappedRow['server'] = {
    id: get(GENERIC.id),
    name: get(GENERIC.name),
    provider: (PROVIDERS.includes(provider) ? provider : 'other') as Server['provider'],
    region: get(GENERIC.region),
    zone: get(GENERIC.zone),
    hostname: get(GENERIC.fqdn),
    privateIps: splitList(get(GENERIC.ip)),
    publicIps: splitList(get(GENERIC.publicIp)),
    vcpus: row.num('vcpus', GENERIC.vcpus, {required: true, positive: true}),
    memoryMiB: memMiB,
    disks,
    os: osOf(get(GENERIC.os), get(GENERIC.osVersion), get(GENERIC.osFamily)),
    instanceType: get(GENERIC.instanceType),
    state: powerState(get(GENERIC.state)),
    tags,
    ...utilizationOf(cpu95, mem95),
  }
  const role = get(GENERIC.role)
  if (role) server.role = normaliseRole(role)
  const env = get(GENERIC.env)
  if (env) server.environment = normaliseEnv(env)
  return {
    server,
    appName: get(GENERIC.app),
    owner: get(GENERIC.owner),
    criticality: get(GENERIC.criticality),
    strategy: STRATEGIES[(get(GENERIC.strategy) ?? '').toLowerCase()],
  }
}

export const genericCsv: CsvFormatDef = {
  title: 'generic CSV',
  required: [
    {label: 'name (or hostname)', any: GENERIC.name},
    {label: 'vcpus (or cpu, cores)', any: GENERIC.vcpus},
    {label: 'memory_mib (or memory_mb, memory_gb)', any: [...GENERIC.memoryMiB, ...GENERIC.memoryGiB]},
  ],
  known: Object.values(GENERIC).flat(),
  knownPrefixes: ['tag'],
  detect: (cols) => genericCsv.required.every((g) => g.any.some((a) => cols.has(a))),
  mapRow: mapGenericRow,
}
