import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { sortByKey } from '../../src/sinks/external-sort.js';
import { idsyncUmask022, modeOf } from './files-support.js';
import { sandboxEnv, tempDir } from '../support/env.js';

// #11.6: files holding names and ID numbers came out 0644 under umask 022. CLI.md: created
// 0600 (a created photo folder 0700), an existing file keeps its mode.

let sandbox: Sandbox;
let home: string;
let env: Record<string, string>;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 12, people: { 'ecnu-staff': 30, 'ecnu-users': 10 } });
  home = await tempDir('idsync-files-modes-');
  env = sandboxEnv(sandbox, home);
});
afterAll(async () => {
  await sandbox.close();
  await fsp.rm(home, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  const dir = path.join(home, name);
  await fsp.mkdir(dir);
  await fsp.chmod(dir, 0o755);
  return dir;
}

async function pull(args: string[]): Promise<void> {
  const r = await idsyncUmask022(['pull', 'ecnu-staff', ...args], env);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  expect(r.exitCode).toBe(0);
}

describe('pull under umask 022', () => {
  it('creates -o NDJSON, CSV and XLSX files, NDJSON and SQLite snapshots and a changes file 0600', async () => {
    const dir = await freshDir('new');
    for (const name of ['out.ndjson', 'out.csv', 'out.xlsx']) await pull(['-o', path.join(dir, name)]);
    const job = ['--snapshot', path.join(dir, 'snap.ndjson'), '--changes', path.join(dir, 'changes.ndjson')];
    await pull(job);
    await pull(['--since', 'last', ...job]); // an incremental merge
    await pull(['--snapshot', path.join(dir, 'snap.sqlite')]);
    const names = ['changes.ndjson', 'out.csv', 'out.ndjson', 'out.xlsx', 'snap.ndjson', 'snap.sqlite'];
    for (const name of names) expect([name, modeOf(path.join(dir, name))]).toEqual([name, 0o600]);
    // SQLite's own -wal/-shm, while they exist, carry the database's mode (SQLite copies it).
    expect((await fsp.readdir(dir)).filter((n) => !/-(wal|shm)$/.test(n)).sort()).toEqual(names);
  });

  it('an existing output keeps its own mode, also when the spool is copied (NDJSON)', async () => {
    const dir = await freshDir('existing');
    for (const [name, mode] of [
      ['out.ndjson', 0o644],
      ['out.csv', 0o640],
      ['snap.ndjson', 0o604],
    ] as const) {
      const file = path.join(dir, name);
      await fsp.writeFile(file, '');
      await fsp.chmod(file, mode);
      await pull(name.startsWith('snap') ? ['--snapshot', file] : ['-o', file]);
      expect([name, modeOf(file)]).toEqual([name, mode]);
      expect(fs.statSync(file).size).toBeGreaterThan(0);
    }
  });

  it('the run files of a snapshot’s external sort are 0600 while they exist', async () => {
    const dir = await freshDir('runs');
    const spool = path.join(dir, 'spool');
    await fsp.writeFile(spool, ['b', 'a', 'd', 'c'].map((k) => `{"k":"${k}"}\n`).join(''), { mode: 0o600 });
    const saved = process.umask(0o022);
    try {
      const nextTo = path.join(dir, 'snap.ndjson');
      const runs = await sortByKey(spool, (line) => ({ key: String(JSON.parse(line.toString()).k), deleted: false }), {
        chunkLines: 1,
        chunkBytes: 1 << 20,
        nextTo,
      });
      const runFiles = (await fsp.readdir(dir)).filter((n) => /\.run\d+$/.test(n));
      expect(runFiles.length).toBe(4);
      for (const n of runFiles) expect(modeOf(path.join(dir, n))).toBe(0o600);
      await runs.dispose();
    } finally {
      process.umask(saved);
    }
  });
});

describe('photo under umask 022', () => {
  it('creates the folder 0700 and each photo 0600; --force keeps a replaced photo’s mode', async () => {
    const ids = sandbox
      .truth('ecnu-users')
      .slice(0, 2)
      .map((r) => String(r['userId']));
    const dir = path.join(home, 'photos', 'new');
    const r = await idsyncUmask022(['photo', ...ids, '--provider', 'ecnu', '--out-dir', dir], env);
    expect(r.exitCode).toBe(0);
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(path.dirname(dir))).toBe(0o700); // every folder it had to create
    for (const id of ids) expect(modeOf(path.join(dir, `${id}.jpg`))).toBe(0o600);

    const shared = await freshDir('shared-photos');
    await fsp.writeFile(path.join(shared, `${ids[0]}.jpg`), 'old');
    await fsp.chmod(path.join(shared, `${ids[0]}.jpg`), 0o644);
    const forced = await idsyncUmask022(['photo', ...ids, '--provider', 'ecnu', '--out-dir', shared, '--force'], env);
    expect(forced.exitCode).toBe(0);
    expect(modeOf(shared)).toBe(0o755); // an existing folder keeps its mode
    expect(modeOf(path.join(shared, `${ids[0]}.jpg`))).toBe(0o644);
    expect(modeOf(path.join(shared, `${ids[1]}.jpg`))).toBe(0o600);
    expect(fs.readFileSync(path.join(shared, `${ids[0]}.jpg`)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });
});
