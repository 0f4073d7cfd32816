// Benchmark: a wave of 100 applications × 10 trivial steps at concurrency 10, journal included (fsync'd appends).
//  1. in-process no-op steps: measures the orchestration alone (pre-flight, rendering, journal, replay, events);
//  2. real `true` processes: what a wave of trivial commands costs end to end (process spawn dominates).
// Prints a small table; exits 0. Goal: < 2 ms of orchestration overhead per step.
import {readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {executeWave} from '../dist/src/executor/engine.js'
import {wavePlanDir} from './wave-plan.mjs'

const APPS = Number(process.env.BENCH_APPS ?? 100)
const STEPS = Number(process.env.BENCH_STEPS ?? 10)
const CONCURRENCY = 10

const planDir = () =>
  wavePlanDir({apps: Array.from({length: APPS}, (_, i) => `app-${String(i).padStart(3, '0')}`), steps: STEPS})

const noop = async () => ({exitCode: 0, output: '', stdout: '', timedOut: false, canceled: false, durationMs: 0})

async function measure(label, deps) {
  const dir = planDir()
  let events = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await executeWave({planDir: dir, wave: 1, concurrency: CONCURRENCY, emit: () => events++, deps})
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const steps = APPS * STEPS
  if (r.exitCode !== 0) throw new Error(`${label}: exit ${r.exitCode}`)
  const journalLines = readFileSync(path.join(dir, 'state.journal'), 'utf8').split('\n').filter(Boolean).length
  rmSync(dir, {recursive: true, force: true})
  return {
    label,
    steps,
    totalMs: ms,
    perStepMs: ms / steps,
    cpuPerStepMs: (cpu.user + cpu.system) / 1000 / steps,
    journalLines,
    events,
  }
}

// Warm up module loading and the JIT on a small wave, so the numbers are the steady state.
await measure('warm-up', {runCommand: noop, which: () => true}).catch(() => undefined)
const rows = [
  await measure('in-process no-op', {runCommand: noop, which: () => true}),
  await measure('real `true` process', {}),
]
const pad = (s, n) => String(s).padEnd(n)
console.log(
  `migrate execute: ${APPS} apps × ${STEPS} steps, concurrency ${CONCURRENCY}, journal fsync'd (group commit)`,
)
console.log(`${pad('steps', 22)}${pad('total', 12)}${pad('wall/step', 12)}${pad('cpu/step', 12)}journal lines`)
for (const r of rows)
  console.log(
    `${pad(r.label, 22)}${pad(r.totalMs.toFixed(0) + ' ms', 12)}${pad(r.perStepMs.toFixed(3) + ' ms', 12)}${pad(r.cpuPerStepMs.toFixed(3) + ' ms', 12)}${r.journalLines}`,
  )
const o = rows[0]
console.log(
  `orchestration overhead: ${o.perStepMs.toFixed(3)} ms/step wall (goal < 2 ms): ${o.perStepMs < 2 ? 'OK' : 'OVER'}`,
)
console.log(
  JSON.stringify({
    bench: 'execute',
    apps: APPS,
    stepsPerApp: STEPS,
    concurrency: CONCURRENCY,
    results: rows.map(({label, totalMs, perStepMs, cpuPerStepMs, journalLines}) => ({
      label,
      totalMs: Math.round(totalMs),
      perStepMs: +perStepMs.toFixed(3),
      cpuPerStepMs: +cpuPerStepMs.toFixed(3),
      journalLines,
    })),
  }),
)
