// Reading files. CSV: a 10,000-row CMDB export as English Excel and as German Excel writes it in Unicode text
// (UTF-16, tab-delimited, 16.384-style numbers) (goal: well under 1 s). YAML: a 10,000-server inventory as the tool writes it and as hand-edited (goal: well under 1 s to load,
// schema check included), and 20 MB files of every awkward shape (goal: validated or refused within 10 s and 1.5 GiB
// peak RSS, duplicate keys reported with their line). Each case runs in its own process (so its peak RSS is its
// own), RUNS times after a warm-up; the table shows the median wall and CPU time. The goals are checked on CPU time:
// this machine is shared, and under load the wall time is a multiple of it (the load average is printed).
// Usage: npm run build && node bench/read-files.bench.mjs [--cases NAME,…]
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const MB20 = 20 * 1024 * 1024

/** The cases: each makes its text (in the child, untimed) and says what must come out. */
const CASES = {
  'CMDB CSV 10k rows, English Excel (UTF-8, ",")': {
    goalMs: 1000,
    csv: true,
    make: async () => Buffer.from(cmdbRows(',', (n) => String(n)).join('\n') + '\n'),
    expect: 'ok',
  },
  'CMDB CSV 10k rows, German Unicode text (UTF-16)': {
    goalMs: 1000,
    csv: true,
    make: async () =>
      Buffer.concat([
        Buffer.from([0xff, 0xfe]),
        Buffer.from(cmdbRows('\t', (n) => n.toLocaleString('de-DE')).join('\r\n') + '\r\n', 'utf16le'),
      ]),
    expect: 'ok',
  },
  'inventory 10k servers, as written': {goalMs: 1000, make: async () => inventoryText(10_000), expect: 'ok'},
  'inventory 10k servers, hand-edited': {
    goalMs: 1000,
    // Two spaces after colons, a space before some, comments after values, a flow map and an alias per 100 servers.
    make: async () =>
      (await inventoryText(10_000))
        .replaceAll('    owner: ', '    owner:  ')
        .replaceAll('      env: ', '      env : ')
        .replace(/^( {4}vcpus: \d+)$/gm, '$1 # cores')
        .replace(/^( {4}state: running)$/gm, (m, s, offset) => (offset % 100 < 2 ? `${s} # was stopped` : m)),
    expect: 'ok',
  },
  '20 MB inventory (~22k servers)': {
    goalMs: 10_000,
    make: async () => inventoryText(22_000),
    expect: 'ok',
    minBytes: MB20,
  },
  '20 MB one flat mapping': {goalMs: 10_000, make: async () => flatMapping(MB20), expect: 'refused'},
  '20 MB flat mapping, a duplicate key at the end': {
    goalMs: 10_000,
    make: async () => flatMapping(MB20) + 'k0000001: again\n',
    expect: /YAML_DUPLICATE_KEY/,
  },
  '20 MB inventory, a syntax error at the end': {
    goalMs: 10_000,
    make: async () => (await inventoryText(22_000)) + '  bad: [unclosed\n',
    expect: /YAML_SYNTAX/,
  },
  '20 MB of aliases to one anchor': {goalMs: 10_000, make: async () => aliases(MB20), expect: /YAML_ALIAS_LIMIT/},
  '20 MB block scalar': {
    goalMs: 10_000,
    make: async () =>
      `apiVersion: migrate/v1\nkind: Inventory\nmetadata:\n  name: big\n  description: |\n${'    a line of free text in a big description\n'.repeat(MB20 / 44)}servers: []\n`,
    expect: 'ok',
  },
  '20 MB JSON inventory': {
    goalMs: 10_000,
    make: async () => JSON.stringify(await inventoryValue(22_000), null, 1),
    expect: 'ok',
  },
  '20 MB deep nesting': {
    goalMs: 10_000,
    make: async () => '['.repeat(MB20 / 2) + ']'.repeat(MB20 / 2),
    expect: /YAML_TOO_DEEP/,
  },
  'billion laughs': {goalMs: 10_000, make: async () => laughs(), expect: /YAML_ALIAS_LIMIT/},
}

/** The rows of the discover benchmark's CMDB export, with memory in MiB written by `num` (16.384 in German). */
function cmdbRows(d, num) {
  const rows = [['id', 'name', 'ip', 'vcpus', 'memory_mib', 'disk_gb', 'cpu_p95', 'os', 'app', 'role', 'env'].join(d)]
  for (let i = 0; i < 10_000; i++)
    rows.push(
      [
        `srv-${i}`,
        `srv-${i}.dc1.local`,
        `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        2 << (i % 4),
        num(4096 << (i % 3)),
        50 + (i % 7) * 25,
        num(12.5 + (i % 50)),
        'Ubuntu 22.04',
        `app-${i % 40}`,
        ['web', 'app', 'db'][i % 3],
        'prod',
      ].join(d),
    )
  return rows
}

async function inventoryValue(n) {
  const {generateEstate} = await import(path.join(here, 'estate-gen.mjs'))
  return generateEstate({servers: n, seed: 7})
}

async function inventoryText(n) {
  const {toYamlFast} = await import(path.join(root, 'dist/src/io/fast-yaml-write.js'))
  return toYamlFast(await inventoryValue(n))
}

function flatMapping(bytes) {
  const out = []
  for (let i = 0, size = 0; size < bytes; i++) {
    const line = `k${String(i).padStart(7, '0')}: value number ${i}\n`
    out.push(line)
    size += line.length
  }
  return out.join('')
}

function aliases(bytes) {
  return `base: &b {cpu: 4, memory: 8192, disks: [a, b, c]}\nuses:\n${'  - *b\n'.repeat(Math.floor(bytes / 7))}`
}

function laughs() {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]']
  for (let i = 1; i <= 12; i++) lines.push(`a${i}: &a${i} [${Array.from({length: 10}, () => `*a${i - 1}`).join(', ')}]`)
  return lines.join('\n') + '\n'
}

/** One case in this process: load it as `migrate validate --kind inventory` does, RUNS times; one JSON line. */
async function one(name) {
  const spec = CASES[name]
  const text = await spec.make()
  const {validateFile} = await import(path.join(root, 'dist/src/file-kinds.js'))
  const {readFile} = await import(path.join(root, 'dist/src/providers/file.js'))
  const dir = spec.csv ? mkdtempSync(path.join(tmpdir(), 'migrate-bench-read-')) : undefined
  const csvFile = dir ? path.join(dir, 'cmdb.csv') : undefined
  if (csvFile) writeFileSync(csvFile, text)
  const walls = []
  const cpusMs = []
  let outcome = ''
  for (let i = 0; i <= RUNS; i++) {
    globalThis.gc?.()
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    const r = csvFile ? readFile(csvFile, 'auto') : validateFile('bench.yaml', 'inventory', text)
    const wall = performance.now() - t0
    const c = process.cpuUsage(c0)
    const errors = r.diagnostics.filter((d) => d.severity === 'error')
    outcome =
      errors.length === 0
        ? 'ok'
        : `refused, ${errors.length} error(s); first: ${errors[0].line}:${errors[0].column} ${errors[0].code} ${errors[0].message}`.slice(
            0,
            140,
          )
    if (i > 0) {
      walls.push(wall)
      cpusMs.push((c.user + c.system) / 1000)
    }
  }
  if (dir) rmSync(dir, {recursive: true, force: true})
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  process.stdout.write(
    JSON.stringify({
      name,
      mb: Buffer.byteLength(text) / 1048576,
      wallMs: median(walls),
      cpuMs: median(cpusMs),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      outcome,
    }) + '\n',
  )
}

async function main() {
  const argv = process.argv.slice(2)
  if (argv[0] === '--one') return one(argv[1])
  const only = argv.indexOf('--cases') >= 0 ? argv[argv.indexOf('--cases') + 1].split(',') : undefined
  const rows = []
  for (const name of Object.keys(CASES)) {
    if (only && !only.some((o) => name.includes(o))) continue
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=4096', fileURLToPath(import.meta.url), '--one', name],
      {encoding: 'utf8', maxBuffer: 1 << 24},
    )
    rows.push(JSON.parse(out.trim().split('\n').pop()))
  }
  console.log(
    `reading files (CSV: discover's readFile; YAML: validateFile, schema check included): median of ${RUNS} runs after a warm-up; ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)}`,
  )
  console.log(
    'case'.padEnd(48),
    'MB'.padStart(6),
    'wall ms'.padStart(8),
    'CPU ms'.padStart(8),
    'peak MiB'.padStart(9),
    ' goal  outcome',
  )
  let failed = 0
  for (const r of rows) {
    const spec = CASES[r.name]
    const right =
      spec.expect === 'ok'
        ? r.outcome === 'ok'
        : spec.expect === 'refused'
          ? r.outcome.startsWith('refused')
          : spec.expect.test(r.outcome)
    const met = right && r.cpuMs < spec.goalMs && r.peakRssMiB < 1536
    if (!met) failed++
    console.log(
      r.name.padEnd(48),
      r.mb.toFixed(1).padStart(6),
      r.wallMs.toFixed(0).padStart(8),
      r.cpuMs.toFixed(0).padStart(8),
      r.peakRssMiB.toFixed(0).padStart(9),
      ` ${met ? 'met ' : 'NOT '}  ${r.outcome}`,
    )
  }
  console.log(JSON.stringify({readFiles: rows}))
  if (failed > 0) process.exitCode = 1
}

await main()
