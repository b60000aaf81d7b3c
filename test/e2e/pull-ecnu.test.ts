import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type DatasetId } from '../../src/sandbox/index.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { byKey, readNdjson } from '../support/ndjson.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 7 });
});
afterAll(async () => {
  await sandbox.close();
});

interface Case {
  source: string;
  dataset: DatasetId;
  params?: string[];
}

const cases: Case[] = [
  { source: 'ecnu-users', dataset: 'ecnu-users' },
  { source: 'ecnu-staff', dataset: 'ecnu-staff' },
  { source: 'ecnu-postdocs', dataset: 'ecnu-postdocs' },
  { source: 'ecnu-students', dataset: 'ecnu-students:研究生', params: ['--param', 'type=研究生'] },
  { source: 'ecnu-undergrads', dataset: 'ecnu-undergrads' },
];

function expectSnapshotEqualsTruth(snapshot: Record<string, unknown>[], dataset: DatasetId): void {
  const key = sandbox.keyField(dataset);
  const truth = sandbox.truth(dataset);
  const snap = byKey(snapshot, key);
  expect(snapshot.length).toBe(snap.size); // one line per key
  expect(snap.size).toBe(truth.length);
  for (const row of truth) expect(snap.get(String(row[key]))).toEqual(row);
}

describe.each(cases)('pull $source', ({ source, dataset, params = [] }) => {
  it('full, then incremental after updates, departures, deletions and inserts, converges', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const key = sandbox.keyField(dataset);
    const snap = path.join(home, 'snap.ndjson');
    const full = path.join(home, 'full.ndjson');

    const first = await idsync(['pull', source, ...params, '-o', full, '--snapshot', snap, '--page-size', '97'], env);
    expect(first.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toBe('');
    expectSnapshotEqualsTruth(await readNdjson(snap), dataset);
    // A full pull's output is the current set: tombstones only matter to incremental consumers.
    const fullRows = await readNdjson(full);
    expect(fullRows.length).toBe(sandbox.truth(dataset).length);
    expect(fullRows.every((r) => r['deleted_mark'] !== 1 && r['deleted_mark'] !== '1')).toBe(true);

    const updated = sandbox.mutate({ dataset, op: 'update', count: 3 });
    const departed = sandbox.mutate({ dataset, op: 'depart', count: 2 });
    const deleted = sandbox.mutate({ dataset, op: 'delete', count: 2 });
    const inserted = sandbox.mutate({ dataset, op: 'insert', count: 4 });

    const inc = path.join(home, 'inc.ndjson');
    const second = await idsync(['pull', source, ...params, '--since', 'last', '-o', inc, '--snapshot', snap, '--page-size', '97'], env);
    expect(second.exitCode).toBe(0);
    const incRows = byKey(await readNdjson(inc), key);
    for (const k of [...updated, ...departed, ...inserted]) expect(incRows.has(k)).toBe(true);
    for (const k of deleted) expect(incRows.get(k)?.['deleted_mark']).toBe(1);
    // Incremental: far fewer rows than the whole set.
    expect(incRows.size).toBeLessThan(sandbox.truth(dataset).length / 2);

    const snapRows = await readNdjson(snap);
    expectSnapshotEqualsTruth(snapRows, dataset);
    for (const k of deleted) expect(snapRows.some((r) => String(r[key]) === k)).toBe(false);
    await fs.rm(home, { recursive: true, force: true });
  });
});

describe('pull ecnu-users incremental edge cases', () => {
  it('picks up changes stamped in the same second as the previous run', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 'snap.ndjson');
    expect((await idsync(['pull', 'ecnu-users', '--snapshot', snap], env)).exitCode).toBe(0);
    // Two rounds: each mutation lands in the same second as the run before it.
    for (let i = 0; i < 2; i += 1) {
      sandbox.mutate({ dataset: 'ecnu-users', op: 'update', count: 2 });
      const r = await idsync(['pull', 'ecnu-users', '--since', 'last', '--snapshot', snap], env);
      expect(r.exitCode).toBe(0);
      sandbox.mutate({ dataset: 'ecnu-users', op: 'insert', count: 1 });
    }
    const last = await idsync(['pull', 'ecnu-users', '--since', 'last', '--snapshot', snap], env);
    expect(last.exitCode).toBe(0);
    expectSnapshotEqualsTruth(await readNdjson(snap), 'ecnu-users');
  });

  it('converges when the server clock is hours off and the local time zone is far away', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home, { TZ: 'America/Los_Angeles' });
    const snap = path.join(home, 'snap.ndjson');
    sandbox.setClockSkew(-5 * 3600);
    try {
      expect((await idsync(['pull', 'ecnu-staff', '--snapshot', snap], env)).exitCode).toBe(0);
      sandbox.mutate({ dataset: 'ecnu-staff', op: 'update', count: 2 });
      sandbox.setClockSkew(3 * 3600);
      sandbox.mutate({ dataset: 'ecnu-staff', op: 'depart', count: 1 });
      expect((await idsync(['pull', 'ecnu-staff', '--since', 'last', '--snapshot', snap], env)).exitCode).toBe(0);
      expectSnapshotEqualsTruth(await readNdjson(snap), 'ecnu-staff');
    } finally {
      sandbox.setClockSkew(0);
    }
  });

  it('streams NDJSON to stdout with -o - and keeps messages on stderr', async () => {
    const home = await tempDir();
    const r = await idsync(['pull', 'ecnu-postdocs', '-o', '-'], sandboxEnv(sandbox, home));
    expect(r.exitCode).toBe(0);
    const lines = String(r.stdout)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBe(sandbox.truth('ecnu-postdocs').length);
    expect(String(r.stderr)).toMatch(/ecnu-postdocs: full pull, \d+ records/);
  });

  it('writes CSV with a BOM and a header of every field', async () => {
    const home = await tempDir();
    const out = path.join(home, 'staff.csv');
    const r = await idsync(['pull', 'ecnu-staff', '-o', out], sandboxEnv(sandbox, home));
    expect(r.exitCode).toBe(0);
    const text = await fs.readFile(out, 'utf8');
    expect(text.startsWith('\ufeff')).toBe(true);
    const [header, ...rows] = text.slice(1).trimEnd().split('\r\n');
    expect(header?.split(',')).toEqual(expect.arrayContaining(['userId', 'name', 'department', 'updated_at', 'deleted_mark']));
    expect(rows.length).toBe(sandbox.truth('ecnu-staff').length);
    expect(text).toMatch(/[\u4e00-\u9fff]/);
  });

  it('quiet runs print nothing on success, so cron mails stay empty', async () => {
    const home = await tempDir();
    const r = await idsync(['pull', 'ecnu-postdocs', '--snapshot', path.join(home, 's.ndjson'), '--quiet'], sandboxEnv(sandbox, home));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  });

  it('state show lists the watermark after a run and reset forgets it', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    await idsync(['pull', 'ecnu-postdocs', '--snapshot', path.join(home, 's.ndjson')], env);
    const show = await idsync(['state', 'show', '--json'], env);
    const rows = JSON.parse(String(show.stdout)) as Array<{ source: string; watermark: number | null }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.source).toBe('ecnu-postdocs');
    expect(typeof rows[0]?.watermark).toBe('number');
    expect((await idsync(['state', 'reset', 'ecnu-postdocs'], env)).exitCode).toBe(0);
    expect(JSON.parse(String((await idsync(['state', 'show', '--json'], env)).stdout))).toEqual([]);
  });
});
