/**
 * Vitest global setup: a PostgreSQL server for test/pg. IDSYNC_TEST_DATABASE_URL names an
 * existing server (its password, if written in it, is moved to PGPASSWORD for the tests);
 * otherwise a throwaway one is started here and stopped at the end. Never skipped.
 */
import type { TestProject } from 'vitest/node';
import { startPgServer } from '../../src/bench/throwaway-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    pgPassword: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env['IDSYNC_TEST_DATABASE_URL'];
  if (given) {
    const u = new URL(given);
    const password = decodeURIComponent(u.password) || (process.env['PGPASSWORD'] ?? '');
    u.password = '';
    project.provide('pgUrl', u.toString());
    project.provide('pgPassword', password);
    return async () => {};
  }
  const server = await startPgServer();
  project.provide('pgUrl', server.url);
  project.provide('pgPassword', server.password);
  return () => server.stop();
}
