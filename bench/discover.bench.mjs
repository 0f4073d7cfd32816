// Benchmark: `migrate discover aws` and `migrate discover alicloud` over 10,000 instances in 4 regions, served by
// the local wire-protocol fixtures (in this process), run as a user would run the CLI (a child process), plus a
// 10,000-row CMDB CSV. Reports wall time and the CLI's peak memory (maxRSS). Goal: < 3 s and < 300 MB each.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
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
const MAXRSS_HOOK = 'data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("\\nMAXRSS_KB "+u.maxRSS+" CPU_US "+(u.userCPUTime+u.systemCPUTime)+"\\n")})'

async function run(label, args, env) {
  const t0 = performance.now()
  const r = await execa('node', ['--import', MAXRSS_HOOK, bin, ...args, '--json'], {reject: false, env: {AWS_EC2_METADATA_DISABLED: 'true', ...env}, cwd: dir})
  const ms = performance.now() - t0
  const rss = Number(/MAXRSS_KB (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024
  const cpu = Number(/CPU_US (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1e6
  if (r.exitCode !== 0) {
    console.error(`${label}: exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`)
    process.exitCode = 1
    return {label, ms, rss, cpu, servers: 0}
  }
  const servers = JSON.parse(r.stdout).result.counts.servers
  return {label, ms, rss, cpu, servers}
}

const rows = []
try {
  const ec2 = await startEc2Fixture({regions: Object.fromEntries(REGIONS.map((r, i) => [r, makeEc2Region(r, per, {start: i * per})]))})
  try {
    rows.push(await run(`aws: ${N} instances, ${REGIONS.length} regions`, ['discover', 'aws', ...REGIONS.flatMap((r) => ['--region', r]), '--endpoint', ec2.url, '--out', 'aws/inventory.yaml'], {AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret'}))
    rows[rows.length - 1].requests = ec2.requests.length
  } finally {
    await ec2.close()
  }
  const ecs = await startEcsFixture({regions: Object.fromEntries(REGIONS.map((r, i) => [r, makeEcsRegion(r, per, {start: i * per})]))})
  try {
    rows.push(await run(`alicloud: ${N} instances, ${REGIONS.length} regions`, ['discover', 'alicloud', ...REGIONS.flatMap((r) => ['--region', r]), '--endpoint', ecs.host, '--out', 'ali/inventory.yaml'], {ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-test-ak', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-secret'}))
    rows[rows.length - 1].requests = ecs.requests.length
  } finally {
    await ecs.close()
  }
  const csv = ['id,name,ip,vcpus,memory_mb,disk_gb,os,app,role,env']
  for (let i = 0; i < N; i++) csv.push(`srv-${i},srv-${i}.dc1.local,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},${2 << (i % 4)},${4096 << (i % 3)},${50 + (i % 7) * 25},Ubuntu 22.04,app-${i % 40},${['web', 'app', 'db'][i % 3]},prod`)
  writeFileSync(path.join(dir, 'cmdb.csv'), csv.join('\n') + '\n')
  rows.push(await run(`file: ${N}-row CMDB CSV`, ['discover', 'file', 'cmdb.csv', '--out', 'file/inventory.yaml'], {}))
} finally {
  rmSync(dir, {recursive: true, force: true})
}

const [load1] = (await import('node:os')).loadavg()
console.log(`\nmigrate discover benchmark (goal: < 3 s wall, < 300 MB peak RSS); ${(await import('node:os')).cpus().length} CPUs, load average ${load1.toFixed(1)}`)
console.log('source'.padEnd(40), 'servers'.padStart(8), 'requests'.padStart(9), 'wall s'.padStart(8), 'CPU s'.padStart(7), 'peak MB'.padStart(8), '  ok')
for (const r of rows) {
  const ok = r.ms < 3000 && r.rss < 300
  console.log(r.label.padEnd(40), String(r.servers).padStart(8), String(r.requests ?? '-').padStart(9), (r.ms / 1000).toFixed(2).padStart(8), r.cpu.toFixed(2).padStart(7), r.rss.toFixed(0).padStart(8), ok ? '  yes' : '  NO')
}
console.log(JSON.stringify({discover: rows.map((r) => ({source: r.label, servers: r.servers, wallMs: Math.round(r.ms), cpuMs: Math.round(r.cpu * 1000), peakRssMB: Math.round(r.rss)}))}))
