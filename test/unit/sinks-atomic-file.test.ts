import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unwritableFolder as unwritableFolderIn } from '../support/spool.js';
import { IdsyncError } from '../../src/core/errors.js';
import { AtomicFile, tempPathFor } from '../../src/core/fs/atomic-file.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-atomic-'));
});
afterEach(async () => {
  await fs.chmod(dir, 0o700).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
});

const unwritableFolder = (): Promise<string> => unwritableFolderIn(dir);

describe('AtomicFile', () => {
  it('names its temp file .<name>.<pid>.<random>.tmp next to the destination', () => {
    const t = tempPathFor('/data/out.csv');
    expect(path.dirname(t)).toBe('/data');
    expect(path.basename(t)).toMatch(new RegExp(`^\\.out\\.csv\\.${process.pid}\\.[0-9a-f]{8}\\.tmp$`));
  });

  it('shows nothing until commit, then the whole content', async () => {
    const dest = path.join(dir, 'out.txt');
    const f = await AtomicFile.create(dest);
    await f.write('héllo ');
    await f.writeLine(Buffer.from('世界'));
    await f.write(Buffer.from('x'.repeat(600_000))); // larger than the write buffer
    await f.finish();
    await expect(fs.access(dest)).rejects.toThrow();
    expect((await fs.readdir(dir)).length).toBe(1);
    await f.commit();
    const text = await fs.readFile(dest, 'utf8');
    expect(text).toBe(`héllo 世界\n${'x'.repeat(600_000)}`);
    expect(await fs.readdir(dir)).toEqual(['out.txt']);
  });

  it('abort leaves the previous file byte for byte and removes the temp file', async () => {
    const dest = path.join(dir, 'out.txt');
    await fs.writeFile(dest, 'previous\n');
    const f = await AtomicFile.create(dest);
    await f.write('new content that must never appear\n'.repeat(10_000));
    await f.abort();
    await f.abort(); // twice is harmless
    expect(await fs.readFile(dest, 'utf8')).toBe('previous\n');
    expect(await fs.readdir(dir)).toEqual(['out.txt']);
  });

  it('abort after finish removes the fsynced temp file; abort after commit does nothing', async () => {
    const dest = path.join(dir, 'out.txt');
    const a = await AtomicFile.create(dest);
    await a.write('a');
    await a.finish();
    await a.abort();
    expect(await fs.readdir(dir)).toEqual([]);
    const b = await AtomicFile.create(dest);
    await b.write('b');
    await b.finish();
    await b.commit();
    await b.abort();
    expect(await fs.readFile(dest, 'utf8')).toBe('b');
  });

  it('sweeps temp files that a killed run left, and only those', async () => {
    const dead = 2 ** 22 + 12_345; // above Linux's largest pid: no such process
    const names = [
      `.out.txt.${dead}.deadbeef.tmp`,
      `.out.txt.${dead}.0badf00d.run3`,
      `.out.txt.${dead}.deadbeef.tmp-journal`, // an SQLite temp file's journal
      `.out.txt.${dead}.deadbeef.tmp-wal`,
      `.out.txt.${process.pid}.cafebabe.tmp`, // this process: a live writer
      `.out.txt.${process.pid}.cafebabe.tmp-journal`,
      `.out.txt.1.abcdef01.tmp`, // pid 1 is alive
      `.other.txt.${dead}.deadbeef.tmp`, // another destination
      'out.txt',
    ];
    for (const n of names) await fs.writeFile(path.join(dir, n), 'x');
    const f = await AtomicFile.create(path.join(dir, 'out.txt'));
    await f.abort();
    expect((await fs.readdir(dir)).sort()).toEqual(names.slice(4).sort());
  });

  it('keeps the permissions of the file it replaces', async () => {
    const dest = path.join(dir, 'private.csv');
    await fs.writeFile(dest, 'old', { mode: 0o600 });
    await fs.chmod(dest, 0o600);
    const f = await AtomicFile.create(dest);
    await f.write('new');
    await f.finish();
    await f.commit();
    expect((await fs.stat(dest)).mode & 0o777).toBe(0o600);
  });

  it('copyFrom copies a file as the content', async () => {
    const src = path.join(dir, 'src');
    await fs.writeFile(src, 'line 1\nline 2\n');
    const f = await AtomicFile.create(path.join(dir, 'copy'));
    await f.copyFrom(src);
    await f.finish();
    await f.commit();
    expect(await fs.readFile(path.join(dir, 'copy'), 'utf8')).toBe('line 1\nline 2\n');
  });

  it('linkFrom makes the source itself the content, keeping the mode of the file it replaces', async () => {
    const src = path.join(dir, 'events');
    await fs.writeFile(src, 'e1\ne2\n', { mode: 0o600 });
    const dest = path.join(dir, 'changes');
    await fs.writeFile(dest, 'old', { mode: 0o640 });
    await fs.chmod(dest, 0o640);
    const f = await AtomicFile.create(dest);
    await f.linkFrom(src);
    await f.finish();
    expect(await fs.readFile(dest, 'utf8')).toBe('old'); // nothing visible before commit
    await f.commit();
    const [a, b] = [await fs.stat(src), await fs.stat(dest)];
    expect(b.ino).toBe(a.ino);
    expect(b.mode & 0o777).toBe(0o640);
    expect((await fs.readdir(dir)).sort()).toEqual(['changes', 'events']);
    // Either name can go without the other.
    await fs.unlink(src);
    expect(await fs.readFile(dest, 'utf8')).toBe('e1\ne2\n');
  });

  it('linkFrom to a destination written in place copies the bytes instead', async () => {
    const src = path.join(dir, 'events');
    await fs.writeFile(src, 'e1\n');
    const target = path.join(dir, 'target');
    await fs.writeFile(target, '');
    const link = path.join(dir, 'link');
    await fs.symlink(target, link);
    const f = await AtomicFile.create(link, { writeThrough: true });
    await f.linkFrom(src);
    await f.finish();
    await f.commit();
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
    expect(await fs.readFile(target, 'utf8')).toBe('e1\n');
    expect((await fs.stat(target)).ino).not.toBe((await fs.stat(src)).ino);
  });

  it('reports an unwritable folder in one line naming the path', async () => {
    const folder = await unwritableFolder();
    const dest = path.join(folder, 'out.csv');
    const err = await AtomicFile.create(dest).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IdsyncError);
    expect((err as IdsyncError).message).toBe(`cannot write ${dest}: permission denied`);
    expect((err as IdsyncError).exitCode).toBe(1);
  });

  it('reports a missing folder and a destination that is a folder', async () => {
    const missing = path.join(dir, 'nope', 'out.csv');
    await expect(AtomicFile.create(missing)).rejects.toThrow(
      new IdsyncError(`cannot write ${missing}: folder ${path.join(dir, 'nope')} does not exist`),
    );
    await fs.mkdir(path.join(dir, 'out.csv'));
    const isDir = path.join(dir, 'out.csv');
    await expect(AtomicFile.create(isDir)).rejects.toThrow(`cannot write ${isDir}: it is a folder`);
    expect(await fs.readdir(dir)).toEqual(['out.csv']);
  });
});
