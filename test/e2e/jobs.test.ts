import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type DatasetId, type Sandbox } from '../../src/sandbox/index.js';
import { idsync, repoRoot } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { byKey, readNdjson } from '../support/ndjson.js';

/** Issue 10: a job (source, params, snapshot) owns its state; every other run is a one-off. */

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 11 });
});
afterAll(async () => {
  await sandbox.close();
});

async function setup() {
  const home = await tempDir();
  return { home, env: sandboxEnv(sandbox, home), file: (name: string) => path.join(home, name) };
}

async function readState(home: string, source: string): Promise<string | undefined> {
  return fs.readFile(path.join(home, 'state', `${source}.json`), 'utf8').catch(() => undefined);
}

function expectTruth(rows: Record<string, unknown>[], dataset: DatasetId): void {
  const key = sandbox.keyField(dataset);
  const truth = sandbox.truth(dataset);
  const got = byKey(rows, key);
  expect(rows.length).toBe(truth.length);
  for (const t of truth) expect(got.get(String(t[key]))).toEqual(t);
}

const incremental = /ecnu-postdocs: incremental pull/;

describe('jobs and one-offs', () => {
  it('a one-off next to a cron job leaves the job alone: its next run stays incremental', async () => {
    const { home, env, file } = await setup();
    const snap = file('pd.ndjson');
    expect((await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', snap], env)).exitCode).toBe(0);
    const state = await readState(home, 'ecnu-postdocs');
    for (const oneOff of [['-o', '-'], ['-o', file('x.csv')], ['--since', '2020-01-01', '-o', '-'], []]) {
      const r = await idsync(['pull', 'ecnu-postdocs', ...oneOff], env);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stderr)).toMatch(/one-off: no state saved/);
      expect(await readState(home, 'ecnu-postdocs')).toBe(state);
    }
    sandbox.mutate({ dataset: 'ecnu-postdocs', op: 'update', count: 2 });
    const next = await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', snap], env);
    expect(String(next.stderr)).toMatch(incremental);
    expect(String(next.stderr)).not.toMatch(/doing a full pull/);
    expectTruth(await readNdjson(snap), 'ecnu-postdocs');
  });

  it('with neither -o nor --snapshot, --format applies to stdout', async () => {
    const { env } = await setup();
    const r = await idsync(['pull', 'ecnu-postdocs', '--format', 'csv'], env);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const ndjson = await idsync(['pull', 'ecnu-postdocs'], env);
    const records = String(ndjson.stdout).trim().split('\n').length;
    const lines = String(r.stdout).split(/\r?\n/).filter(Boolean);
    expect(lines).toHaveLength(records + 1); // and the header
    expect(lines[0]).toMatch(/^\uFEFF.*userId/);
    const withSnapshot = await idsync(['pull', 'ecnu-postdocs', '--format', 'csv', '--snapshot', 'x.ndjson'], env);
    expect(withSnapshot.exitCode).toBe(2);
    expect(String(withSnapshot.stderr)).toMatch(/--format applies to --out/);
  });

  it('with neither -o nor --snapshot, records go to stdout as NDJSON', async () => {
    const { home, env } = await setup();
    const r = await idsync(['pull', 'ecnu-postdocs'], env);
    expect(r.exitCode).toBe(0);
    expectTruth(
      String(r.stdout)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
      'ecnu-postdocs',
    );
    expect(await readState(home, 'ecnu-postdocs')).toBeUndefined();
  });

  it.each([
    [['--snapshot', 'snap.xlsx'], /--snapshot snap\.xlsx: name an NDJSON file/],
    [['--snapshot', 'snap.csv'], /name an NDJSON file/],
    [['--changes', 'c.ndjson'], /--changes needs --snapshot/],
    [['--param', 'deptCode=A', '--param', 'deptCode=B'], /deptCode is given twice/],
    [['-o', ''], /'-o, --out <file>' argument '' is invalid. expected a name/],
    [['--snapshot', ' '], /'--snapshot <target>' argument ' ' is invalid/],
    [['--snapshot', 's.ndjson', '--changes', 's.ndjson'], /--changes must be a file of its own/],
  ])('refuses %j before any request (exit 2), writing nothing', async (args, message) => {
    const { home, env } = await setup();
    const requests = sandbox.stats().requests;
    const r = await idsync(['pull', 'ecnu-postdocs', ...args], env, { cwd: home });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(message);
    expect(String(r.stderr).trim().split('\n')).toHaveLength(1);
    expect(sandbox.stats().requests).toBe(requests);
    expect(await fs.readdir(home)).toEqual([]);
  });

  it("refuses a --since <time> run into a job's snapshot; allows it into another", async () => {
    const { home, env, file } = await setup();
    const snap = file('s.ndjson');
    expect((await idsync(['pull', 'ecnu-postdocs', '--snapshot', snap], env)).exitCode).toBe(0);
    const before = await fs.readFile(snap);
    const state = await readState(home, 'ecnu-postdocs');
    const r = await idsync(['pull', 'ecnu-postdocs', '--since', '2024-01-01', '--snapshot', snap], env);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/snapshot of a job/);
    expect(await fs.readFile(snap)).toEqual(before);
    expect(await readState(home, 'ecnu-postdocs')).toBe(state);
    const other = await idsync(['pull', 'ecnu-postdocs', '--since', '2024-01-01', '--snapshot', file('other.ndjson')], env);
    expect(other.exitCode).toBe(0);
    expect(await readState(home, 'ecnu-postdocs')).toBe(state);
  });

  it('a job that fed a change file refuses a run without --changes', async () => {
    const { home, env, file } = await setup();
    const snap = file('s.sqlite');
    const first = await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', snap, '--changes', file('c1.ndjson')], env);
    expect(first.exitCode, String(first.stderr)).toBe(0);
    const state = await readState(home, 'ecnu-postdocs');
    for (const since of ['last', '0']) {
      const r = await idsync(['pull', 'ecnu-postdocs', '--since', since, '--snapshot', snap], env);
      expect(r.exitCode).toBe(2);
      expect(String(r.stderr)).toMatch(/has fed a change file; add --changes FILE/);
      // The way out it names ends this job only, not every job of the source.
      expect(String(r.stderr)).toContain(`(or start the job over: idsync state reset ecnu-postdocs --snapshot ${snap})`);
    }
    expect(await readState(home, 'ecnu-postdocs')).toBe(state);
  });

  it("refuses a run into a job's snapshot under another name or with other --param values", async () => {
    const { home, env, file } = await setup();
    const dir = file('data');
    await fs.mkdir(dir);
    const snap = path.join(dir, 's.sqlite');
    const first = await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', snap, '--changes', file('c1.ndjson')], env);
    expect(first.exitCode, String(first.stderr)).toBe(0);
    await fs.symlink(dir, file('via-link'));
    await fs.link(snap, file('hard.sqlite'));
    const before = await fs.readFile(snap);
    const state = await readState(home, 'ecnu-postdocs');
    const requests = sandbox.stats().requests;
    for (const args of [
      ['--since', '2024-01-01', '--snapshot', path.join(file('via-link'), 's.sqlite')],
      ['--since', 'last', '--snapshot', file('hard.sqlite'), '--changes', file('c2.ndjson')],
      ['--since', 'last', '--snapshot', snap, '--param', 'deptCode=X', '--changes', file('c3.ndjson')],
    ]) {
      const r = await idsync(['pull', 'ecnu-postdocs', ...args], env);
      expect(r.exitCode, String(r.stderr)).toBe(2);
      const errors = String(r.stderr)
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('idsync: warning:'));
      expect(errors, String(r.stderr)).toHaveLength(1);
      expect(String(r.stderr)).toContain(`is the snapshot of another job of ecnu-postdocs (--snapshot ${snap})`);
      expect(String(r.stderr)).toContain(`idsync state reset ecnu-postdocs --snapshot ${snap}`);
    }
    expect(sandbox.stats().requests).toBe(requests);
    expect(await fs.readFile(snap)).toEqual(before);
    expect(await readState(home, 'ecnu-postdocs')).toBe(state);
    // A copy is a snapshot of its own: a job may start from it.
    await fs.copyFile(snap, file('copy.sqlite'));
    const copy = await idsync(
      ['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', file('copy.sqlite'), '--changes', file('c4.ndjson')],
      env,
    );
    expect(copy.exitCode, String(copy.stderr)).toBe(0);
  });

  it('a snapshot with a table of changes refuses a run without --changes, from any IDSYNC_HOME', async () => {
    const { env, file } = await setup();
    const snap = file('s.sqlite');
    const first = await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', snap, '--changes', file('c1.ndjson')], env);
    expect(first.exitCode, String(first.stderr)).toBe(0);
    const before = await fs.readFile(snap);
    // Another host's or user's home: no state of this job, but the same database.
    const other = await tempDir();
    const elsewhere = { ...env, HOME: other, IDSYNC_HOME: other };
    const requests = sandbox.stats().requests;
    for (const since of ['last', '2024-01-01']) {
      const r = await idsync(['pull', 'ecnu-postdocs', '--since', since, '--snapshot', snap], elsewhere);
      expect(r.exitCode, String(r.stderr)).toBe(2);
      expect(String(r.stderr)).toContain('keeps a table of changes (ecnu_postdocs_changes) fed by runs with --changes');
    }
    expect(sandbox.stats().requests).toBe(requests);
    expect(await fs.readFile(snap)).toEqual(before);
    const fed = await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', snap, '--changes', file('c2.ndjson')], elsewhere);
    expect(fed.exitCode, String(fed.stderr)).toBe(0);
  });

  it('a one-off with no snapshot neither waits for a running job nor reads its state', async () => {
    const { home, env, file } = await setup();
    const snap = file('s.ndjson');
    expect((await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', snap], env)).exitCode).toBe(0);
    // The job's run in progress, as its lock shows it (this test's process is alive).
    const lock = path.join(home, 'locks', 'ecnu-postdocs.lock');
    await fs.writeFile(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() }));
    await fs.writeFile(path.join(home, 'state', 'ecnu-postdocs.json'), '{ torn');
    for (const oneOff of [
      ['-o', '-'],
      ['--since', '2020-01-01', '-o', file('x.ndjson')],
    ]) {
      const r = await idsync(['pull', 'ecnu-postdocs', ...oneOff], env);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stderr)).toMatch(/one-off: no state saved/);
    }
    for (const jobRun of [
      ['--since', 'last', '--snapshot', snap],
      ['--since', 'last', '-o', '-'],
    ]) {
      const r = await idsync(['pull', 'ecnu-postdocs', ...jobRun], env);
      expect(r.exitCode, String(r.stderr)).not.toBe(0);
    }
    await fs.rm(lock);
  });

  it('two cron jobs on one source with different snapshots both stay incremental', async () => {
    const { env, file } = await setup();
    const [a, b] = [file('a.ndjson'), file('b.sqlite')];
    for (const s of [a, b]) expect((await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', s], env)).exitCode).toBe(0);
    for (let round = 0; round < 2; round++) {
      sandbox.mutate({ dataset: 'ecnu-postdocs', op: 'update', count: 1 });
      for (const s of [a, b]) {
        const r = await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', s], env);
        expect(String(r.stderr)).toMatch(incremental);
      }
    }
    expectTruth(await readNdjson(a), 'ecnu-postdocs');
  });

  it('says why a --since last run is a full pull, even with --quiet', async () => {
    const { env, file } = await setup();
    const snap = file('s.ndjson');
    const run = () => idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', snap, '--quiet'], env);
    const first = await run();
    expect(String(first.stderr)).toBe('idsync: ecnu-postdocs: no saved state for this job yet: doing a full pull');
    expect(String((await run()).stderr)).toBe('');
    // Replaced: same content, another file.
    await fs.copyFile(snap, `${snap}.copy`);
    await fs.rename(`${snap}.copy`, snap);
    expect(String((await run()).stderr)).toMatch(
      /^idsync: ecnu-postdocs: snapshot .*s\.ndjson is not the one this job last wrote .*: doing a full pull$/,
    );
    await fs.rm(snap);
    expect(String((await run()).stderr)).toMatch(/^idsync: ecnu-postdocs: snapshot .*s\.ndjson is missing: doing a full pull$/);
    expectTruth(await readNdjson(snap), 'ecnu-postdocs');
  });

  it('state show lists each job with its snapshot; state reset can name one job', async () => {
    const { env, file } = await setup();
    const [a, b] = [file('a.ndjson'), file('b.ndjson')];
    for (const s of [a, b]) await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', s], env);
    const show = async () => JSON.parse(String((await idsync(['state', 'show', '--json'], env)).stdout)) as { snapshot: string }[];
    expect((await show()).map((j) => j.snapshot).sort()).toEqual([a, b]);
    const table = String((await idsync(['state', 'show'], env)).stdout);
    expect(table).toContain(a);
    const both = await idsync(['state', 'reset', 'ecnu-postdocs', '--snapshot', a, '--no-snapshot'], env);
    expect(both.exitCode).toBe(2);
    expect(String(both.stderr)).toMatch(/--snapshot and --no-snapshot name different jobs/);
    expect((await show()).map((j) => j.snapshot).sort()).toEqual([a, b]);
    const reset = await idsync(['state', 'reset', 'ecnu-postdocs', '--snapshot', a], env);
    expect(reset.exitCode).toBe(0);
    expect(String(reset.stderr)).toContain(`ecnu-postdocs: job state reset (--snapshot ${a})`);
    expect((await show()).map((j) => j.snapshot)).toEqual([b]);
    const again = await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', a, '-q'], env);
    expect(String(again.stderr)).toMatch(/no saved state for this job/);
  });

  it("state reset SOURCE clears that source's job folders, not those of a source whose name extends it", async () => {
    const { home, env, file } = await setup();
    expect((await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', file('a.ndjson')], env)).exitCode).toBe(0);
    const jobs = path.join(home, 'jobs');
    const own = await fs.readdir(jobs);
    expect(own).toHaveLength(1);
    // A custom source named ecnu-postdocs-cs keeps its journal and undelivered events here.
    const other = path.join(jobs, 'ecnu-postdocs-cs-0123456789abcdef');
    await fs.mkdir(other);
    await fs.writeFile(path.join(other, 'journal.json'), '{}');
    expect((await idsync(['state', 'reset', 'ecnu-postdocs'], env)).exitCode).toBe(0);
    expect(await fs.readdir(jobs)).toEqual(['ecnu-postdocs-cs-0123456789abcdef']);
  });
});

describe('upgrade from state version 1', () => {
  // Written by idsync 0.1.0 (commit 14fffd0) against the sandbox: fixtures/state-v1/.
  const fixtures = path.join(repoRoot, 'fixtures', 'state-v1');
  const oldSnapshot = '/tmp/oldrun/staff.ndjson';

  it('each old entry becomes the job of the snapshot it recorded, and stays incremental', async () => {
    const { home, env, file } = await setup();
    const snap = file('staff.ndjson');
    // The snapshot and a watermark that fit this sandbox: a full pull with the current version.
    expect((await idsync(['pull', 'ecnu-staff', '--snapshot', snap], env)).exitCode).toBe(0);
    const watermark = (JSON.parse((await readState(home, 'ecnu-staff'))!) as { jobs: Record<string, { watermark: number }> }).jobs;
    const mark = Object.values(watermark)[0]!.watermark;
    const old = JSON.parse(await fs.readFile(path.join(fixtures, 'ecnu-staff.json'), 'utf8')) as {
      version: number;
      entries: Record<string, { snapshot: string; watermark: number }>;
    };
    expect(old.version).toBe(1);
    expect(old.entries['']!.snapshot).toBe(oldSnapshot);
    old.entries['']!.snapshot = snap;
    old.entries['']!.watermark = mark;
    await fs.writeFile(path.join(home, 'state', 'ecnu-staff.json'), JSON.stringify(old, null, 2));

    const shown = JSON.parse(String((await idsync(['state', 'show', '--json'], env)).stdout)) as { source: string; snapshot: string }[];
    expect(shown).toEqual([expect.objectContaining({ source: 'ecnu-staff', snapshot: snap })]);
    sandbox.mutate({ dataset: 'ecnu-staff', op: 'depart', count: 1 });
    const r = await idsync(['pull', 'ecnu-staff', '--since', 'last', '--snapshot', snap], env);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toMatch(/ecnu-staff: incremental pull/);
    expectTruth(await readNdjson(snap), 'ecnu-staff');
    expect(JSON.parse((await readState(home, 'ecnu-staff'))!)).toMatchObject({ version: 2 });
  });

  it('an old entry without a snapshot becomes the job with none', async () => {
    const { home, env, file } = await setup();
    await fs.mkdir(path.join(home, 'state'), { recursive: true });
    await fs.copyFile(path.join(fixtures, 'ecnu-students.json'), path.join(home, 'state', 'ecnu-students.json'));
    const r = await idsync(['pull', 'ecnu-students', '--param', 'type=本科生', '--since', 'last', '-o', file('s.ndjson')], env);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toMatch(/ecnu-students: incremental pull/);
  });
});
