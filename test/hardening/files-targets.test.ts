import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { idsyncUmask022, isRoot, makeFifo, makeNullDevice, otherUid } from './files-support.js';
import { binPath } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';

// #11.1: `-o /dev/null` as root replaced the device with a regular file. Device nodes here are
// made by the test in its own folder (mknod 1:3, as root); the real /dev/null is never used.

let sandbox: Sandbox;
let home: string;
let env: Record<string, string>;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 11, people: { 'ecnu-staff': 40 } });
  home = await tempDir('idsync-files-targets-');
  env = sandboxEnv(sandbox, home);
});
afterAll(async () => {
  await sandbox.close();
  await fsp.rm(home, { recursive: true, force: true });
});

const staffCount = (): number => sandbox.truth('ecnu-staff').length;

async function freshDir(name: string): Promise<string> {
  const dir = path.join(home, name);
  await fsp.mkdir(dir);
  return dir;
}

describe.skipIf(!isRoot)('pull -o into a character device', () => {
  it.each(['ndjson', 'csv', 'xlsx'])('%s: the run succeeds and the node is still the same device', async (format) => {
    const dir = await freshDir(`dev-${format}`);
    const node = path.join(dir, 'null');
    const before = makeNullDevice(node);
    const r = await idsyncUmask022(['pull', 'ecnu-staff', '-o', node, '--format', format], env);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(r.exitCode).toBe(0);
    const after = fs.lstatSync(node);
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.rdev).toBe(before.rdev);
    expect(after.mode).toBe(before.mode);
    expect(await fsp.readdir(dir)).toEqual(['null']); // no temp file left beside it
  });
});

describe('pull -o into a FIFO and a /dev/stdout-style link', () => {
  it('a FIFO receives every record and stays a FIFO', async () => {
    const dir = await freshDir('fifo');
    const fifo = path.join(dir, 'pipe');
    makeFifo(fifo);
    const reader = execa('cat', [fifo], { reject: false, stdin: 'ignore' });
    try {
      const r = await idsyncUmask022(['pull', 'ecnu-staff', '-o', fifo], env);
      expect(r.exitCode).toBe(0);
      expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
      const lines = (await reader).stdout.split('\n').filter(Boolean);
      expect(lines.length).toBe(staffCount());
      expect(await fsp.readdir(dir)).toEqual(['pipe']);
    } finally {
      reader.kill();
    }
  });

  it('a link to /proc/self/fd/1 (what /dev/stdout is) writes to standard output and stays a link', async () => {
    const dir = await freshDir('stdout-link');
    const link = path.join(dir, 'stdout');
    fs.symlinkSync('/proc/self/fd/1', link);
    // Through `| cat`: a child's stdout under execa is a socket, which open(2) refuses (ENXIO)
    // as it does for any shell's `> /dev/stdout`; cron and shells give a pipe or a file.
    const r = await execa(
      '/bin/sh',
      ['-c', 'umask 022; "$@" | cat', 'sh', process.execPath, binPath, 'pull', 'ecnu-staff', '-o', link, '--format', 'csv'],
      {
        env,
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
      },
    );
    expect(r.stderr).toMatch(/ecnu-staff: full pull/);
    expect(r.stdout.split('\r\n').filter(Boolean).length).toBe(staffCount() + 1); // header + records
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(await fsp.readdir(dir)).toEqual(['stdout']);
  });
});

describe('pull -o /dev/stdout', () => {
  it('is standard output itself (as -o -), even when that is a socket', async () => {
    // execa gives the child a socket as stdout: opening /dev/stdout again would fail (ENXIO).
    const r = await idsyncUmask022(['pull', 'ecnu-staff', '-o', '/dev/stdout'], env);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).length).toBe(staffCount());
    expect(r.stderr).not.toMatch(/ecnu-staff.*\{/); // records on stdout only
  });
});

describe('a --snapshot target that must not receive personal data is refused before any request', () => {
  async function expectRefused(snapshot: string, reason: RegExp): Promise<void> {
    const before = sandbox.stats().requests;
    const r = await idsyncUmask022(['pull', 'ecnu-staff', '--snapshot', snapshot], env);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(sandbox.stats().requests).toBe(before);
  }

  it.skipIf(!isRoot)('a character device', async () => {
    const node = path.join(await freshDir('snap-dev'), 'snap.ndjson');
    makeNullDevice(node);
    await expectRefused(node, /^idsync: refusing to write snapshot .*snap\.ndjson: it is a character device, not a regular file$/m);
    expect(fs.lstatSync(node).isCharacterDevice()).toBe(true);
  });

  it('a FIFO', async () => {
    const fifo = path.join(await freshDir('snap-fifo'), 'snap.ndjson');
    makeFifo(fifo);
    await expectRefused(fifo, /it is a FIFO \(named pipe\), not a regular file/);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a symbolic link, even to a regular file', async () => {
    const dir = await freshDir('snap-link');
    await fsp.writeFile(path.join(dir, 'real.ndjson'), '');
    fs.symlinkSync(path.join(dir, 'real.ndjson'), path.join(dir, 'snap.ndjson'));
    await expectRefused(path.join(dir, 'snap.ndjson'), /it is a symbolic link, not a regular file/);
  });

  it.skipIf(!isRoot)('a file another user planted (0666, owned by them)', async () => {
    const file = path.join(await freshDir('snap-foreign'), 'snap.ndjson');
    await fsp.writeFile(file, '');
    await fsp.chmod(file, 0o666);
    await fsp.chown(file, otherUid, otherUid);
    await expectRefused(file, new RegExp(`it belongs to another user \\(uid ${otherUid}\\)`));
    expect(await fsp.readFile(file, 'utf8')).toBe('');
  });

  it.skipIf(!isRoot)('an SQLite snapshot whose -wal another user planted', async () => {
    const dir = await freshDir('snap-wal');
    const db = path.join(dir, 'snap.sqlite');
    await fsp.writeFile(`${db}-wal`, '');
    await fsp.chown(`${db}-wal`, otherUid, otherUid);
    await expectRefused(db, /refusing to write snapshot .*snap\.sqlite: .*snap\.sqlite-wal: it belongs to another user/);
    expect(await fsp.readdir(dir)).toEqual(['snap.sqlite-wal']);
  });

  it('an SQLite snapshot whose -shm is a symbolic link', async () => {
    const dir = await freshDir('snap-shm');
    const db = path.join(dir, 'snap.db');
    fs.symlinkSync(path.join(dir, 'elsewhere'), `${db}-shm`);
    await expectRefused(db, /snap\.db-shm: it is a symbolic link/);
  });

  it('a --changes file that is a FIFO or a link', async () => {
    const dir = await freshDir('changes-targets');
    const fifo = path.join(dir, 'changes.ndjson');
    makeFifo(fifo);
    const before = sandbox.stats().requests;
    const r = await idsyncUmask022(['pull', 'ecnu-staff', '--snapshot', path.join(dir, 'snap.ndjson'), '--changes', fifo], env);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /^idsync: refusing to write changes file .*changes\.ndjson: it is a FIFO \(named pipe\), not a regular file$/m,
    );
    expect(sandbox.stats().requests).toBe(before);
    const link = path.join(dir, 'link.ndjson');
    fs.symlinkSync(path.join(dir, 'elsewhere'), link);
    const l = await idsyncUmask022(['pull', 'ecnu-staff', '--snapshot', path.join(dir, 'snap.ndjson'), '--changes', link], env);
    expect(l.exitCode).toBe(2);
    expect(l.stderr).toMatch(/it is a symbolic link/);
    expect((await fsp.readdir(dir)).sort()).toEqual(['changes.ndjson', 'link.ndjson']);
  });

  it('a regular snapshot of our own is written, 0600', async () => {
    const file = path.join(await freshDir('snap-ok'), 'snap.ndjson');
    const r = await idsyncUmask022(['pull', 'ecnu-staff', '--snapshot', file], env);
    expect(r.exitCode).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
