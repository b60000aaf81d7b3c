import { defineConfig } from 'vitest/config';

const spawnsTheCli = ['test/e2e/**/*.test.ts', 'test/reliability/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end tests spawn the CLI and a sandbox; two workers fit the 2-core machines.
    maxWorkers: 2,
    // `npm test` runs every project; `npm run test:unit` only the first (seconds, no child processes).
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: spawnsTheCli },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['test/support/build.ts'] },
      },
      {
        extends: true,
        test: { name: 'reliability', include: ['test/reliability/**/*.test.ts'], globalSetup: ['test/support/build.ts'] },
      },
    ],
  },
});
