import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { byKey, readNdjson } from '../support/ndjson.js';

/**
 * seeds/004's postdoc rows carry no updateTime (nor createTime): the documents are silent on
 * whether the platform ever sends one. Without it the data's clock says nothing, so the server's
 * Date bounds the watermark, and nothing is lost however many runs follow.
 */

const untimed = (row: Record<string, unknown>) => {
  const { createTime: _c, updateTime: _u, ...rest } = row;
  return rest;
};

describe('tongji-postdocs served without update times, as documented', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, seed: 17, tongjiPostdocTimes: false, tongjiTrailingCursor: false, tongjiPageSize: 50 });
  });
  afterAll(() => sandbox.close());

  function expectSnapshotEqualsTruth(rows: Record<string, unknown>[]): void {
    const truth = sandbox.truth('tongji-postdocs');
    const snap = byKey(rows, 'userId');
    expect(snap.size).toBe(truth.length);
    for (const row of truth) expect(snap.get(String(row['userId']))).toEqual(untimed(row));
  }

  it('full, then changes: every run converges and the state moves by the server clock', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 'snap.ndjson');
    const first = await idsync(['pull', 'tongji-postdocs', '--snapshot', snap], env);
    expect(first.exitCode, first.stderr).toBe(0);
    const rows = await readNdjson(snap);
    expect(rows.every((r) => !('updateTime' in r))).toBe(true);
    expectSnapshotEqualsTruth(rows);
    const state = String((await idsync(['state', 'show', '--json'], env)).stdout);
    expect(state).toMatch(/"watermark":\s*\d+/);

    const changed = [
      ...sandbox.mutate({ dataset: 'tongji-postdocs', op: 'update', count: 3 }),
      ...sandbox.mutate({ dataset: 'tongji-postdocs', op: 'depart', count: 2 }),
      ...sandbox.mutate({ dataset: 'tongji-postdocs', op: 'insert', count: 2 }),
    ];
    const inc = path.join(home, 'inc.ndjson');
    for (let run = 0; run < 2; run += 1) {
      const r = await idsync(['pull', 'tongji-postdocs', '--since', 'last', '-o', inc, '--snapshot', snap], env);
      expect(r.exitCode, r.stderr).toBe(0);
      const got = byKey(await readNdjson(inc), 'userId');
      if (run === 0) for (const k of changed) expect(got.has(k)).toBe(true);
      expectSnapshotEqualsTruth(await readNdjson(snap));
    }
  });
});
