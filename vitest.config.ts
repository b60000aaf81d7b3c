import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A throwaway PostgreSQL server for test/pg (or IDSYNC_TEST_DATABASE_URL).
    globalSetup: ['test/pg/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end tests spawn the CLI and a sandbox; two workers fit the 2-core machines.
    maxWorkers: 2,
  },
});
