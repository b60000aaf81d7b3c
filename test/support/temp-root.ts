/**
 * Vitest global setup: one folder per project and run that holds every test's temp folders
 * (tempDir()), removed at the end. Why: each test makes a fresh IDSYNC_HOME and work folders,
 * and left in the system's temp folder they added up to thousands of folders and gigabytes
 * over a day of runs. A run that is killed leaves one folder, not hundreds.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    tempRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `idsync-tests-${project.name || 'all'}-`));
  project.provide('tempRoot', root);
  return async () => {
    // A test that failed to unmount what it mounted leaves a busy folder: removed next time
    // by hand, never worth failing the run over.
    await fs.rm(root, { recursive: true, force: true }).catch(() => undefined);
  };
}
