import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { binPath, idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { lines } from '../support/ndjson.js';
import { digest, expectSnapshotIsTruth, stateFile, tempFilesIn } from '../support/snapshot-checks.js';
import { whenFolder } from '../support/wait.js';

/**
 * Issue 5, item 7: an output that cannot be written - a folder that is a file or missing (found
 * before any request), one that disappears mid-run, a full disk. One line, a non-zero exit,
 * nothing half-written, the previous files and the state as they were. Tests run as root, so
 * permission bits would not stop a write; these failures do.
 */

let sandbox: Sandbox;
let home: string;
let env: Record<string, string>;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 91, latencyMs: 15 });
  home = await tempDir();
  env = sandboxEnv(sandbox, home);
});
afterAll(async () => {
  await sandbox.close();
  await fs.rm(home, { recursive: true, force: true });
});

/** A fresh folder holding the result of one good run, and what it looked like. */
async function previousRun(source = 'ecnu-postdocs') {
  const dir = await fs.mkdtemp(path.join(home, 'run-'));
  const out = path.join(dir, 'out.ndjson');
  const snap = path.join(dir, 'snap.ndjson');
  const r = await idsync(['pull', source, '-o', out, '--snapshot', snap], env);
  expect(r.exitCode, String(r.stderr)).toBe(0);
  sandbox.mutate({ dataset: source as 'ecnu-postdocs', op: 'update', count: 3 });
  const before = async () => ({ out: await digest(out), snap: await digest(snap), state: await digest(stateFile(home, source)) });
  return { dir, out, snap, before: await before(), now: before };
}

function expectOneLine(stderr: unknown, pattern: RegExp): void {
  const got = lines(stderr);
  expect(got).toHaveLength(1);
  expect(got[0]).toMatch(pattern);
  expect(String(stderr)).not.toMatch(/\n\s+at /);
}

describe('outputs that cannot be written, found before any request', () => {
  it('the output folder is a regular file', async () => {
    const prev = await previousRun();
    await fs.writeFile(path.join(prev.dir, 'plain-file'), 'x');
    const requests = sandbox.stats().requests;
    const target = path.join(prev.dir, 'plain-file', 'out.ndjson');
    const r = await idsync(['pull', 'ecnu-postdocs', '--since', 'last', '-o', target, '--snapshot', prev.snap], env);
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, /^idsync: cannot write output .*plain-file\/out\.ndjson: .*plain-file is not a folder$/);
    expect(sandbox.stats().requests).toBe(requests);
    expect(await prev.now()).toEqual(prev.before);
    expect(await tempFilesIn(prev.dir)).toEqual([]);
  });

  it('the snapshot folder does not exist', async () => {
    const prev = await previousRun();
    const requests = sandbox.stats().requests;
    const r = await idsync(
      ['pull', 'ecnu-postdocs', '--since', 'last', '-o', prev.out, '--snapshot', path.join(prev.dir, 'nope', 's.ndjson')],
      env,
    );
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, /^idsync: cannot write snapshot .*nope\/s\.ndjson: folder .*nope does not exist$/);
    expect(sandbox.stats().requests).toBe(requests);
    expect(await prev.now()).toEqual(prev.before);
  });
});

describe('outputs that become unwritable during the run', () => {
  async function midRun(breakIt: (dir: string) => Promise<void>, pattern: RegExp) {
    const prev = await previousRun('ecnu-users');
    // The snapshot lives elsewhere and must stay as it was; the output's folder breaks mid-run.
    const outDir = path.join(prev.dir, 'exports');
    await fs.mkdir(outDir);
    const out = path.join(outDir, 'users.csv');
    // Enough pages, each held back a little by the sandbox, that the run is still paging when
    // the folder breaks: the break lands between pages, not after a run that already finished.
    sandbox.mutate({ dataset: 'ecnu-users', op: 'update', count: 40 });
    sandbox.setFaults({ stall: 1, stallMs: 100 });
    const child = idsync(
      ['pull', 'ecnu-users', '--since', 'last', '-o', out, '--snapshot', prev.snap, '--page-size', '5', '--concurrency', '1'],
      env,
    );
    const spool = path.join(home, 'work', 'ecnu-users', 'spool.ndjson');
    expect(
      await whenFolder(home, () =>
        fs.stat(spool).then(
          (s) => s.size > 0,
          () => false,
        ),
      ),
    ).toBe(true);
    await breakIt(outDir);
    const r = await child;
    sandbox.setFaults({});
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, pattern);
    expect({ ...(await prev.now()), out: prev.before.out }).toEqual(prev.before);
    expect(await tempFilesIn(prev.dir)).toEqual([]);
    // The next run, once the folder is back, converges.
    await fs.rm(outDir, { recursive: true, force: true });
    await fs.mkdir(outDir);
    const again = await idsync(['pull', 'ecnu-users', '--since', 'last', '-o', out, '--snapshot', prev.snap], env);
    expect(again.exitCode, String(again.stderr)).toBe(0);
    await expectSnapshotIsTruth(sandbox, prev.snap, 'ecnu-users');
  }

  it('its folder is removed', async () => {
    await midRun((dir) => fs.rm(dir, { recursive: true }), /^idsync: cannot write .*exports\/users\.csv: folder .*exports does not exist$/);
  });

  it('its folder is replaced by a file', async () => {
    await midRun(async (dir) => {
      await fs.rm(dir, { recursive: true });
      await fs.writeFile(dir, 'not a folder');
    }, /^idsync: cannot write .*exports\/users\.csv: (a parent of it is not a folder|folder .*exports does not exist)$/);
  });
});

describe('a full disk', () => {
  /** A snapshot that fits once but not twice (the new one is written beside the old). */
  async function fullDiskCase(
    spawnArgs: (args: string[]) => Promise<{ exitCode?: number | undefined; stderr: unknown }>,
    dir: string,
    reason: RegExp,
  ) {
    const snap = path.join(dir, 'users.ndjson');
    const first = await idsync(['pull', 'ecnu-users', '--snapshot', snap], env);
    expect(first.exitCode, String(first.stderr)).toBe(0);
    const before = { snap: await digest(snap), state: await digest(stateFile(home, 'ecnu-users')) };
    sandbox.mutate({ dataset: 'ecnu-users', op: 'update', count: 5 });
    const r = await spawnArgs(['pull', 'ecnu-users', '--since', 'last', '--snapshot', snap]);
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, reason);
    expect({ snap: await digest(snap), state: await digest(stateFile(home, 'ecnu-users')) }).toEqual(before);
    expect(await tempFilesIn(dir)).toEqual([]);
    expect(await fs.readdir(dir)).toEqual(['users.ndjson']);
  }

  let mountPoint: string | undefined;
  beforeAll(async () => {
    // Only where mounting works (root in a container that allows it); skipped elsewhere.
    const dir = await fs.mkdtemp(path.join(home, 'tmpfs-'));
    const m = await execa('mount', ['-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', dir], { reject: false });
    if (m.exitCode === 0) mountPoint = dir;
  });
  afterAll(async () => {
    if (mountPoint) await execa('umount', [mountPoint], { reject: false });
  });

  it('ENOSPC on a small tmpfs: the snapshot fits, its replacement does not', async (ctx) => {
    if (!mountPoint) ctx.skip();
    await fullDiskCase(
      (args) => idsync(args, env),
      mountPoint as string,
      /^idsync: cannot write .*users\.ndjson: no space left on the device$/,
    );
  });

  it('EFBIG under a file-size limit (ulimit -f), which needs no mount', async () => {
    const dir = await fs.mkdtemp(path.join(home, 'limited-'));
    // 64 KiB: the incremental run's spool and the state fit, the 128 KB snapshot does not.
    const limited = (args: string[]) =>
      execa('bash', ['-c', 'ulimit -f 64 && exec "$0" "$@"', process.execPath, binPath, ...args], {
        env,
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
      });
    await fullDiskCase(limited, dir, /^idsync: cannot write .*users\.ndjson: file too large$/);
  });
});
