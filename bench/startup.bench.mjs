// Start-up time of `migrate` beside a bare one-command oclif 4 CLI with a manifest, measured side by side
// (interleaved runs, median of N). Goal: `migrate --version` and `migrate plan --help` within 1.2× of the bare CLI.
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const N = Number(process.env.BENCH_RUNS ?? 15)

function makeBareCli() {
  const dir = mkdtempSync(path.join(tmpdir(), 'bare-oclif-'))
  mkdirSync(path.join(dir, 'bin'))
  mkdirSync(path.join(dir, 'dist/commands'), {recursive: true})
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'))
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'bare',
      version: '1.0.0',
      type: 'module',
      oclif: {bin: 'bare', commands: './dist/commands', topicSeparator: ' '},
    }),
  )
  writeFileSync(
    path.join(dir, 'bin/run.js'),
    "import {execute} from '@oclif/core'\nawait execute({dir: import.meta.url})\n",
  )
  writeFileSync(
    path.join(dir, 'dist/commands/hello.js'),
    "import {Command} from '@oclif/core'\nexport default class Hello extends Command {\n  static summary = 'say hello'\n  async run() { this.log('hello') }\n}\n",
  )
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import {Plugin} from '@oclif/core'; import {writeFileSync} from 'node:fs'; const p = new Plugin({root: ${JSON.stringify(dir)}, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true}); await p.load(); writeFileSync(${JSON.stringify(path.join(dir, 'oclif.manifest.json'))}, JSON.stringify(p.manifest))`,
    ],
    {cwd: dir, encoding: 'utf8'},
  )
  if (r.status !== 0) throw new Error(r.stderr)
  return dir
}

function time(args, cwd) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, {cwd, encoding: 'utf8', env: {...process.env, NODE_NO_WARNINGS: '1'}})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return ms
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const bare = makeBareCli()
try {
  const cases = {
    'node -e 0': [['-e', '0'], root],
    'bare oclif --version': [[path.join(bare, 'bin/run.js'), '--version'], bare],
    'migrate --version': [[path.join(root, 'bin/run.js'), '--version'], root],
    'migrate plan --help': [[path.join(root, 'bin/run.js'), 'plan', '--help'], root],
    'migrate execute wave --help': [[path.join(root, 'bin/run.js'), 'execute', 'wave', '--help'], root],
  }
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (const [k, [args, cwd]] of Object.entries(cases)) {
    try {
      time(args, cwd) // warm the file cache
    } catch (error) {
      console.log(`${k}: skipped (${String(error.message).split('\n')[0]})`)
      delete cases[k]
      delete samples[k]
    }
  }
  for (let i = 0; i < N; i++) for (const [k, [args, cwd]] of Object.entries(cases)) samples[k].push(time(args, cwd))
  const base = median(samples['bare oclif --version'])
  console.log(`start-up, median of ${N} interleaved runs (node ${process.version})`)
  console.log('case'.padEnd(30), 'median ms'.padStart(10), 'vs bare'.padStart(9))
  for (const [k, xs] of Object.entries(samples))
    console.log(k.padEnd(30), median(xs).toFixed(0).padStart(10), (median(xs) / base).toFixed(2).padStart(8) + '×')
  const worst =
    Math.max(...['migrate --version', 'migrate plan --help'].filter((k) => samples[k]).map((k) => median(samples[k]))) /
    base
  console.log(
    `goal: migrate --version and plan --help within 1.20× of bare: ${worst <= 1.2 ? 'met' : 'NOT met'} (${worst.toFixed(2)}×)`,
  )
} finally {
  rmSync(bare, {recursive: true, force: true})
}
