import { defineConfig } from 'vitest/config';

// Folders whose tests spawn bin/idsync.js (the bundle in dist/); the rest run in-process.
const e2e = ['test/e2e/**/*.test.ts', 'test/hardening/**/*.test.ts', 'test/pg/cli-e2e.test.ts'];
const reliability = ['test/reliability/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end tests spawn the CLI and a sandbox; two workers fit the 2-core machines.
    maxWorkers: 2,
    // Rebundles dist/ when src/ changed since the last build (a no-op after `npm ci`), so that
    // no test ever spawns a stale CLI, whichever project it sits in.
    // A throwaway PostgreSQL server for test/pg (or IDSYNC_TEST_DATABASE_URL), per project.
    // One temp root per project for the tests' folders, removed at the end.
    globalSetup: ['test/support/temp-root.ts', 'test/support/build.ts', 'test/pg/global-setup.ts'],
    // `npm test` runs every project; `npm run test:unit` only the first (seconds).
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...e2e, ...reliability] } },
      { extends: true, test: { name: 'e2e', include: e2e } },
      { extends: true, test: { name: 'reliability', include: reliability } },
    ],
  },
});
