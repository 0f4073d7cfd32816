// The Azure Migrate server-import CSV.
import type {Server} from '../../schema/inventory.js'
import type {CsvFormatDef, MappedRow, RowReader} from './row.js'
import {osOf, splitList, utilizationOf} from './values.js'

/** One disk per "Disk N size" column with a size; a bad size is an error. */
function disksOf(row: RowReader): Server['disks'] {
  const disks: Server['disks'] = []
  const {cols, table} = row.ctx
  for (let i = 0; i < table.header.length; i++) {
    const m = /^disk(\d+)size$/.exec(cols[i])
    if (!m) continue
    const n = row.read(row.rec.fields[i])
    if (n !== undefined && 'value' in n) disks.push({name: `disk${m[1]}`, sizeGiB: n.value})
    else if (n !== undefined)
      row.report(
        'error',
        'CSV_BAD_NUMBER',
        `${table.header[i]} ${JSON.stringify(row.rec.fields[i])} ${n.problem}`,
        n.hint,
        row.column([cols[i]]),
      )
  }
  return disks
}

function mapAzureRow(row: RowReader): MappedRow {
  const disks = disksOf(row)
  const cpu = row.num('CPU utilization', ['cpuutilizationpercentage', 'cpuutilization'])
  const mem = row.num('Memory utilization', ['memoryutilizationpercentage', 'memoryutilization'])
  const server: MappedRow['server'] = {
    name: row.get('servername'),
    provider: row.get('virtualmachinemanagerid') ? 'vmware' : 'onprem',
    privateIps: splitList(row.get('ipaddresses')),
    publicIps: [],
    vcpus: row.num('Cores', ['cores'], {required: true, positive: true}),
    memoryMiB: row.num('Memory (In MB)', ['memory', 'memoryinmb'], {required: true, positive: true}),
    disks,
    os: osOf(row.get('osname'), row.get('osversion')),
    state: 'running',
    tags: {},
    ...utilizationOf(cpu, mem),
  }
  const vmid = row.get('virtualmachineid')
  if (vmid) server.tags.vmId = vmid
  return {server}
}

export const azureCsv: CsvFormatDef = {
  title: 'Azure Migrate server-import CSV',
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
  detect: (cols) => cols.has('servername') && cols.has('cores') && (cols.has('memory') || cols.has('memoryinmb')),
  mapRow: mapAzureRow,
}
