import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { startSandbox, type DatasetId, type Sandbox } from '../../src/sandbox/index.js';
import { idsync, readNdjson, sandboxEnv, tempDir } from '../helpers/cli.js';
import { digest, expectSnapshotIsTruth, lines, sleep, spawnIdsync, stateFile, summaryLine, tempFilesIn, waitFor } from './helpers.js';

/**
 * Issue 5, item 3: runs killed at random moments, again and again, with changes on the platform
 * in between. After every kill the outputs are as before (or complete new versions, when the
 * kill came after the rename), nothing torn, the state parses; the next runs converge.
 */

// A seeded sequence of delays, so a failure can be replayed.
function delays(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return 50 + (x % 751); // 50..800 ms
  };
}

/** A file the kill may have replaced: it must then be whole, not torn. */
async function expectWhole(file: string, keyField: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  if (file.endsWith('.csv')) {
    const rows = parseCsv(text.replace(/^\ufeff/, ''), { columns: true }) as Record<string, string>[];
    expect(new Set(rows.map((r) => r[keyField])).size).toBe(rows.length);
    return;
  }
  const rows = await readNdjson(file);
  const keys = rows.map((r) => String(r[keyField]));
  expect(new Set(keys).size).toBe(keys.length);
}

async function expectStateParses(home: string, source: string): Promise<void> {
  const text = await fs.readFile(stateFile(home, source), 'utf8').catch(() => undefined);
  if (text === undefined) return; // no run has finished yet
  const state = JSON.parse(text) as { version: number; source: string };
  expect(state).toMatchObject({ version: 1, source });
}

interface Files {
  out: string;
  snap: string;
  dir: string;
}

async function fingerprint(f: Files, home: string, source: string) {
  return { out: await digest(f.out), snap: await digest(f.snap), state: await digest(stateFile(home, source)) };
}

type When = 'request' | 'write' | 'checkpoint';

/**
 * One run killed with SIGKILL: after its first request plus a random delay, or the moment its
 * temp files appear next to the outputs (the write phase), or after its first checkpoint.
 */
async function killedRun(sb: Sandbox, home: string, f: Files, source: string, keyField: string, when: When, delayMs: number) {
  const env = sandboxEnv(sb, home);
  const before = await fingerprint(f, home, source);
  const requests = sb.stats().requests;
  const child = spawnIdsync(['pull', source, '--since', 'last', '-o', f.out, '--snapshot', f.snap, '--timeout', '10'], env);
  if (when === 'request') {
    await waitFor(() => sb.stats().requests > requests, 15_000, 5);
    await sleep(delayMs);
  } else if (when === 'write') {
    // Its own temp files: a previous killed run's may still be there.
    await waitFor(async () => (await tempFilesIn(f.dir)).some((n) => n.includes(`.${child.pid}.`)), 15_000, 1);
  } else {
    const checkpoint = path.join(home, 'work', source, 'checkpoint.json');
    const spawned = Date.now();
    await waitFor(() => fs.stat(checkpoint).then((st) => st.mtimeMs >= spawned, () => false), 15_000, 5);
    await sleep(delayMs % 200);
  }
  child.kill('SIGKILL');
  const r = await child;
  const after = await fingerprint(f, home, source);
  await expectStateParses(home, source);
  if (r.signal !== 'SIGKILL') {
    // It finished before the kill landed.
    expect(r.exitCode, String(r.stderr)).toBe(0);
    return { killed: false, stderr: String(r.stderr) };
  }
  // The state moves only after both outputs are in place.
  if (after.state !== before.state) {
    expect(after.snap).not.toBe(before.snap);
  }
  for (const which of ['out', 'snap'] as const) {
    if (after[which] !== before[which]) {
      // Replaced: by a complete file (the kill came after the rename), never a torn one.
      expect(after[which]).not.toBeNull();
      await expectWhole(f[which], keyField);
    }
  }
  // Whatever a SIGKILL leaves next to the outputs is the killed run's own temp file (the
  // next run clears it), never a file with a name a consumer would read.
  for (const name of await tempFilesIn(f.dir)) expect(name).toContain(`.${child.pid}.`);
  expect((await fs.readdir(f.dir)).filter((n) => !n.startsWith('.')).sort()).toEqual(
    [path.basename(f.out), path.basename(f.snap)].filter((_, i) => [after.out, after.snap][i] !== null).sort(),
  );
  return { killed: true, stderr: String(r.stderr) };
}

async function finalRun(sb: Sandbox, home: string, f: Files, source: string) {
  const r = await idsync(['pull', source, '--since', 'last', '-o', f.out, '--snapshot', f.snap], sandboxEnv(sb, home));
  expect(r.exitCode, String(r.stderr)).toBe(0);
  return String(r.stderr);
}

function mutate(sb: Sandbox, dataset: DatasetId, i: number): void {
  sb.mutate({ dataset, op: 'update', count: 3 });
  sb.mutate({ dataset, op: 'insert', count: 2 });
  sb.mutate({ dataset, op: 'depart', count: 1 });
  if (dataset.startsWith('ecnu') && i % 2 === 0) sb.mutate({ dataset, op: 'delete', count: 1 });
}

describe.concurrent('SIGKILL at random moments, again and again', () => {
  it('ecnu-users (page numbers, CSV output, NDJSON snapshot)', async () => {
    // 30 pages two at a time, 40 ms each: a run lasts about a second past its start-up.
    const sb = await startSandbox({ port: 0, seed: 31, latencyMs: 40 });
    const home = await tempDir();
    const dir = path.join(home, 'out');
    await fs.mkdir(dir);
    const f: Files = { out: path.join(dir, 'users.csv'), snap: path.join(dir, 'users.ndjson'), dir };
    const next = delays(7);
    let kills = 0;
    try {
      for (let i = 0; i < 8; i += 1) {
        if (i > 0) mutate(sb, 'ecnu-users', i);
        const when: When = i % 4 === 3 ? 'write' : 'request';
        const { killed } = await killedRun(sb, home, f, 'ecnu-users', 'userId', when, next());
        if (killed) kills += 1;
      }
      expect(kills).toBeGreaterThan(4);
      mutate(sb, 'ecnu-users', 0);
      await finalRun(sb, home, f, 'ecnu-users');
      await expectSnapshotIsTruth(sb, f.snap, 'ecnu-users');
      expect(await tempFilesIn(dir)).toEqual([]);
      expect(await fs.readdir(path.join(home, 'locks'))).toEqual([]);
    } finally {
      await sb.close();
      await fs.rm(home, { recursive: true, force: true });
    }
  });

  it('tongji-students (cursor: a killed full pull resumes from its checkpoint)', async () => {
    // 24 cursor pages of 50, 50 ms each.
    const sb = await startSandbox({ port: 0, seed: 32, latencyMs: 50, people: { 'tongji-students': 1200 }, tongjiPageSize: 50 });
    const home = await tempDir();
    const dir = path.join(home, 'out');
    await fs.mkdir(dir);
    const f: Files = { out: path.join(dir, 'students.ndjson'), snap: path.join(dir, 'snapshot.ndjson'), dir };
    const next = delays(11);
    const summaries: string[] = [];
    let kills = 0;
    try {
      // The first full pull dies after its first checkpoint; the next run picks it up there.
      expect((await killedRun(sb, home, f, 'tongji-students', 'userId', 'checkpoint', next())).killed).toBe(true);
      mutate(sb, 'tongji-students', 0);
      const resumed = await finalRun(sb, home, f, 'tongji-students');
      expect(resumed).toMatch(/tongji-students: full pull \(resumed\), 1\d{3} records/);
      for (let i = 1; i < 8; i += 1) {
        mutate(sb, 'tongji-students', i);
        const when: When = i % 4 === 3 ? 'write' : i % 3 === 0 ? 'checkpoint' : 'request';
        const { killed, stderr } = await killedRun(sb, home, f, 'tongji-students', 'userId', when, next());
        if (killed) kills += 1;
        else summaries.push(stderr);
      }
      expect(kills).toBeGreaterThan(3);
      mutate(sb, 'tongji-students', 0);
      let last = await finalRun(sb, home, f, 'tongji-students');
      summaries.push(last);
      // A resumed run brings the snapshot up to where the interrupted run began; what changed
      // on the platform since then comes with the next run, which the watermark guarantees.
      if (/\(resumed\)/.test(last)) last = await finalRun(sb, home, f, 'tongji-students');
      await expectSnapshotIsTruth(sb, f.snap, 'tongji-students');
      expect(await tempFilesIn(dir)).toEqual([]);
      for (const s of summaries) expect(lines(s).some((l) => summaryLine.test(l))).toBe(true);
    } finally {
      await sb.close();
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});

describe.concurrent('SIGINT and SIGTERM stop a run cleanly', () => {
  const cases = [
    { signal: 'SIGINT', code: 130, source: 'ecnu-users', dataset: 'ecnu-users', phase: 'paging' },
    { signal: 'SIGTERM', code: 143, source: 'tongji-students', dataset: 'tongji-students', phase: 'paging' },
    { signal: 'SIGTERM', code: 143, source: 'ecnu-users', dataset: 'ecnu-users', phase: 'writing' },
  ] as const;
  it.each(cases)('$signal while $phase ($source): exit $code, outputs and state untouched', async ({ signal, code, source, dataset, phase }) => {
    const sb = await startSandbox({ port: 0, seed: 41, latencyMs: 40, people: { 'tongji-students': 1200 }, tongjiPageSize: 50 });
    const home = await tempDir();
    const dir = path.join(home, 'out');
    await fs.mkdir(dir);
    const out = path.join(dir, 'out.ndjson');
    const snap = path.join(dir, 'snap.ndjson');
    try {
      const env = sandboxEnv(sb, home);
      expect((await idsync(['pull', source, '-o', out, '--snapshot', snap], env)).exitCode).toBe(0);
      // A large change, so that the incremental run has something to write for a while.
      sb.mutate({ dataset, op: 'update', count: 300 });
      const before = { out: await digest(out), snap: await digest(snap), state: await digest(stateFile(home, source)) };
      const child = spawnIdsync(['pull', source, '--since', 'last', '-o', out, '--snapshot', snap, '--page-size', '20'], env);
      if (phase === 'paging') {
        const spool = path.join(home, 'work', source, 'spool.ndjson');
        expect(await waitFor(() => fs.stat(spool).then((s) => s.size > 0, () => false), 15_000, 5)).toBe(true);
      } else {
        expect(await waitFor(async () => (await tempFilesIn(dir)).length > 0, 15_000, 1)).toBe(true);
      }
      child.kill(signal);
      const r = await child;
      if (phase === 'writing' && r.exitCode === 0) return; // the signal came after the last check: a complete run
      expect(r.exitCode).toBe(code);
      expect(lines(r.stderr)).toEqual([`idsync: interrupted by ${signal}; previous outputs and state left as they were`]);
      expect({ out: await digest(out), snap: await digest(snap), state: await digest(stateFile(home, source)) }).toEqual(before);
      expect(await tempFilesIn(dir)).toEqual([]);
      expect(await fs.readdir(path.join(home, 'locks'))).toEqual([]);
    } finally {
      await sb.close();
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
