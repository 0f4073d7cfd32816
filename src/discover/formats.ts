// CMDB exports people already have, read into servers: our generic CSV, the AWS Migration Hub / Application
// Discovery Service import template, the Azure Migrate server-import CSV, an RVTools vInfo export and the Cloud
// Migration Factory intake form. Each format is a set of recognised columns (compared case- and punctuation-blind,
// units in parentheses ignored) and a row mapper. Unknown and missing columns are reported by name and line.
import type {Diagnostic} from '../diagnostics.js'
import type {Application, Server} from '../schema/inventory.js'
import type {Strategy} from '../schema/common.js'
import {normaliseEnv, normaliseRole, slug} from './assign.js'
import type {CsvTable} from './csv.js'
import {NOT_A_NUMBER, numberLocaleOf, readNumber, type DecimalMark} from './csv-numbers.js'

export type CsvFormat = 'csv' | 'ads' | 'azure' | 'rvtools' | 'cmf'
export const CSV_FORMATS: readonly CsvFormat[] = ['csv', 'ads', 'azure', 'rvtools', 'cmf']
export const FORMAT_TITLES: Record<CsvFormat, string> = {
  csv: 'generic CSV',
  ads: 'AWS Migration Hub / ADS import template',
  azure: 'Azure Migrate server-import CSV',
  rvtools: 'RVTools vInfo export',
  cmf: 'Cloud Migration Factory intake form',
}

/** Lower case, no punctuation, no "(In MB)"-style units: "Memory (In MB)" and "memory_mb" compare as memory / memorymb. */
export const norm = (h: string): string =>
  h
    .toLowerCase()
    .replace(/\(.*?\)/g, '')
    .replace(/[^a-z0-9]/g, '')

interface Spec {
  /** Groups of alternatives; each group must be present. */
  required: {label: string; any: string[]}[]
  /** Columns read or deliberately ignored (normalised). */
  known: string[]
  /** Column prefixes (normalised) that are known too (disk1size…, cpuusagepct…). */
  knownPrefixes?: string[]
}

const GENERIC = {
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

const SPECS: Record<CsvFormat, Spec> = {
  csv: {
    required: [
      {label: 'name (or hostname)', any: GENERIC.name},
      {label: 'vcpus (or cpu, cores)', any: GENERIC.vcpus},
      {label: 'memory_mib (or memory_mb, memory_gb)', any: [...GENERIC.memoryMiB, ...GENERIC.memoryGiB]},
    ],
    known: Object.values(GENERIC).flat(),
    knownPrefixes: ['tag'],
  },
  ads: {
    required: [
      {label: 'ExternalId', any: ['externalid']},
      {
        label: 'CPU.NumberOfLogicalCores (or CPU.NumberOfCores)',
        any: ['cpunumberoflogicalcores', 'cpunumberofcores', 'cpunumberofprocessors'],
      },
      {label: 'RAM.TotalSizeInMB', any: ['ramtotalsizeinmb']},
    ],
    known: [
      'externalid',
      'smbiosid',
      'ipaddress',
      'macaddress',
      'hostname',
      'vmwaremorefid',
      'vmwarevcenterid',
      'vmwarevmname',
      'cpunumberofprocessors',
      'cpunumberofcores',
      'cpunumberoflogicalcores',
      'osname',
      'osversion',
      'ramtotalsizeinmb',
      'applications',
      'applicationwave',
      'tags',
      'disktotalsizeingb',
      'disktotalsizeinmb',
      'diskusedsizeingb',
      'cpuarchitecture',
    ],
    knownPrefixes: ['cpuusagepct', 'ramusedsizeinmb', 'ramusedpct', 'nic', 'disk'],
  },
  azure: {
    required: [
      {label: 'Server name', any: ['servername']},
      {label: 'Cores', any: ['cores']},
      {label: 'Memory (In MB)', any: ['memory', 'memoryinmb']},
    ],
    known: [
      'servername',
      'ipaddresses',
      'cores',
      'memory',
      'memoryinmb',
      'osname',
      'osversion',
      'osarchitecture',
      'cpuutilization',
      'cpuutilizationpercentage',
      'memoryutilization',
      'memoryutilizationpercentage',
      'networkadapters',
      'networkinthroughput',
      'networkoutthroughput',
      'boottype',
      'numberofdisks',
      'virtualmachineid',
      'virtualmachinemanagerid',
      'macaddress',
      'servertype',
      'cpumodel',
      'numberofsockets',
    ],
    knownPrefixes: ['disk'],
  },
  rvtools: {
    required: [
      {label: 'VM', any: ['vm']},
      {label: 'CPUs', any: ['cpus']},
      {label: 'Memory', any: ['memory']},
      {label: 'Powerstate', any: ['powerstate']},
    ],
    known: [
      'vm',
      'powerstate',
      'template',
      'srmplaceholder',
      'configstatus',
      'dnsname',
      'connectionstate',
      'gueststate',
      'heartbeat',
      'consolidationneeded',
      'poweron',
      'suspendedtomemory',
      'suspendtime',
      'suspendinterval',
      'creationdate',
      'changeversion',
      'cpus',
      'overallcpureadiness',
      'memory',
      'activememory',
      'nics',
      'disks',
      'totaldiskcapacitymib',
      'fixedpassthruhotplug',
      'minrequiredevcmodekey',
      'latencysensitivity',
      'opnotificationtimeout',
      'enableuuid',
      'cbt',
      'primaryipaddress',
      'network1',
      'network2',
      'network3',
      'network4',
      'network5',
      'network6',
      'network7',
      'network8',
      'nummonitors',
      'videoramkib',
      'resourcepool',
      'folderid',
      'folder',
      'vapp',
      'dasprotection',
      'ftstate',
      'ftrole',
      'ftlatency',
      'ftbandwidth',
      'ftseclatency',
      'vmfailoverinprogress',
      'provisionedmib',
      'provisionedmb',
      'inusemib',
      'inusemb',
      'unsharedmib',
      'unsharedmb',
      'harestartpriority',
      'haisolationresponse',
      'havmmonitoring',
      'clusterrules',
      'clusterrulenames',
      'bootrequired',
      'bootdelay',
      'bootretrydelay',
      'bootretryenabled',
      'bootbiossetup',
      'rebootpoweroff',
      'efisecureboot',
      'firmware',
      'hwversion',
      'hwupgradestatus',
      'hwupgradepolicy',
      'hwtarget',
      'path',
      'logdirectory',
      'snapshotdirectory',
      'suspenddirectory',
      'annotation',
      'datacenter',
      'cluster',
      'host',
      'osaccordingtotheconfigurationfile',
      'osaccordingtothevmwaretools',
      'customizationinfo',
      'guestdetaileddata',
      'vmid',
      'smbiosuuid',
      'vmuuid',
      'vicenteruuid',
      'vcenteruuid',
      'vinstanceuuid',
      'viinstanceuuid',
      'visdkserver',
      'visdkuuid',
      'vmxconfigchecksum',
      'backupstatus',
      'lastbackup',
      'clusterinvariantvmmid',
      'vinfoinstanceuuid',
      'vinfovisdkserver',
      'vinfovisdkuuid',
      'instanceuuid',
      'sdkserver',
      'sdkuuid',
      'vicenter',
    ],
  },
  cmf: {
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
  },
}

/** Picks the format whose signature columns are present (vendor formats first; generic CSV last). */
export function detectCsvFormat(header: string[]): CsvFormat | undefined {
  const cols = new Set(header.map(norm))
  const has = (...xs: string[]) => xs.every((x) => cols.has(x))
  if (has('externalid') && (cols.has('ramtotalsizeinmb') || [...cols].some((c) => c.startsWith('cpunumberof'))))
    return 'ads'
  if (
    has('vm', 'powerstate', 'cpus') &&
    (cols.has('primaryipaddress') ||
      cols.has('osaccordingtotheconfigurationfile') ||
      cols.has('provisionedmib') ||
      cols.has('provisionedmb'))
  )
    return 'rvtools'
  if (has('servername', 'cores') && (cols.has('memory') || cols.has('memoryinmb'))) return 'azure'
  if (
    has('servername', 'appname') &&
    (cols.has('serverosfamily') || cols.has('wavename') || cols.has('rtype') || cols.has('serverenvironment'))
  )
    return 'cmf'
  if (SPECS.csv.required.every((g) => g.any.some((a) => cols.has(a)))) return 'csv'
  return undefined
}

export interface FileRows {
  servers: Server[]
  applications: Application[]
  diagnostics: Diagnostic[]
}

const STRATEGIES: Record<string, Strategy | undefined> = {
  rehost: 'rehost',
  replatform: 'replatform',
  refactor: 'refactor',
  rearchitect: 'refactor',
  repurchase: 'repurchase',
  relocate: 'relocate',
  retain: 'retain',
  retire: 'retire',
}

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

/** Columns read as numbers (normalised names): their cells tell the file's decimal mark (src/discover/csv-numbers.ts). */
const NUMERIC = new Set([
  ...GENERIC.vcpus,
  ...GENERIC.memoryMiB,
  ...GENERIC.memoryGiB,
  ...GENERIC.diskGiB,
  ...GENERIC.diskUsedGiB,
  ...GENERIC.cpuP95,
  ...GENERIC.memoryP95,
  'cpunumberoflogicalcores',
  'cpunumberofcores',
  'cpunumberofprocessors',
  'ramtotalsizeinmb',
  'disktotalsizeingb',
  'disktotalsizeinmb',
  'diskusedsizeingb',
  'cores',
  'memoryinmb',
  'cpuutilizationpercentage',
  'memoryutilizationpercentage',
  'numberofdisks',
  'totaldiskcapacitymib',
  'provisionedmib',
  'provisionedmb',
  'inusemib',
  'inusemb',
  'unsharedmib',
  'unsharedmb',
  'activememory',
  'overallcpureadiness',
  'memorymb',
  'memorygb',
  'ebsiops',
  'ebsthroughput',
])
const isNumericColumn = (c: string) =>
  NUMERIC.has(c) || /^(?:cpuusagepct|ramusedsizeinmb|ramusedpct)|^disk\d+size$/.test(c)

/** The parts of a disks cell: "sda:100;sdb:1.024" → [["sda", "100"], ["sdb", "1.024"]]; undefined for a bad part. */
function diskParts(cell: string): ([string, string] | undefined)[] {
  return cell
    .split(/[;|]/)
    .filter((p) => p.trim() !== '')
    .map((p) => {
      const m = /^\s*([^:=]+?)\s*[:=]\s*(.+?)\s*$/.exec(p)
      return m ? [m[1], m[2]] : undefined
    })
}

/** Every numeric cell of the table with its line, for numberLocaleOf. */
function* numericCells(table: CsvTable, cols: string[]): Generator<{raw: string; line: number}> {
  const numeric = cols.flatMap((c, i) => (isNumericColumn(c) ? [i] : []))
  const disks = cols.indexOf('disks')
  for (const rec of table.records) {
    for (const i of numeric) if (rec.fields[i]) yield {raw: rec.fields[i], line: rec.line}
    if (disks >= 0 && rec.fields[disks]?.includes(':'))
      for (const part of diskParts(rec.fields[disks])) if (part) yield {raw: part[1], line: rec.line}
  }
}

function splitList(s: string | undefined): string[] {
  return (s ?? '')
    .split(/[;,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean)
}

/** "k=v;k2=v2" or "k:v, k2:v2" → record. */
export function parseTags(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  // Split at ; , | only where a new key=value starts, so values may contain commas.
  for (const part of (s ?? '').split(/[;,|]\s*(?=[^=:;,|]+[=:])/)) {
    const m = /^\s*([^=:]+?)\s*[=:]\s*(.*?)\s*$/.exec(part)
    if (m?.[1]) out[m[1]] = m[2]
  }
  return out
}

function osFamily(name: string | undefined, family?: string): Server['os']['family'] {
  const s = `${family ?? ''} ${name ?? ''}`.toLowerCase()
  if (/windows/.test(s)) return 'windows'
  if (/linux|centos|red ?hat|rhel|ubuntu|debian|suse|sles|oracle|rocky|alma|amazon|alpine|fedora|unix/.test(s))
    return 'linux'
  return 'other'
}

function state(s: string | undefined): Server['state'] {
  const v = (s ?? '').trim().toLowerCase()
  if (v === '' || /^(running|poweredon|on|up|active|in ?use|live)$/.test(v)) return 'running'
  if (/^(stopped|poweredoff|off|down|suspended|inactive|shutdown)$/.test(v)) return 'stopped'
  if (/^(terminated|decommissioned|retired|deleted)$/.test(v)) return 'terminated'
  return 'unknown'
}

/** Maps the rows of a CSV table in format `format` to servers and applications, with every problem positioned. */
export function mapCsv(
  file: string,
  table: CsvTable,
  format: CsvFormat,
  ref: (line: number) => string,
  decimal?: DecimalMark,
): FileRows {
  const spec = SPECS[format]
  const diagnostics: Diagnostic[] = []
  const cols = table.header.map(norm)
  const index = new Map<string, number>()
  cols.forEach((c, i) => {
    if (!index.has(c)) index.set(c, i)
  })
  const hl = table.headerLine
  const locale = numberLocaleOf(numericCells(table, cols), table.delimiter, decimal)
  const colOf = (i: number) => 1 + table.header.slice(0, i).reduce((n, h) => n + h.length + 1, 0)
  for (const p of table.problems)
    diagnostics.push({
      severity: 'error',
      code: 'CSV_SYNTAX',
      message: p.message,
      hint: 'Quote fields that contain the delimiter, quotes (doubled) or line breaks',
      file,
      line: p.line,
      column: p.column,
    })
  for (const g of spec.required) {
    if (!g.any.some((a) => index.has(a)))
      diagnostics.push({
        severity: 'error',
        code: 'CSV_MISSING_COLUMN',
        message: `missing column "${g.label}" for the ${FORMAT_TITLES[format]}`,
        hint: `Add the column to the header (line ${hl}); the header has: ${table.header.join(', ')}`,
        file,
        line: hl,
        column: 1,
      })
  }
  const known = new Set(spec.known)
  const unknown: {name: string; col: number}[] = []
  cols.forEach((c, i) => {
    if (c === '' || known.has(c) || (spec.knownPrefixes ?? []).some((p) => c.startsWith(p))) return
    unknown.push({name: table.header[i], col: colOf(i)})
  })
  // RVTools exports vCenter custom attributes as extra columns: they become tags, not warnings.
  const attrCols = format === 'rvtools' ? unknown.map((u) => u.name) : []
  if (format !== 'rvtools') {
    for (const u of unknown)
      diagnostics.push({
        severity: 'warning',
        code: 'CSV_UNKNOWN_COLUMN',
        message: `unknown column "${u.name}" is ignored`,
        hint:
          format === 'csv'
            ? `Rename it to a known column, or to tag:${u.name} to keep it as a tag`
            : `Not part of the ${FORMAT_TITLES[format]}`,
        file,
        line: hl,
        column: u.col,
      })
  }
  const servers: Server[] = []
  const apps = new Map<string, Application>()
  if (diagnostics.some((d) => d.severity === 'error' && d.code === 'CSV_MISSING_COLUMN'))
    return {servers, applications: [], diagnostics}
  const seen = new Map<string, number>()
  const brokenFrom = Math.min(
    ...table.problems.filter((p) => p.message.includes('never closed')).map((p) => p.line),
    Number.POSITIVE_INFINITY,
  )
  for (const rec of table.records) {
    if (rec.line >= brokenFrom) break
    const get = (...names: string[]): string | undefined => {
      for (const n of names) {
        const i = index.get(n)
        if (i !== undefined && rec.fields[i] !== undefined && rec.fields[i].trim() !== '') return rec.fields[i].trim()
      }
      return undefined
    }
    const at = (names: string[]) => {
      const i = names.map((n) => index.get(n)).find((x) => x !== undefined)
      return i === undefined ? 1 : 1 + rec.fields.slice(0, i).reduce((n, f) => n + f.length + 1, 0)
    }
    const num = (
      label: string,
      names: string[],
      opts: {required?: boolean; positive?: boolean} = {},
    ): number | undefined => {
      const raw = get(...names)
      const n = readNumber(raw, locale)
      if (n === undefined) {
        if (opts.required)
          diagnostics.push({
            severity: 'error',
            code: 'CSV_MISSING_VALUE',
            message: `${label} is empty`,
            hint: `Fill in ${label} on this row`,
            file,
            line: rec.line,
            column: at(names),
          })
        return undefined
      }
      if ('problem' in n && n.problem !== NOT_A_NUMBER) {
        diagnostics.push({
          severity: 'error',
          code: 'CSV_BAD_NUMBER',
          message: `${label} ${JSON.stringify(raw)} ${n.problem}`,
          hint: n.hint,
          file,
          line: rec.line,
          column: at(names),
        })
        return undefined
      }
      if ('problem' in n || (opts.positive && n.value <= 0)) {
        diagnostics.push({
          severity: 'error',
          code: 'CSV_BAD_NUMBER',
          message: `${label} ${JSON.stringify(raw)} is not a ${opts.positive ? 'positive ' : ''}number`,
          hint: `Write ${label} as a number, e.g. 4`,
          file,
          line: rec.line,
          column: at(names),
        })
        return undefined
      }
      return (n as {value: number}).value
    }
    if (rec.fields.length !== table.header.length && rec.fields.length > 1) {
      diagnostics.push({
        severity: 'warning',
        code: 'CSV_FIELD_COUNT',
        message: `this row has ${rec.fields.length} fields, the header has ${table.header.length}`,
        hint: 'Check for an unquoted delimiter in a value',
        file,
        line: rec.line,
        column: 1,
      })
    }
    let s: Partial<Server> & {tags: Record<string, string>} = {tags: {}}
    let appName: string | undefined
    let strategy: Strategy | undefined
    let owner: string | undefined
    let criticality: string | undefined
    let sizingUnknown = false
    switch (format) {
      case 'csv': {
        const name = get(...GENERIC.name)
        const memGiB = num('memory_gb', GENERIC.memoryGiB, {positive: true})
        const memMiB =
          memGiB !== undefined
            ? Math.round(memGiB * 1024)
            : num('memory_mib', GENERIC.memoryMiB, {required: true, positive: true})
        const disks: Server['disks'] = []
        const diskList = get('disks')
        if (diskList) {
          for (const [k, part] of diskParts(diskList).entries()) {
            const size = part ? readNumber(part[1], locale) : undefined
            if (part && size && 'value' in size) disks.push({name: part[0], sizeGiB: size.value})
            else {
              const entry = diskList
                .split(/[;|]/)
                .filter((p) => p.trim() !== '')
                [k].trim()
              const why = size && 'problem' in size ? `: its size ${size.problem}` : ' is not NAME:GiB'
              diagnostics.push({
                severity: 'error',
                code: 'CSV_BAD_VALUE',
                message: `disks entry ${JSON.stringify(entry)}${why}`,
                hint: size && 'hint' in size ? size.hint : 'Write disks as sda:100;sdb:500',
                file,
                line: rec.line,
                column: at(['disks']),
              })
            }
          }
        } else {
          const size = num('disk_gb', GENERIC.diskGiB)
          const used = num('disk_used_gb', GENERIC.diskUsedGiB)
          if (size !== undefined)
            disks.push({name: 'disk0', sizeGiB: size, ...(used !== undefined ? {usedGiB: used} : {})})
        }
        const tags = parseTags(get(...GENERIC.tags))
        table.header.forEach((h, i) => {
          const m = /^tags?[:.](.+)$/i.exec(h.trim())
          if (m && rec.fields[i]?.trim()) tags[m[1]] = rec.fields[i].trim()
        })
        const cpu95 = num('cpu_p95', GENERIC.cpuP95)
        const mem95 = num('memory_p95', GENERIC.memoryP95)
        const prov = (get(...GENERIC.provider) ?? 'onprem').toLowerCase()
        s = {
          id: get(...GENERIC.id),
          name,
          provider: (['aws', 'alicloud', 'onprem', 'vmware', 'azure', 'gcp', 'other'].includes(prov)
            ? prov
            : 'other') as Server['provider'],
          region: get(...GENERIC.region),
          zone: get(...GENERIC.zone),
          hostname: get(...GENERIC.fqdn),
          privateIps: splitList(get(...GENERIC.ip)),
          publicIps: splitList(get(...GENERIC.publicIp)),
          vcpus: num('vcpus', GENERIC.vcpus, {required: true, positive: true}),
          memoryMiB: memMiB,
          disks,
          os: {
            family: osFamily(get(...GENERIC.os), get(...GENERIC.osFamily)),
            ...(get(...GENERIC.os) ? {name: get(...GENERIC.os)} : {}),
            ...(get(...GENERIC.osVersion) ? {version: get(...GENERIC.osVersion)} : {}),
          },
          instanceType: get(...GENERIC.instanceType),
          state: state(get(...GENERIC.state)),
          tags,
          ...(cpu95 !== undefined || mem95 !== undefined
            ? {
                utilization: {
                  ...(cpu95 !== undefined ? {cpuP95: Math.min(100, cpu95)} : {}),
                  ...(mem95 !== undefined ? {memoryP95: Math.min(100, mem95)} : {}),
                },
              }
            : {}),
        }
        appName = get(...GENERIC.app)
        const role = get(...GENERIC.role)
        if (role) s.role = normaliseRole(role)
        const env = get(...GENERIC.env)
        if (env) s.environment = normaliseEnv(env)
        owner = get(...GENERIC.owner)
        criticality = get(...GENERIC.criticality)
        strategy = STRATEGIES[(get(...GENERIC.strategy) ?? '').toLowerCase()]
        break
      }
      case 'ads': {
        const logical = num('CPU.NumberOfLogicalCores', ['cpunumberoflogicalcores'], {positive: true})
        const cores =
          logical ??
          num('CPU.NumberOfCores', ['cpunumberofcores'], {positive: true}) ??
          num('CPU.NumberOfProcessors', ['cpunumberofprocessors'], {positive: true})
        if (cores === undefined && logical === undefined)
          diagnostics.push({
            severity: 'error',
            code: 'CSV_MISSING_VALUE',
            message: 'CPU.NumberOfLogicalCores / CPU.NumberOfCores is empty',
            hint: 'Fill in the number of cores',
            file,
            line: rec.line,
            column: at(['cpunumberoflogicalcores', 'cpunumberofcores']),
          })
        const diskGB =
          num('Disk.TotalSizeInGB', ['disktotalsizeingb']) ??
          ((n) => (n === undefined ? undefined : n / 1024))(num('Disk.TotalSizeInMB', ['disktotalsizeinmb']))
        const cpuMax = num('CPU.UsagePct.Max', ['cpuusagepctmax'])
        const ramMax = num('RAM.UsedPct.Max', ['ramusedpctmax'])
        const name = get('hostname', 'vmwarevmname') ?? get('externalid')
        const tags = parseTags(get('tags'))
        const wave = get('applicationwave')
        if (wave) tags.wave = wave
        s = {
          id: get('externalid'),
          name,
          provider: get('vmwaremorefid') ? 'vmware' : 'onprem',
          hostname: get('hostname'),
          privateIps: splitList(get('ipaddress')),
          publicIps: [],
          vcpus: cores,
          memoryMiB: num('RAM.TotalSizeInMB', ['ramtotalsizeinmb'], {required: true, positive: true}),
          disks: diskGB !== undefined ? [{name: 'disk0', sizeGiB: Math.round(diskGB * 100) / 100}] : [],
          os: {
            family: osFamily(get('osname')),
            ...(get('osname') ? {name: get('osname')} : {}),
            ...(get('osversion') ? {version: get('osversion')} : {}),
          },
          state: 'running',
          tags,
          ...(cpuMax !== undefined || ramMax !== undefined
            ? {
                utilization: {
                  ...(cpuMax !== undefined ? {cpuP95: Math.min(100, cpuMax)} : {}),
                  ...(ramMax !== undefined ? {memoryP95: Math.min(100, ramMax)} : {}),
                },
              }
            : {}),
        }
        appName = splitList(get('applications'))[0]
        break
      }
      case 'azure': {
        const disks: Server['disks'] = []
        for (let i = 0; i < table.header.length; i++) {
          const m = /^disk(\d+)size$/.exec(cols[i])
          if (!m) continue
          const n = readNumber(rec.fields[i], locale)
          if (n !== undefined && 'value' in n) disks.push({name: `disk${m[1]}`, sizeGiB: n.value})
          else if (n !== undefined)
            diagnostics.push({
              severity: 'error',
              code: 'CSV_BAD_NUMBER',
              message: `${table.header[i]} ${JSON.stringify(rec.fields[i])} ${n.problem}`,
              hint: n.hint,
              file,
              line: rec.line,
              column: at([cols[i]]),
            })
        }
        const cpu = num('CPU utilization', ['cpuutilizationpercentage', 'cpuutilization'])
        const mem = num('Memory utilization', ['memoryutilizationpercentage', 'memoryutilization'])
        s = {
          name: get('servername'),
          provider: get('virtualmachinemanagerid') ? 'vmware' : 'onprem',
          privateIps: splitList(get('ipaddresses')),
          publicIps: [],
          vcpus: num('Cores', ['cores'], {required: true, positive: true}),
          memoryMiB: num('Memory (In MB)', ['memory', 'memoryinmb'], {required: true, positive: true}),
          disks,
          os: {
            family: osFamily(get('osname')),
            ...(get('osname') ? {name: get('osname')} : {}),
            ...(get('osversion') ? {version: get('osversion')} : {}),
          },
          state: 'running',
          tags: {},
          ...(cpu !== undefined || mem !== undefined
            ? {
                utilization: {
                  ...(cpu !== undefined ? {cpuP95: Math.min(100, cpu)} : {}),
                  ...(mem !== undefined ? {memoryP95: Math.min(100, mem)} : {}),
                },
              }
            : {}),
        }
        const vmid = get('virtualmachineid')
        if (vmid) s.tags.vmId = vmid
        break
      }
      case 'rvtools': {
        if (/^true$/i.test(get('template') ?? '')) continue
        const totalMiB =
          num('Total disk capacity MiB', ['totaldiskcapacitymib']) ??
          num('Provisioned MiB', ['provisionedmib', 'provisionedmb'])
        const usedMiB = num('In Use MiB', ['inusemib', 'inusemb'])
        const osName = get('osaccordingtothevmwaretools') ?? get('osaccordingtotheconfigurationfile')
        const tags: Record<string, string> = {}
        for (const c of attrCols) {
          const i = table.header.indexOf(c)
          if (rec.fields[i]?.trim()) tags[c] = rec.fields[i].trim()
        }
        if (get('host')) tags.esxHost = get('host')!
        if (get('folder')) tags.folder = get('folder')!
        s = {
          name: get('vm'),
          provider: 'vmware',
          region: get('datacenter'),
          zone: get('cluster'),
          hostname: get('dnsname'),
          privateIps: splitList(get('primaryipaddress')),
          publicIps: [],
          vcpus: num('CPUs', ['cpus'], {required: true, positive: true}),
          memoryMiB: num('Memory', ['memory'], {required: true, positive: true}),
          disks:
            totalMiB !== undefined
              ? [
                  {
                    name: 'disks',
                    sizeGiB: Math.round((totalMiB / 1024) * 100) / 100,
                    ...(usedMiB !== undefined ? {usedGiB: Math.round((usedMiB / 1024) * 100) / 100} : {}),
                  },
                ]
              : [],
          os: {family: osFamily(osName), ...(osName ? {name: osName} : {})},
          state: state(get('powerstate')),
          tags,
        }
        const uuid = get('vmuuid') ?? get('vmid')
        if (uuid) s.tags.vmUuid = uuid
        break
      }
      case 'cmf': {
        const type = get('instancetype')
        const sized = sizeFromInstanceType(type)
        let vcpus = num('cpu', ['vcpus', 'cpus', 'cpu', 'cores'], {positive: true})
        let mem =
          num('memory_mb', ['memorymb', 'rammb', 'memory', 'ram'], {positive: true}) ??
          ((g) => (g === undefined ? undefined : Math.round(g * 1024)))(
            num('memory_gb', ['memorygb'], {positive: true}),
          )
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
        const tags = parseTags(get('tags'))
        for (const [k, c] of [
          ['wave', 'wavename'],
          ['targetAccount', 'awsaccountid'],
          ['targetRegion', 'awsregion'],
          ['targetInstanceType', 'instancetype'],
        ] as const) {
          const v = get(c)
          if (v) tags[k] = v
        }
        const disk = num('disk_gb', ['diskgb', 'disk', 'storagegb'])
        s = {
          name: get('servername'),
          provider: 'onprem',
          hostname: get('serverfqdn'),
          privateIps: splitList(get('privateip')),
          publicIps: [],
          vcpus,
          memoryMiB: mem,
          disks: disk !== undefined ? [{name: 'disk0', sizeGiB: disk}] : [],
          os: {
            family: osFamily(get('serverosversion'), get('serverosfamily')),
            ...(get('serverosversion') ? {name: get('serverosversion')} : {}),
          },
          state: 'running',
          tags,
        }
        const tier = get('servertier')
        if (tier) s.role = normaliseRole(tier)
        const env = get('serverenvironment')
        if (env) s.environment = normaliseEnv(env)
        appName = get('appname')
        strategy = STRATEGIES[(get('rtype') ?? '').toLowerCase()]
        break
      }
    }
    if (!s.name) {
      diagnostics.push({
        severity: 'error',
        code: 'CSV_MISSING_VALUE',
        message: 'the server name is empty',
        hint: 'Every row needs a name',
        file,
        line: rec.line,
        column: 1,
      })
      continue
    }
    if (s.vcpus === undefined || s.memoryMiB === undefined) continue
    const id = slug(s.id ?? s.name) || `row-${rec.line}`
    if (seen.has(id)) {
      diagnostics.push({
        severity: 'error',
        code: 'CSV_DUPLICATE',
        message: `server "${id}" is listed twice (also line ${seen.get(id)})`,
        hint: 'Remove one row, or give them distinct ids/names',
        file,
        line: rec.line,
        column: 1,
      })
      continue
    }
    seen.set(id, rec.line)
    if (sizingUnknown) {
      s.tags['migrate/sizing'] = 'unknown'
      diagnostics.push({
        severity: 'warning',
        code: 'CSV_NO_SIZE',
        message: `no CPU/memory for "${s.name}" (the intake form has none); recorded as 1 vCPU / 1 GiB`,
        hint: 'Add cpu and memory_mb columns, set instanceType, or probe the host with `migrate discover ssh`',
        file,
        line: rec.line,
        column: 1,
      })
    }
    if (appName) {
      s.application = slug(appName)
      if (!apps.has(s.application)) {
        const crit = (criticality ?? '').toLowerCase()
        apps.set(s.application, {
          name: s.application,
          ...(owner ? {owner} : {}),
          criticality: crit === 'low' || crit === 'medium' || crit === 'high' || crit === 'critical' ? crit : 'medium',
          environment: s.environment ?? 'prod',
          complexity: 'medium',
          ...(strategy ? {strategyHint: strategy} : {}),
          tags: {},
        })
      }
    }
    if (s.role === undefined) delete s.role
    if (s.environment === undefined) delete s.environment
    for (const k of ['region', 'zone', 'hostname', 'instanceType'] as const) if (s[k] === undefined) delete s[k]
    servers.push({...(s as Server), id, source: {kind: 'file', ref: ref(rec.line)}})
  }
  for (const sv of servers) {
    sv.vcpus = Math.max(1, Math.round(sv.vcpus))
    sv.memoryMiB = Math.max(1, Math.round(sv.memoryMiB))
  }
  return {servers, applications: [...apps.values()], diagnostics}
}
