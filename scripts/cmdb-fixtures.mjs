// Writes the locale and encoding fixtures of test/fixtures/cmdb/ (CMDB exports as European Excel, RVTools and
// Excel "Unicode text" write them). Deterministic; run it to regenerate them: node scripts/cmdb-fixtures.mjs
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/cmdb')
const utf8Bom = (text) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])
const utf16le = (text) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
const utf16be = (text) => utf16le(text).swap16()
const lines = (rows, eol = '\r\n') => rows.join(eol) + eol

// German Excel "CSV (Trennzeichen-getrennt)": ";" between fields, "," for decimals, "." between thousands.
writeFileSync(
  path.join(dir, 'generic-excel-de.csv'),
  utf8Bom(
    lines([
      'name;vcpus;memory_mib;disks;cpu_p95;os;app;env;owner',
      'erp-app-01;8;16.384;"sda:1.024;sdb:2,5";37,5;SUSE Linux Enterprise 15;erp;prod;Müller',
      'erp-db-01;16;65.536;"sda:100;sdb:4.096";61,25;SUSE Linux Enterprise 15;erp;prod;Müller',
      'erp-web-01;4;8.192;sda:50;12;Windows Server 2019;erp;prod;Jürgen Weiß',
    ]),
  ),
)

// RVTools vInfo exported as tab-delimited Unicode text (UTF-16 LE with a byte-order mark), German number format.
const rvHeader = [
  'VM',
  'Powerstate',
  'Template',
  'DNS Name',
  'CPUs',
  'Memory',
  'NICs',
  'Disks',
  'Total disk capacity MiB',
  'Provisioned MiB',
  'In Use MiB',
  'Overall Cpu Readiness',
  'Primary IP Address',
  'Datacenter',
  'Cluster',
  'Host',
  'OS according to the configuration file',
  'VM UUID',
]
writeFileSync(
  path.join(dir, 'rvtools-vinfo-utf16le.txt'),
  utf16le(
    lines([
      rvHeader.join('\t'),
      [
        'sap-app-01',
        'poweredOn',
        'False',
        'sap-app-01.corp.local',
        '8',
        '32.768',
        '1',
        '2',
        '153.600',
        '163.840',
        '81.920',
        '0,12',
        '10.8.0.11',
        'DC-Frankfurt',
        'CL-01',
        'esx01.corp.local',
        'SUSE Linux Enterprise 15 (64-bit)',
        '4211a1b2-0001',
      ].join('\t'),
      [
        'sap-db-01',
        'poweredOn',
        'False',
        'sap-db-01.corp.local',
        '16',
        '131.072',
        '2',
        '3',
        '1.048.576',
        '1.048.576',
        '524.288,5',
        '0,3',
        '10.8.0.21',
        'DC-Frankfurt',
        'CL-01',
        'esx02.corp.local',
        'SUSE Linux Enterprise 15 (64-bit)',
        '4211a1b2-0002',
      ].join('\t'),
      [
        'ad-01',
        'poweredOff',
        'False',
        'ad-01.corp.local',
        '2',
        '4.096',
        '1',
        '1',
        '102.400',
        '102.400',
        '40.000',
        '0',
        '',
        'DC-Frankfurt',
        'CL-02',
        'esx03.corp.local',
        'Microsoft Windows Server 2019 (64-bit)',
        '4211a1b2-0003',
      ].join('\t'),
    ]),
  ),
)

// Excel "Unicode Text" saved on a big-endian toolchain (UTF-16 BE with a mark): a generic CSV, tab-delimited.
writeFileSync(
  path.join(dir, 'generic-unicode-be.txt'),
  utf16be(
    lines([
      'name\tvcpus\tmemory_mib\tos\tapp',
      'büro-01\t2\t4096\tWindows Server 2022\tbüro',
      'büro-02\t2\t4096\tWindows Server 2022\tbüro',
    ]),
  ),
)

// Tab-delimited, and nothing in it tells whether "." groups thousands: 16.384 could be 16384 or 16.384.
writeFileSync(
  path.join(dir, 'ambiguous-numbers.tsv'),
  lines(['name\tvcpus\tmemory_mib\tos', 'app-01\t4\t16.384\tUbuntu', 'app-02\t4\t8192\tUbuntu'], '\n'),
)

// French Excel: ";" between fields, "," for decimals, a no-break space between thousands.
writeFileSync(
  path.join(dir, 'azure-migrate-fr.csv'),
  utf8Bom(
    lines([
      'Server name;IP addresses;Cores;Memory (In MB);OS name;OS version;CPU utilization percentage;Memory utilization percentage;Number of disks;Disk 1 size (In GB);Disk 2 size (In GB)',
      'paie-app-01;10.9.0.11;4;16\u00a0384;Windows Server;2019;12,5;61;2;127;1\u00a0024',
      'paie-db-01;10.9.0.21;8;65\u00a0536;Ubuntu;22.04;40;80,75;1;2\u00a0048,5;',
    ]),
  ),
)

// Excel's plain "CSV" on a Western Windows: the Windows-1252 code page, not UTF-8 (é is the single byte 0xE9).
writeFileSync(
  path.join(dir, 'generic-cp1252.csv'),
  Buffer.concat([
    Buffer.from('name,vcpus,memory_mib,owner\r\nweb-01,2,4096,'),
    Buffer.from([0x52, 0xe9, 0x6d, 0x69]),
    Buffer.from('\r\n'),
  ]),
)
