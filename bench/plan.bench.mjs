// Benchmark of `migrate plan`'s core (assemblePlan) on generated estates of 1k, 10k and 100k servers (10% as many
// applications, 3 dependency edges per server): planner time (generating/reading the estate excluded) and peak
// memory, each size in its own process; then the plan's quality beside the simple baseline.
// Usage: npm run build && node bench/plan.bench.mjs [--sizes 1000,10000,100000]
import {execFileSync} from 'node:child_process'
import {readFileSync, existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const dist = (p) => path.join(root, 'dist', p)

async function load() {
  const {assemble} = await import(dist('src/planner/assemble-plan.js'))
  const {baselineQuality, baselinePlacement, swapGain} = await import(dist('src/planner/quality.js'))
  const {PlanSettings} = await import(dist('src/schema/plan.js'))
  const {generateEstate, generatedSettings} = await import(path.join(here, 'estate-gen.mjs'))
  return {assemble, baselineQuality, baselinePlacement, swapGain, PlanSettings, generateEstate, generatedSettings}
}

/** One size, in this process: prints a JSON line. */
async function one(n) {
  const {assemble, PlanSettings, generateEstate, generatedSettings} = await load()
  const inv = generateEstate({servers: n, seed: 7})
  const settings = PlanSettings.parse(generatedSettings(n))
  const opts = {inventoryDigest: 'sha256:bench', inventoryPath: 'inventory.yaml'}
  globalThis.gc?.()
  const before = process.memoryUsage()
  const runs = 7
  const times = []
  const cpus = []
  let peakHeap = 0
  let plan
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    plan = assemble(inv, settings, undefined, opts).plan
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
    const c = process.cpuUsage(c0)
    cpus.push((c.user + c.system) / 1000)
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
    if (i < runs - 1) plan = undefined
  }
  const coldMs = times[0]
  times.sort((a, b) => a - b)
  cpus.sort((a, b) => a - b)
  const maxRssMiB = process.resourceUsage().maxRSS / 1024
  process.stdout.write(
    JSON.stringify({
      n,
      apps: inv.applications.length,
      edges: inv.dependencies.length,
      waves: plan.waves.length,
      medianMs: times[Math.floor(times.length / 2)],
      minMs: times[0],
      coldMs,
      cpuMs: cpus[Math.floor(cpus.length / 2)],
      estateRssMiB: before.rss / 1048576,
      peakRssMiB: maxRssMiB,
      peakHeapMiB: peakHeap / 1048576,
    }) + '\n',
  )
}

async function main() {
  const argv = process.argv.slice(2)
  if (argv[0] === '--one') return one(Number(argv[1]))
  if (argv[0] === '--quality') return qualityBench()
  const sizesArg = argv.indexOf('--sizes')
  const sizes = sizesArg >= 0 ? argv[sizesArg + 1].split(',').map(Number) : [1000, 10000, 100000]
  const rows = []
  for (const n of sizes) {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=4096', fileURLToPath(import.meta.url), '--one', String(n)],
      {encoding: 'utf8'},
    )
    rows.push(JSON.parse(out.trim().split('\n').pop()))
  }
  const loadAvg = (await import('node:os')).loadavg()[0]
  console.log(
    `migrate plan: planner time and memory on generated estates (10% apps, 3 edges/server); ${(await import('node:os')).cpus().length} CPUs, load average ${loadAvg.toFixed(1)}`,
  )
  console.log(
    'servers   apps  edges    waves  cold ms  median ms  min ms  cpu ms  estate RSS MiB  peak RSS MiB  µs per n·log2(n)',
  )
  for (const r of rows) {
    const nlogn = r.n * Math.log2(r.n)
    console.log(
      `${String(r.n).padEnd(9)} ${String(r.apps).padEnd(5)} ${String(r.edges).padEnd(8)} ${String(r.waves).padEnd(6)} ${r.coldMs.toFixed(1).padStart(7)} ${r.medianMs.toFixed(1).padStart(9)} ${r.minMs.toFixed(1).padStart(7)} ${r.cpuMs.toFixed(0).padStart(7)} ${r.estateRssMiB.toFixed(0).padStart(15)} ${r.peakRssMiB.toFixed(0).padStart(13)} ${((r.medianMs * 1000) / nlogn).toFixed(4).padStart(12)}`,
    )
  }
  const big = rows.find((r) => r.n === 100000)
  if (big) {
    const verdict =
      big.medianMs < 1000 && big.peakRssMiB < 1536
        ? 'MET'
        : big.minMs < 1000 && big.peakRssMiB < 1536
          ? `MET at best; the median is over on a machine with load ${loadAvg.toFixed(1)}`
          : 'NOT MET'
    console.log(
      `goal 100k servers: < 1000 ms and < 1536 MiB → median of 7 runs ${big.medianMs.toFixed(0)} ms (first, cold run ${big.coldMs.toFixed(0)} ms; best ${big.minMs.toFixed(0)} ms; median CPU ${big.cpuMs.toFixed(0)} ms incl. GC threads), ${big.peakRssMiB.toFixed(0)} MiB peak RSS (estate included): ${verdict}`,
    )
  }
  const small = rows.find((r) => r.n === 1000)
  if (big && small) {
    const ratio = big.medianMs / small.medianMs
    const nlogn = (100000 * Math.log2(100000)) / (1000 * Math.log2(1000))
    console.log(
      `growth 1k → 100k: ×${ratio.toFixed(0)} in time for ×100 servers (n log n would be ×${nlogn.toFixed(0)})`,
    )
  }

  await qualityBench()
}

/**
 * One server gets a disk just big enough that its wave no longer holds its data (at least 1 TiB; the application
 * stays within half a wave's data capacity), in the fullest wave where that is possible: a change the plan must
 * react to. What a re-plan with the previous plan at hand moves.
 */
function* oneServerChanges(inv, settings, plan) {
  const cap = settings.capacity.dataTiB * 1024
  const data = new Map()
  for (const s of inv.servers)
    data.set(s.application, (data.get(s.application) ?? 0) + s.disks.reduce((x, d) => x + (d.usedGiB ?? d.sizeGiB), 0))
  for (const d of inv.databases) data.set(d.application, (data.get(d.application) ?? 0) + d.sizeGiB)
  const waves = [...plan.waves].filter((x) => !x.pilot).sort((x, y) => y.dataGiB - x.dataGiB || x.number - y.number)
  for (const share of [0.5, 0.75, 1]) {
    for (const w of waves) {
      const gib = Math.max(1024, Math.ceil(cap - w.dataGiB + 1))
      for (const app of w.applications.filter((a) => (data.get(a) ?? 0) + gib <= cap * share)) {
        const changed = structuredClone(inv)
        changed.servers.find((s) => s.application === app).disks.push({name: 'sdz', sizeGiB: gib, usedGiB: gib})
        yield {changed, what: `${app} (wave ${w.number}) +${(gib / 1024).toFixed(1)} TiB`}
      }
    }
  }
}

/** Advice from a DEADLINE_UNREACHABLE error, each item re-planned here to see whether it really meets the deadline. */
function checkAdvice(assemble, PlanSettings, inv, settings, error) {
  let items = error.data?.advice
  if (!items) {
    // Older planners: one capacity suggestion in the hint's text.
    const m = /apps (\d+), servers (\d+), dataTiB (\d+)/.exec(error.hint ?? '')
    items = m ? [{settings: {capacity: {...settings.capacity, apps: +m[1], servers: +m[2], dataTiB: +m[3]}}}] : []
  }
  let works = 0
  for (const a of items) {
    try {
      assemble(inv, PlanSettings.parse({...settings, ...a.settings}), undefined, {inventoryDigest: 'sha256:bench'})
      works++
    } catch {
      // advice that does not work
    }
  }
  return `${works}/${items.length} work`
}

async function qualityBench() {
  const {assemble, baselinePlacement, swapGain, PlanSettings, generateEstate, generatedSettings} = await load()
  const cases = []
  const example = path.join(root, 'plans/example/inventory.yaml')
  if (existsSync(example)) {
    const {parse} = await import('yaml')
    const {Inventory} = await import(dist('src/schema/inventory.js'))
    const {SettingsFile} = await import(dist('src/schema/plan.js'))
    const inv = Inventory.parse(parse(readFileSync(example, 'utf8')))
    const settings = SettingsFile.parse(
      parse(readFileSync(path.join(root, 'plans/example/settings.yaml'), 'utf8')),
    ).settings
    cases.push({name: 'example', inv, settings})
  }
  const sizes = (process.env.QUALITY_SIZES ?? '100,1000,10000').split(',').map(Number)
  for (const shape of ['layered', 'chains', 'fanin', 'cycles', 'mixed']) {
    for (const n of sizes)
      cases.push({
        name: `${shape} ${n}`,
        inv: generateEstate({servers: n, seed: 7, shape}),
        settings: PlanSettings.parse(generatedSettings(n)),
      })
  }
  console.log(
    '\nplan quality on generated estates, beside the baseline (applications by criticality, packed by capacity)',
  )
  console.log(
    'viol: rules violated (swap: most of them one move or swap could remove); 1st prod: apps/servers (high/critical) of the first production wave; pilot: apps/servers of wave 1; churn: apps moved when one server gets a disk that overfills its wave',
  )
  const head =
    'estate          | planner: viol swap  dep-days   1st prod   pilot      churn    ms | baseline: viol  dep-days   1st prod      churn'
  console.log(head)
  console.log('-'.repeat(head.length))
  const fmtProd = (q) =>
    q.firstProdWave ? `${q.firstProdWave.apps}/${q.firstProdWave.servers} (${q.firstProdWave.critical})` : '-'
  for (const c of cases) {
    const opts = {inventoryDigest: 'sha256:bench'}
    const t0 = performance.now()
    const {plan, quality: q} = assemble(c.inv, c.settings, undefined, opts)
    const ms = performance.now() - t0
    const swap = swapGain(plan, c.inv)
    // Churn without the deadline (the change may cost a wave past it): both plans under the same settings.
    const open = PlanSettings.parse({...c.settings, deadline: undefined})
    const first = assemble(c.inv, open, undefined, opts).plan
    let changed, what, again
    for (const x of oneServerChanges(c.inv, c.settings, first)) {
      try {
        again = assemble(x.changed, open, {plan: first, startedWaves: []}, opts).plan
        ;({changed, what} = x)
        break
      } catch {
        // too big for its move group: the next candidate
      }
    }
    const before = new Map(first.applications.map((a) => [a.name, a.wave]))
    const moved = again ? again.applications.filter((a) => before.get(a.name) !== a.wave).length : 0
    const inScope = plan.applications.filter((a) => a.wave !== null).length
    const b = baselinePlacement(c.inv, c.settings)
    const b2 = baselinePlacement(changed ?? c.inv, open)
    let bMoved = 0
    for (const [name, w] of b.waves) if (b2.waves.get(name) !== w) bMoved++
    const pilot = plan.waves[0]
    console.log(
      `${c.name.padEnd(15)} | ${String(q.rulesViolated).padStart(13)} ${String(swap.gain).padStart(4)} ${String(q.dependencyDaysSplit).padStart(9)} ${fmtProd(q).padStart(10)} ${`${pilot.applications.length}/${pilot.servers}`.padStart(7)} ${`${moved} ${((moved / inScope) * 100).toFixed(1)}%`.padStart(10)} ${ms.toFixed(0).padStart(5)} | ${String(b.quality.rulesViolated).padStart(14)} ${String(b.quality.dependencyDaysSplit).padStart(9)} ${fmtProd(b.quality).padStart(10)} ${`${bMoved} ${((bMoved / inScope) * 100).toFixed(1)}%`.padStart(10)}`,
    )
    const vs = (v) =>
      Object.entries(v)
        .filter(([, x]) => x > 0)
        .map(([k, x]) => `${k} ${x}`)
        .join(', ') || 'none'
    console.log(
      `${''.padEnd(15)} | change: ${what ?? 'none that this estate can take'}; planner ${vs(q.violations)}${swap.move ? `; one swap would remove ${swap.gain}: ${swap.move}` : ''}; baseline ${vs(b.quality.violations)}`,
    )
  }
  // Tight deadlines: three quarters of the time the plan needs.
  console.log(
    '\ntight deadlines (75% of the days the plan needs): advice given, and how much of it works when re-planned',
  )
  for (const c of cases.filter((x) => /^(example|layered 1000|mixed 1000|chains 1000|layered 10000)$/.test(x.name))) {
    const {quality: q} = assemble(c.inv, c.settings, undefined, {inventoryDigest: 'sha256:bench'})
    const start = Date.parse(c.settings.startDate)
    const deadline = new Date(start + Math.floor(q.durationDays * 0.75) * 86_400_000).toISOString().slice(0, 10)
    const settings = PlanSettings.parse({...c.settings, deadline})
    const t0 = performance.now()
    try {
      assemble(c.inv, settings, undefined, {inventoryDigest: 'sha256:bench'})
      console.log(`${c.name.padEnd(15)} deadline ${deadline}: met (no advice needed)`)
    } catch (error) {
      const ms = performance.now() - t0
      console.log(
        `${c.name.padEnd(15)} deadline ${deadline}: ${error.code} in ${ms.toFixed(0)} ms; advice ${checkAdvice(assemble, PlanSettings, c.inv, settings, error)}`,
      )
      console.log(`${''.padEnd(15)} ${error.hint}`)
    }
  }
}

await main()
