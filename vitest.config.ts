import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every run writes its temporary files under one TMPDIR of its own, removed at the end (no /tmp/migrate-* left).
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-ports.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Servers the tests start take ports reserved at run time (test/helpers/ports.ts): files may run side by side.
    fileParallelism: true,
    maxWorkers: 2,
    pool: 'forks',
  },
})
