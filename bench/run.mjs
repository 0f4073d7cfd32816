// `npm run bench`: runs every bench/*.bench.mjs in turn (each prints its own table).
import {readdirSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const dir = path.dirname(fileURLToPath(import.meta.url))
const only = process.argv.slice(2)
let failed = 0
for (const f of readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort()) {
  if (only.length > 0 && !only.some((o) => f.includes(o))) continue
  console.log(`\n=== ${f} ===`)
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(dir, f)], {stdio: 'inherit'})
  if (r.status !== 0) {
    failed++
    console.log(`${f} exited ${r.status}`)
  }
}
process.exit(failed > 0 ? 1 : 0)
