import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSandbox, type DatasetId, type FaultOptions } from '../../src/sandbox/index.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { lines } from '../support/ndjson.js';
import { expectSnapshotIsTruth } from '../support/snapshot-checks.js';

/**
 * Issue 5, item 2: tokens that expire in the middle of a run (a 2-second lifetime, a run of
 * several seconds) or are revoked at random are renewed, and the run finishes exactly.
 */

interface Case {
  source: string;
  dataset: DatasetId;
  tokenPath: string;
  args: string[];
  faults: FaultOptions;
}

const cases: Case[] = [
  // 30 pages one at a time, 100 ms each: about three token lifetimes.
  {
    source: 'ecnu-users',
    dataset: 'ecnu-users',
    tokenPath: '/oauth2/token',
    args: ['--page-size', '20', '--concurrency', '1'],
    faults: {},
  },
  {
    source: 'ecnu-users',
    dataset: 'ecnu-users',
    tokenPath: '/oauth2/token',
    args: ['--page-size', '20', '--concurrency', '3'],
    faults: { revokeTokens: 0.15 },
  },
  { source: 'tongji-students', dataset: 'tongji-students', tokenPath: '/v1/token', args: [], faults: {} },
  { source: 'tongji-students', dataset: 'tongji-students', tokenPath: '/v1/token', args: [], faults: { revokeTokens: 0.15 } },
];

describe.concurrent('access tokens expire or are revoked mid-run', () => {
  it.each(cases)('$source, faults $faults', async ({ source, dataset, tokenPath, args, faults }) => {
    const sandbox = await startSandbox({
      port: 0,
      seed: 21,
      tokenLifetimeSeconds: 2,
      latencyMs: 100,
      people: { 'tongji-students': 1200 },
      tongjiPageSize: 50,
      faults,
    });
    const home = await tempDir();
    try {
      const env = sandboxEnv(sandbox, home);
      const snap = path.join(home, 'snap.ndjson');
      const full = await idsync(['--verbose', 'pull', source, ...args, '--retries', '8', '--snapshot', snap], env);
      expect(full.exitCode, String(full.stderr)).toBe(0);
      // The run outlasted its first token and fetched new ones as it went.
      expect(lines(full.stderr).filter((l) => /new access token, valid 2 s/.test(l)).length).toBeGreaterThan(1);
      expect(sandbox.stats().byPath[tokenPath]).toBeGreaterThan(1);
      await expectSnapshotIsTruth(sandbox, snap, dataset);

      // The next run finds changes on the platform, and a cached token that the platform's clock
      // (moved on 3 s instead of waiting for it) has expired: refused, dropped and replaced.
      sandbox.mutate({ dataset, op: 'update', count: 4 });
      sandbox.mutate({ dataset, op: 'insert', count: 3 });
      sandbox.mutate({ dataset, op: 'depart', count: 2 });
      sandbox.setClockSkew(3);
      const tokensBefore = sandbox.stats().byPath[tokenPath] ?? 0;
      const inc = await idsync(['pull', source, '--since', 'last', ...args, '--retries', '8', '--snapshot', snap], env);
      expect(inc.exitCode, String(inc.stderr)).toBe(0);
      expect(sandbox.stats().byPath[tokenPath]).toBeGreaterThan(tokensBefore);
      await expectSnapshotIsTruth(sandbox, snap, dataset);
    } finally {
      await sandbox.close();
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
