// A scratch directory for one test file, removed afterwards. It lives under the run's own TMPDIR (test/global-setup.ts),
// which is removed at the end of the run too: nothing a test or the CLIs it starts write stays in /tmp.
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export function scratchDir(name: string): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${name}-`))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}
