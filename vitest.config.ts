import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end tests spawn the CLI and a sandbox; two workers fit the 2-core machines.
    maxWorkers: 2,
  },
});
