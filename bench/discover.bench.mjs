// Benchmark: `migrate discover aws` and `migrate discover alicloud` over 10,000 instances in 4 regions, served by
// the local wire-protocol fixtures (in this process), run as a user would run the CLI (a child process), plus a
// 10,000-row CMDB CSV. Reports wall time and the CLI's peak memory (maxRSS). Goal: < 3 s and < 300 MB each.
import {cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {makeEc2Region, startEc2Fixture} from '../test/fixtures/ec2-server.mjs'
import {makeEcsRegion, startEcsFixture} from '../test/fixtures/ecs-server.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = path.join(root, 'bin/run.js')
const N = Number(process.env.BENCH_INSTANCES ?? 10_000)
const REGIONS = ['ap-southeast-1', 'ap-southeast-3', 'ap-southeast-5', 'ap-northeast-1']
const per = Math.ceil(N / REGIONS.length)
const dir = mkdtempSync(path.join(tmpdir(), 'migrate-bench-discover-'))
const MAXRSS_HOOK =
  'data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("\\nMAXRSS_KB "+u.maxRSS+" CPU_US "+(u.userCPUTime+u.systemCPUTime)+"\\n")})'

// Each case runs once to warm up (disk cache, the fixture's first answers), then RUNS times; the table shows the
// median wall time with the range, and the median and highest peak RSS. This machine is shared and noisy (the same
// run varies by ±30 %), so one run says little.
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

async function once(args, env) {
  const t0 = performance.now()
  const r = await execa('node', ['--import', MAXRSS_HOOK, bin, ...args, '--json'], {
    reject: false,
    env: {AWS_EC2_METADATA_DISABLED: 'true', ...env},
    cwd: dir,
  })
  const ms = performance.now() - t0
  const rss = Number(/MAXRSS_KB (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024
  const cpu = Number(/CPU_US (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1e6
  return {r, ms, rss, cpu}
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]

/**
 * Runs the cases interleaved (a, b, c, a, b, c, …) after one warm-up each, so that a machine that slows down or speeds
 * up during the benchmark (this one is shared) affects every case alike. `prepare` runs before each run of its case.
 */
async function runInterleaved(cases, runs = RUNS) {
  const samples = cases.map(() => [])
  const failed = new Set()
  for (let k = 0; k <= runs; k++) {
    for (const [c, spec] of cases.entries()) {
      if (failed.has(c)) continue
      spec.prepare?.()
      const s = await once(spec.args, spec.env)
      if (s.r.exitCode !== 0) {
        console.error(`${spec.label}: exit ${s.r.exitCode}\n${s.r.stdout}\n${s.r.stderr}`)
        process.exitCode = 1
        failed.add(c)
        continue
      }
      if (k > 0) samples[c].push({...s, servers: JSON.parse(s.r.stdout).result.counts.servers})
    }
  }
  return cases.map((spec, c) => {
    const xs = samples[c]
    if (xs.length === 0) return {label: spec.label, ms: 0, rss: 0, cpu: 0, servers: 0, runs: 0}
    const ms = xs.map((x) => x.ms)
    const rss = xs.map((x) => x.rss)
    return {
      label: spec.label,
      ms: median(ms),
      msMin: Math.min(...ms),
      msMax: Math.max(...ms),
      rss: median(rss),
      rssMax: Math.max(...rss),
      cpu: median(xs.map((x) => x.cpu)),
      servers: xs[0].servers,
      runs: xs.length,
    }
  })
}

const run = async (label, args, env, {runs = RUNS, prepare} = {}) =>
  (await runInterleaved([{label, args, env, prepare}], runs))[0]

const rows = []
const fresh = (sub) => () => rmSync(path.join(dir, sub), {recursive: true, force: true})
try {
  const ec2 = await startEc2Fixture({
    regions: Object.fromEntries(REGIONS.map((r, i) => [r, makeEc2Region(r, per, {start: i * per})])),
  })
  try {
    const awsArgs = (out) => [
      'discover',
      'aws',
      ...REGIONS.flatMap((r) => ['--region', r]),
      '--endpoint',
      ec2.url,
      '--out',
      out,
    ]
    const awsEnv = {AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret'}
    const before = ec2.requests.length
    // The first discovery and discovering again over the inventory it wrote (read, merge, diff), interleaved.
    const got = await runInterleaved([
      {
        label: `aws: ${N} instances, ${REGIONS.length} regions`,
        args: awsArgs('aws/inventory.yaml'),
        env: awsEnv,
        prepare: fresh('aws'),
      },
      {
        label: 'aws again: diff against that inventory',
        args: awsArgs('aws-again/inventory.yaml'),
        env: awsEnv,
        prepare: () => cpSync(path.join(dir, 'aws'), path.join(dir, 'aws-again'), {recursive: true}),
      },
    ])
    const perRun = Math.round((ec2.requests.length - before) / ((RUNS + 1) * got.length))
    for (const g of got) rows.push({...g, requests: perRun})
  } finally {
    await ec2.close()
  }
  const ecs = await startEcsFixture({
    regions: Object.fromEntries(REGIONS.map((r, i) => [r, makeEcsRegion(r, per, {start: i * per})])),
  })
  try {
    const before = ecs.requests.length
    rows.push(
      await run(
        `alicloud: ${N} instances, ${REGIONS.length} regions`,
        [
          'discover',
          'alicloud',
          ...REGIONS.flatMap((r) => ['--region', r]),
          '--endpoint',
          ecs.host,
          '--out',
          'ali/inventory.yaml',
        ],
        {ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-test-ak', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-secret'},
        {prepare: fresh('ali')},
      ),
    )
    rows.at(-1).requests = Math.round((ecs.requests.length - before) / (RUNS + 1))
  } finally {
    await ecs.close()
  }
  const csv = ['id,name,ip,vcpus,memory_mb,disk_gb,os,app,role,env']
  for (let i = 0; i < N; i++)
    csv.push(
      `srv-${i},srv-${i}.dc1.local,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},${2 << (i % 4)},${4096 << (i % 3)},${50 + (i % 7) * 25},Ubuntu 22.04,app-${i % 40},${['web', 'app', 'db'][i % 3]},prod`,
    )
  writeFileSync(path.join(dir, 'cmdb.csv'), csv.join('\n') + '\n')
  rows.push(
    await run(
      `file: ${N}-row CMDB CSV`,
      ['discover', 'file', 'cmdb.csv', '--out', 'file/inventory.yaml'],
      {},
      {runs: 3, prepare: fresh('file')},
    ),
  )
} finally {
  rmSync(dir, {recursive: true, force: true})
}

const [load1] = (await import('node:os')).loadavg()
console.log(
  `\nmigrate discover benchmark (goal: < 3 s wall, < 300 MB peak RSS); ${(await import('node:os')).cpus().length} CPUs, load average ${load1.toFixed(1)}; median of ${RUNS} runs after a warm-up (range)`,
)
console.log(
  'source'.padEnd(42),
  'servers'.padStart(8),
  'requests'.padStart(9),
  'wall s'.padStart(8),
  'range'.padStart(12),
  'CPU s'.padStart(7),
  'peak MB'.padStart(8),
  'max MB'.padStart(7),
  '  ok',
)
for (const r of rows) {
  const ok = r.ms < 3000 && (r.rssMax ?? r.rss) < 300
  const range = r.msMin === undefined ? '-' : `${(r.msMin / 1000).toFixed(2)}–${(r.msMax / 1000).toFixed(2)}`
  console.log(
    r.label.padEnd(42),
    String(r.servers).padStart(8),
    String(r.requests ?? '-').padStart(9),
    (r.ms / 1000).toFixed(2).padStart(8),
    range.padStart(12),
    r.cpu.toFixed(2).padStart(7),
    r.rss.toFixed(0).padStart(8),
    (r.rssMax ?? r.rss).toFixed(0).padStart(7),
    ok ? '  yes' : '  NO',
  )
}
console.log(
  JSON.stringify({
    discover: rows.map((r) => ({
      source: r.label,
      servers: r.servers,
      runs: r.runs,
      wallMs: Math.round(r.ms),
      wallMsMin: Math.round(r.msMin ?? r.ms),
      wallMsMax: Math.round(r.msMax ?? r.ms),
      cpuMs: Math.round(r.cpu * 1000),
      peakRssMB: Math.round(r.rss),
      peakRssMBMax: Math.round(r.rssMax ?? r.rss),
    })),
  }),
)
