import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type DatasetId, type Sandbox } from '../../src/sandbox/index.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { byKey, readNdjson } from '../support/ndjson.js';

const sources: Array<{ source: string; dataset: DatasetId }> = [
  { source: 'tongji-students', dataset: 'tongji-students' },
  { source: 'tongji-staff', dataset: 'tongji-staff' },
  { source: 'tongji-postdocs', dataset: 'tongji-postdocs' },
];

function expectSnapshotEqualsTruth(
  sandbox: Sandbox,
  rows: Record<string, unknown>[],
  dataset: DatasetId,
  filters?: Record<string, string>,
): void {
  const truth = sandbox.truth(dataset, filters);
  const snap = byKey(rows, 'userId');
  expect(rows.length).toBe(snap.size);
  expect(snap.size).toBe(truth.length);
  for (const row of truth) expect(snap.get(String(row['userId']))).toEqual(row);
}

describe.each([true, false])('tongji with trailing cursor %s', (trailing) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, seed: 11, tongjiTrailingCursor: trailing, tongjiPageSize: 400 });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it.each(sources)('$source: full, then updates, departures and inserts later the same day converge', async ({ source, dataset }) => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 'snap.ndjson');
    const first = await idsync(['pull', source, '--snapshot', snap], env);
    expect(first.stderr).toMatch(new RegExp(`${source}: full pull`));
    expect(first.exitCode).toBe(0);
    expectSnapshotEqualsTruth(sandbox, await readNdjson(snap), dataset);

    // Stamped with today's date only (updateTime precise to the day), like the platform's examples.
    const updated = sandbox.mutate({ dataset, op: 'update', count: 3 });
    const departed = sandbox.mutate({ dataset, op: 'depart', count: 2 });
    const inserted = sandbox.mutate({ dataset, op: 'insert', count: 2 });
    const inc = path.join(home, 'inc.ndjson');
    const second = await idsync(['pull', source, '--since', 'last', '-o', inc, '--snapshot', snap], env);
    expect(second.exitCode).toBe(0);
    const incRows = byKey(await readNdjson(inc), 'userId');
    for (const k of [...updated, ...departed, ...inserted]) expect(incRows.has(k)).toBe(true);
    if (dataset !== 'tongji-postdocs') {
      // A departure is seen: statusCode 0 → 1, as the platform sent it.
      for (const k of departed) expect(incRows.get(k)?.['statusCode']).toBe('1');
    }
    expectSnapshotEqualsTruth(sandbox, await readNdjson(snap), dataset);

    // Another change the same day, after the previous run: still arrives.
    const again = sandbox.mutate({ dataset, op: 'update', count: 1 });
    const third = await idsync(['pull', source, '--since', 'last', '-o', inc, '--snapshot', snap], env);
    expect(third.exitCode).toBe(0);
    expect(byKey(await readNdjson(inc), 'userId').has(again[0]!)).toBe(true);
    expectSnapshotEqualsTruth(sandbox, await readNdjson(snap), dataset);
  });

  it('keeps a separate state for each filter set', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const all = sandbox.truth('tongji-students');
    const grade = String(all[0]?.['currentGrade']);
    const snap = path.join(home, 'grade.ndjson');
    const r = await idsync(['pull', 'tongji-students', '--param', `currentGrade=${grade}`, '--snapshot', snap], env);
    expect(r.exitCode).toBe(0);
    expectSnapshotEqualsTruth(sandbox, await readNdjson(snap), 'tongji-students', { currentGrade: grade });
    const state = JSON.parse(String((await idsync(['state', 'show', '--json'], env)).stdout)) as Array<{ params: Record<string, string> }>;
    expect(state.map((s) => s.params)).toEqual([{ currentGrade: grade }]);
  });
});

describe('tongji: a streamed pull (-o -) resumed after a failure', () => {
  it('writes every record to stdout, not only those fetched after the resume', async () => {
    const sandbox = await startSandbox({ port: 0, seed: 12, tongjiPageSize: 100 });
    try {
      const home = await tempDir();
      const env = sandboxEnv(sandbox, home);
      // The platform fails for good from the fourth request on (the token, then pages): the run
      // ends after its first durable pages (their checkpoint kept), having streamed their records.
      let pages = 0;
      const stop = sandbox.onRequest(() => {
        if (++pages === 4) sandbox.setFaults({ http500: 1 });
      });
      const failed = await idsync(['pull', 'tongji-students', '-o', '-', '--retries', '0'], env);
      stop();
      expect(failed.exitCode).not.toBe(0);
      expect(String(failed.stdout).trim().split('\n').length).toBeGreaterThan(0);
      sandbox.setFaults({ http500: 0 });
      const resumed = await idsync(['pull', 'tongji-students', '-o', '-', '--verbose'], env);
      expect(resumed.exitCode, String(resumed.stderr)).toBe(0);
      expect(String(resumed.stderr)).toMatch(/resuming an interrupted pull of tongji-students/);
      const rows = String(resumed.stdout)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expectSnapshotEqualsTruth(sandbox, rows, 'tongji-students');
    } finally {
      await sandbox.close();
    }
  });
});
