// One temporary directory per test run, as TMPDIR for every test worker and every process they start (the CLI, the
// database servers of the lab), removed when the run ends: a run leaves no /tmp/migrate-* directories behind,
// whichever test forgot to clean up after itself or was killed half-way.
//
// The CLI tests run the built CLI (dist/): when a source is newer than the build, the build runs first, so no test
// ever runs a stale dist/ (`npm test` builds before the tests; a bare `npx vitest run` after an edit builds here).
import {execFileSync} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')

/** The newest modification time of the files below `dir` whose names end in `ext` (0 when none). */
function newest(dir: string, ext: string): number {
  if (!existsSync(dir)) return 0
  let t = 0
  for (const e of readdirSync(dir, {withFileTypes: true, recursive: true})) {
    if (e.isFile() && e.name.endsWith(ext)) t = Math.max(t, statSync(path.join(e.parentPath, e.name)).mtimeMs)
  }
  return t
}

function buildIfStale(): void {
  const sources = Math.max(
    newest(path.join(ROOT, 'src'), '.ts'),
    newest(path.join(ROOT, 'commands'), '.ts'),
    statSync(path.join(ROOT, 'package.json')).mtimeMs,
  )
  const built = newest(path.join(ROOT, 'dist'), '.js')
  if (built >= sources && existsSync(path.join(ROOT, 'oclif.manifest.json'))) return
  process.stderr.write('dist/ is older than the sources: npm run build\n')
  execFileSync('npm', ['run', 'build'], {cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit']})
}

export default function setup(): () => void {
  buildIfStale()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migrate-test-run-'))
  // Servers started as other users (postgres) must reach their data directories below it.
  chmodSync(dir, 0o755)
  const previous = process.env.TMPDIR
  process.env.TMPDIR = dir
  process.env.MIGRATE_TEST_TMPDIR = dir
  return () => {
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
    rmSync(dir, {recursive: true, force: true, maxRetries: 3})
  }
}
