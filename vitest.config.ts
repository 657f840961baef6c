// vitest: unit and integration tests for engine/ and main/ in plain Node.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/engine/**/*.test.ts', 'test/main/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // two test files run at once on this 2-core machine: one wasm thread each (engine-threads.test.ts sets its own)
    env: { TOKLAB_THREADS: '1' },
  },
});
