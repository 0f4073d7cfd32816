// The RVTools vInfo export (VMware): templates are skipped, vCenter custom attributes (extra columns) become tags.
import type {CsvFormatDef, MappedRow, RowReader} from './row.js'
import {osOf, powerState, splitList} from './values.js'

const gib = (mib: number) => Math.round((mib / 1024) * 100) / 100

function mapRvtoolsRow(row: RowReader): MappedRow | undefined {
  if (/^true$/i.test(row.get('template') ?? '')) return undefined
  const totalMiB =
    row.num('Total disk capacity MiB', ['totaldiskcapacitymib']) ??
    row.num('Provisioned MiB', ['provisionedmib', 'provisionedmb'])
  const usedMiB = row.num('In Use MiB', ['inusemib', 'inusemb'])
  const osName = row.get('osaccordingtothevmwaretools') ?? row.get('osaccordingtotheconfigurationfile')
  const tags: Record<string, string> = {}
  for (const c of row.ctx.unknownColumns) {
    const i = row.ctx.table.header.indexOf(c)
    if (row.rec.fields[i]?.trim()) tags[c] = row.rec.fields[i].trim()
  }
  const host = row.get('host')
  if (host) tags.esxHost = host
  const folder = row.get('folder')
  if (folder) tags.folder = folder
  const server: MappedRow['server'] = {
    name: row.get('vm'),
    provider: 'vmware',
    region: row.get('datacenter'),
    zone: row.get('cluster'),
    hostname: row.get('dnsname'),
    privateIps: splitList(row.get('primaryipaddress')),
    publicIps: [],
    vcpus: row.num('CPUs', ['cpus'], {required: true, positive: true}),
    memoryMiB: row.num('Memory', ['memory'], {required: true, positive: true}),
    disks:
      totalMiB !== undefined
        ? [{name: 'disks', sizeGiB: gib(totalMiB), ...(usedMiB !== undefined ? {usedGiB: gib(usedMiB)} : {})}]
        : [],
    os: osOf(osName),
    state: powerState(row.get('powerstate')),
    tags,
  }
  const uuid = row.get('vmuuid') ?? row.get('vmid')
  if (uuid) server.tags.vmUuid = uuid
  return {server}
}

export const rvtoolsCsv: CsvFormatDef = {
  title: 'RVTools vInfo export',
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

  detect: (cols) =>
    cols.has('vm') &&
    cols.has('powerstate') &&
    cols.has('cpus') &&
    (cols.has('primaryipaddress') ||
      cols.has('osaccordingtotheconfigurationfile') ||
      cols.has('provisionedmib') ||
      cols.has('provisionedmb')),
  mapRow: mapRvtoolsRow,
}
