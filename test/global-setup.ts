// One temporary directory per test run, as TMPDIR for every test worker and every process they start (the CLI, the
// database servers of the lab), removed when the run ends: a run leaves no /tmp/migrate-* directories behind,
// whichever test forgot to clean up after itself or was killed half-way.
import {chmodSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export default function setup(): () => void {
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
