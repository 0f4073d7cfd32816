// The AWS Migration Hub / Application Discovery Service import template.
import type {CsvFormatDef, MappedRow, RowReader} from './row.js'
import {osOf, parseTags, splitList, utilizationOf} from './values.js'

function mapAdsRow(row: RowReader): MappedRow {
  const logical = row.num('CPU.NumberOfLogicalCores', ['cpunumberoflogicalcores'], {positive: true})
  const cores =
    logical ??
    row.num('CPU.NumberOfCores', ['cpunumberofcores'], {positive: true}) ??
    row.num('CPU.NumberOfProcessors', ['cpunumberofprocessors'], {positive: true})
  if (cores === undefined && logical === undefined)
    row.report(
      'error',
      'CSV_MISSING_VALUE',
      'CPU.NumberOfLogicalCores / CPU.NumberOfCores is empty',
      'Fill in the number of cores',
      row.column(['cpunumberoflogicalcores', 'cpunumberofcores']),
    )
  const diskMB = (n: number | undefined) => (n === undefined ? undefined : n / 1024)
  const diskGB =
    row.num('Disk.TotalSizeInGB', ['disktotalsizeingb']) ?? diskMB(row.num('Disk.TotalSizeInMB', ['disktotalsizeinmb']))
  const cpuMax = row.num('CPU.UsagePct.Max', ['cpuusagepctmax'])
  const ramMax = row.num('RAM.UsedPct.Max', ['ramusedpctmax'])
  const tags = parseTags(row.get('tags'))
  const wave = row.get('applicationwave')
  if (wave) tags.wave = wave
  return {
    server: {
      id: row.get('externalid'),
      name: row.get('hostname', 'vmwarevmname') ?? row.get('externalid'),
      provider: row.get('vmwaremorefid') ? 'vmware' : 'onprem',
      hostname: row.get('hostname'),
      privateIps: splitList(row.get('ipaddress')),
      publicIps: [],
      vcpus: cores,
      memoryMiB: row.num('RAM.TotalSizeInMB', ['ramtotalsizeinmb'], {required: true, positive: true}),
      disks: diskGB !== undefined ? [{name: 'disk0', sizeGiB: Math.round(diskGB * 100) / 100}] : [],
      os: osOf(row.get('osname'), row.get('osversion')),
      state: 'running',
      tags,
      ...utilizationOf(cpuMax, ramMax),
    },
    appName: splitList(row.get('applications'))[0],
  }
}

export const adsCsv: CsvFormatDef = {
  title: 'AWS Migration Hub / ADS import template',
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
  detect: (cols) =>
    cols.has('externalid') && (cols.has('ramtotalsizeinmb') || [...cols].some((c) => c.startsWith('cpunumberof'))),
  mapRow: mapAdsRow,
}
