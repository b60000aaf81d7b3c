import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { startSandbox, type DatasetId, type Sandbox } from '../../src/sandbox/index.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { lines, readNdjson } from '../support/ndjson.js';
import { digest, expectSnapshotIsTruth, stateFile, summaryLine, tempFilesIn } from '../support/snapshot-checks.js';
import { exited, sleep, whenFolder } from '../support/wait.js';

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
    const rows = parseCsv<Record<string, string>>(text.replace(/^\ufeff/, ''), { columns: true });
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
  expect(state).toMatchObject({ version: 2, source });
}

interface Files {
  out: string;
  snap: string;
  dir: string;
}

async function fingerprint(f: Files, home: string, source: string) {
  return { out: await digest(f.out), snap: await digest(f.snap), state: await digest(stateFile(home, source)) };
}

type When = 'request' | 'write' | 'write-snapshot' | 'commit' | 'checkpoint';

/**
 * One run killed with SIGKILL: after its first request plus a random delay; the moment its temp
 * file appears next to the output (write) or the snapshot (write-snapshot); the moment the output
 * has been renamed into place (commit: the snapshot and the state may not be yet); or after its
 * first checkpoint.
 */
async function killedRun(
  sb: Sandbox,
  home: string,
  f: Files,
  source: string,
  keyField: string,
  when: When,
  delayMs: number,
  extra: string[] = [],
) {
  const env = sandboxEnv(sb, home);
  const before = await fingerprint(f, home, source);
  const requests = sb.stats().requests;
  const child = idsync(['pull', source, '--since', 'last', '-o', f.out, '--snapshot', f.snap, '--timeout', '10', ...extra], env);
  // Each wait ends early should the run finish first (it then counts as not killed).
  const ended = exited(child).then(() => false);
  const until = (dir: string, check: () => Promise<boolean>) => Promise.race([whenFolder(dir, check), ended]);
  if (when === 'request') {
    const requested = new Promise<void>((resolve) => {
      const stop = sb.onRequest(() => {
        stop();
        resolve();
      });
    });
    if (sb.stats().requests === requests) await Promise.race([requested, ended]);
    // The kill moment itself is drawn at random (seeded), after the first request.
    await sleep(delayMs);
  } else if (when === 'write' || when === 'write-snapshot') {
    // Its own temp files: a previous killed run's may still be there.
    const prefix = `.${path.basename(when === 'write' ? f.out : f.snap)}.${child.pid}.`;
    await until(f.dir, async () => (await tempFilesIn(f.dir)).some((n) => n.startsWith(prefix)));
  } else if (when === 'commit') {
    await until(f.dir, async () => (await digest(f.out)) !== before.out);
  } else {
    const checkpoint = path.join(home, 'work', source, 'checkpoint.json');
    const spawned = Date.now();
    await until(home, () =>
      fs.stat(checkpoint).then(
        (st) => st.mtimeMs >= spawned,
        () => false,
      ),
    );
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
  // The state never runs ahead of the snapshot: the snapshot on disk is the one the state
  // names, or one a killed run committed after it, whose commit journal is still there for the
  // next run to finish (the state may also move when this run finished such a commit).
  if (after.state !== before.state) {
    const st = await fs.stat(f.snap, { bigint: true });
    const onDisk = `${st.dev}:${st.ino}`;
    const jobs = Object.values(
      (JSON.parse(await fs.readFile(stateFile(home, source), 'utf8')) as { jobs: Record<string, { snapshotMark: string }> }).jobs,
    );
    const journals: string[] = [];
    for (const d of await fs.readdir(path.join(home, 'jobs')).catch(() => [] as string[])) {
      const text = await fs.readFile(path.join(home, 'jobs', d, 'journal.json'), 'utf8').catch(() => undefined);
      if (text) journals.push((JSON.parse(text) as { markAfterCommit: string }).markAfterCommit);
    }
    expect([...jobs.map((j) => j.snapshotMark), ...journals]).toContain(onDisk);
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

async function finalRun(sb: Sandbox, home: string, f: Files, source: string, extra: string[] = []) {
  const r = await idsync(['pull', source, '--since', 'last', '-o', f.out, '--snapshot', f.snap, ...extra], sandboxEnv(sb, home));
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
    // 30 pages two at a time, 60 ms each: a full pull pages for about a second.
    const sb = await startSandbox({ port: 0, seed: 31, latencyMs: 60 });
    const paging = ['--page-size', '20', '--concurrency', '2'];
    const home = await tempDir();
    const dir = path.join(home, 'out');
    await fs.mkdir(dir);
    const f: Files = { out: path.join(dir, 'users.csv'), snap: path.join(dir, 'users.ndjson'), dir };
    const next = delays(7);
    let kills = 0;
    try {
      for (let i = 0; i < 9; i += 1) {
        if (i > 0) mutate(sb, 'ecnu-users', i);
        if (i === 3) {
          // Full pulls killed so far, with nothing written before; from here on incremental
          // runs are killed over existing outputs (smaller pages: they too page for a while).
          await finalRun(sb, home, f, 'ecnu-users', paging);
          continue;
        }
        const when: When = (['request', 'request', 'write', '-', 'request', 'write-snapshot', 'request', 'request', 'commit'] as const)[
          i
        ] as When;
        const { killed } = await killedRun(sb, home, f, 'ecnu-users', 'userId', when, next(), i < 3 ? paging : ['--page-size', '3']);
        if (killed) kills += 1;
      }
      expect(kills).toBeGreaterThanOrEqual(3);
      mutate(sb, 'ecnu-users', 0);
      await finalRun(sb, home, f, 'ecnu-users');
      await expectSnapshotIsTruth(sb, f.snap, 'ecnu-users');
      expect(await tempFilesIn(dir)).toEqual([]);
      expect((await fs.readdir(path.join(home, 'locks'))).filter((n) => n.endsWith('.lock'))).toEqual([]);
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
        const when: When = (['-', 'request', 'write', 'checkpoint', 'write-snapshot', 'request', 'commit', 'request'] as const)[i] as When;
        const { killed, stderr } = await killedRun(sb, home, f, 'tongji-students', 'userId', when, next());
        if (killed) kills += 1;
        else summaries.push(stderr);
      }
      expect(kills).toBeGreaterThanOrEqual(3);
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
  it.each(cases)(
    '$signal while $phase ($source): exit $code, outputs and state untouched',
    async ({ signal, code, source, dataset, phase }) => {
      const sb = await startSandbox({ port: 0, seed: 41, latencyMs: 40, people: { 'tongji-students': 1200 }, tongjiPageSize: 50 });
      const home = await tempDir();
      const dir = path.join(home, 'out');
      await fs.mkdir(dir);
      const out = path.join(dir, 'out.ndjson');
      const snap = path.join(dir, 'snap.ndjson');
      try {
        const env = sandboxEnv(sb, home);
        expect((await idsync(['pull', source, '-o', out, '--snapshot', snap], env)).exitCode).toBe(0);
        // The writing phase lasts milliseconds: a run may finish before the signal lands. Such a
        // run must be a correct complete one, and one of a few attempts must be interrupted.
        let interrupted = false;
        for (let attempt = 0; attempt < 5 && !interrupted; attempt += 1) {
          // A large change, so that the incremental run has something to write for a while.
          sb.mutate({ dataset, op: 'update', count: 300 });
          const before = { out: await digest(out), snap: await digest(snap), state: await digest(stateFile(home, source)) };
          // Tongji's pages are fixed (--page-size there only warns): the sandbox's page size applies.
          const pageSize = source.startsWith('ecnu') ? ['--page-size', '20'] : [];
          const child = idsync(['pull', source, '--since', 'last', '-o', out, '--snapshot', snap, ...pageSize], env);
          const ended = exited(child);
          if (phase === 'paging') {
            const spool = path.join(home, 'work', source, 'spool.ndjson');
            expect(
              await whenFolder(home, () =>
                fs.stat(spool).then(
                  (st) => st.size > 0,
                  () => false,
                ),
              ),
            ).toBe(true);
            child.kill(signal);
          } else {
            // Frozen the moment its temp file shows, then signalled: it wakes inside the write.
            const seen = await Promise.race([whenFolder(dir, async () => (await tempFilesIn(dir)).length > 0), ended.then(() => false)]);
            if (seen) child.kill('SIGSTOP');
            child.kill(signal);
            child.kill('SIGCONT');
          }
          const r = await child;
          if (r.exitCode === 0) {
            expect(phase, 'a paging run cannot finish before its spool has a record').toBe('writing');
            await expectSnapshotIsTruth(sb, snap, dataset);
            expect(await digest(stateFile(home, source))).not.toBe(before.state);
            expect(await tempFilesIn(dir)).toEqual([]);
            continue;
          }
          interrupted = true;
          expect(r.exitCode).toBe(code);
          expect(lines(r.stderr)).toEqual([`idsync: interrupted by ${signal}; previous outputs and state left as they were`]);
          expect({ out: await digest(out), snap: await digest(snap), state: await digest(stateFile(home, source)) }).toEqual(before);
          expect(await tempFilesIn(dir)).toEqual([]);
          expect((await fs.readdir(path.join(home, 'locks'))).filter((n) => n.endsWith('.lock'))).toEqual([]);
        }
        expect(interrupted, 'no attempt was interrupted').toBe(true);
      } finally {
        await sb.close();
        await fs.rm(home, { recursive: true, force: true });
      }
    },
  );
});

it('an interrupted cursor pull whose spool was damaged on disk: the next run starts over and converges', async () => {
  const sb = await startSandbox({ port: 0, seed: 42, latencyMs: 40, people: { 'tongji-students': 1200 }, tongjiPageSize: 50 });
  const home = await tempDir();
  try {
    const env = sandboxEnv(sb, home);
    const snap = path.join(home, 'snap.ndjson');
    const child = idsync(['pull', 'tongji-students', '--snapshot', snap], env);
    const checkpoint = path.join(home, 'work', 'tongji-students', 'checkpoint.json');
    expect(
      await whenFolder(home, () =>
        fs.access(checkpoint).then(
          () => true,
          () => false,
        ),
      ),
    ).toBe(true);
    child.kill('SIGKILL');
    await child;
    // Garbage where the first records were, within the length the checkpoint vouches for.
    const spool = path.join(home, 'work', 'tongji-students', 'spool.ndjson');
    const fh = await fs.open(spool, 'r+');
    await fh.write('#####', 0);
    await fh.close();
    const r = await idsync(['pull', 'tongji-students', '--since', 'last', '--snapshot', snap], env);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toMatch(/cannot resume the interrupted pull of tongji-students .*; starting over/);
    expect(String(r.stderr)).toMatch(/tongji-students: full pull, 1200 records/);
    await expectSnapshotIsTruth(sb, snap, 'tongji-students');
  } finally {
    await sb.close();
    await fs.rm(home, { recursive: true, force: true });
  }
});
