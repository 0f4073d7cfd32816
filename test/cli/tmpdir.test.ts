// The run's temporary files go to its own TMPDIR (test/global-setup.ts), which the run removes at its end.
import {execa} from 'execa'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

describe('temporary files of a test run', () => {
  it('tests and the processes they start write under the run directory, not /tmp itself', async () => {
    const runDir = process.env.MIGRATE_TEST_TMPDIR
    expect(runDir).toMatch(/migrate-test-run-/)
    expect(os.tmpdir()).toBe(runDir)
    const child = await execa('node', ['-e', 'process.stdout.write(require("node:os").tmpdir())'])
    expect(path.resolve(child.stdout)).toBe(runDir)
  })
})
