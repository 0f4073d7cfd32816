import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every run writes its temporary files under one TMPDIR of its own, removed at the end (no /tmp/migrate-* left).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Database and sshd tests start their own servers on fixed spare ports per file: keep files apart.
    fileParallelism: true,
    maxWorkers: 2,
    pool: 'forks',
  },
})
