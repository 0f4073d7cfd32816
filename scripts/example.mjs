// `npm run example`: the main job on the built-in example estate, as an operator would type it:
// validate the inventory → plan the waves → dry-run wave 1 → show the status. No cloud account needed.
import {spawnSync} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = path.join(root, 'bin/run.js')
const steps = [
  ['validate', 'plans/example/inventory.yaml'],
  ['plan', '--plan', 'plans/example'],
  ['execute', 'wave', '1', '--plan', 'plans/example', '--dry-run'],
  ['status', '--plan', 'plans/example', '--wave', '1'],
]
for (const args of steps) {
  console.log(`\n\x1b[1m$ migrate ${args.join(' ')}\x1b[0m`)
  const r = spawnSync(process.execPath, [bin, ...args], {cwd: root, stdio: 'inherit'})
  if (r.status !== 0) {
    console.error(`\nmigrate ${args[0]} exited ${r.status}; see the message above.`)
    process.exit(r.status ?? 1)
  }
}
console.log(
  '\nDone. The plan is plans/example/plan.yaml; try `node bin/run.js plan --plan plans/example --format mermaid` for a Gantt chart.',
)
