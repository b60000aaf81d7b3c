import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdsyncError } from '../../src/core/errors.js';
import { AtomicFile } from '../../src/core/fs/atomic-file.js';
import { isRoot, makeFifo, makeNullDevice, modeOf } from './files-support.js';

// The prepare → commit | abort state machine of AtomicFile, for the targets it replaces (regular
// files, new or existing) and the ones it must write in place (devices, FIFOs, links).

let dir: string;
let savedUmask: number;
beforeEach(async () => {
  savedUmask = process.umask(0o022); // the usual default, under which 0644 used to leak out
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'idsync-files-atomic-'));
});
afterEach(async () => {
  process.umask(savedUmask);
  await fsp.rm(dir, { recursive: true, force: true });
});

async function writeAll(f: AtomicFile, text: string): Promise<void> {
  await f.write(text);
  await f.finish();
  await f.commit();
}

describe('AtomicFile modes under umask 022', () => {
  it('creates a new file 0600, and its temp file is 0600 while it is written', async () => {
    const dest = path.join(dir, 'new.csv');
    const f = await AtomicFile.create(dest);
    expect(modeOf(f.tempPath)).toBe(0o600);
    await writeAll(f, 'a,b\r\n');
    expect(modeOf(dest)).toBe(0o600);
  });

  it.each([0o644, 0o640, 0o604])('an existing file keeps its mode %o', async (mode) => {
    const dest = path.join(dir, 'kept.csv');
    await fsp.writeFile(dest, 'old');
    await fsp.chmod(dest, mode);
    await writeAll(await AtomicFile.create(dest), 'new');
    expect(modeOf(dest)).toBe(mode);
    expect(await fsp.readFile(dest, 'utf8')).toBe('new');
  });

  it('copyFrom does not give the copy the source’s mode', async () => {
    const src = path.join(dir, 'spool');
    await fsp.writeFile(src, 'line\n', { mode: 0o755 });
    await fsp.chmod(src, 0o755);
    const fresh = path.join(dir, 'fresh.ndjson');
    const a = await AtomicFile.create(fresh);
    await a.copyFrom(src);
    await a.finish();
    await a.commit();
    expect(modeOf(fresh)).toBe(0o600);

    const shared = path.join(dir, 'shared.ndjson');
    await fsp.writeFile(shared, 'old\n');
    await fsp.chmod(shared, 0o640);
    const b = await AtomicFile.create(shared);
    await b.copyFrom(src);
    await b.finish();
    await b.commit();
    expect(modeOf(shared)).toBe(0o640);
    expect(await fsp.readFile(shared, 'utf8')).toBe('line\n');
  });
});

describe.skipIf(!isRoot)('AtomicFile and a character device (made here with mknod, 1:3)', () => {
  it('writes through and leaves the device a device, with nothing next to it', async () => {
    const node = path.join(dir, 'null');
    const before = makeNullDevice(node);
    const f = await AtomicFile.create(node, { writeThrough: true });
    expect(f.writesThrough).toBe(true);
    await f.write('x'.repeat(600_000)); // more than the write buffer
    await f.finish();
    await f.commit();
    const after = fs.lstatSync(node);
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.rdev).toBe(before.rdev);
    expect(after.mode).toBe(before.mode); // not chmod'ed to 0600 either
    expect(await fsp.readdir(dir)).toEqual(['null']);
  });

  it('copyFrom and the stream write through too; abort never removes the device', async () => {
    const node = path.join(dir, 'null');
    makeNullDevice(node);
    const src = path.join(dir, 'src');
    await fsp.writeFile(src, 'a\nb\n');
    const a = await AtomicFile.create(node, { writeThrough: true });
    await a.copyFrom(src);
    await a.finish();
    await a.commit();
    const b = await AtomicFile.create(node, { writeThrough: true });
    b.stream.write('streamed');
    await b.abort();
    expect(fs.lstatSync(node).isCharacterDevice()).toBe(true);
    expect((await fsp.readdir(dir)).sort()).toEqual(['null', 'src']);
  });

  it('without writeThrough refuses the device (exit 2) and leaves it alone', async () => {
    const node = path.join(dir, 'null');
    makeNullDevice(node);
    const err = await AtomicFile.create(node).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IdsyncError);
    expect((err as IdsyncError).exitCode).toBe(2);
    expect((err as IdsyncError).message).toBe(`refusing to write ${node}: it is a character device, not a regular file`);
    expect(fs.lstatSync(node).isCharacterDevice()).toBe(true);
    expect(await fsp.readdir(dir)).toEqual(['null']);
  });
});

describe('AtomicFile and other targets that are not regular files', () => {
  it('writes through a FIFO to its reader; the FIFO stays a FIFO', async () => {
    const fifo = path.join(dir, 'pipe');
    makeFifo(fifo);
    // The reader is another process: were the FIFO replaced, it could be killed rather than
    // leave this worker blocked in open(2) for ever.
    const reader = execa('cat', [fifo], { reject: false, stdin: 'ignore' });
    try {
      const f = await AtomicFile.create(fifo, { writeThrough: true });
      await f.writeLine(Buffer.from('{"userId":"1"}'));
      await f.finish(); // fsync of a pipe fails with EINVAL: not an error here
      await f.commit();
      expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
      expect(await fsp.readdir(dir)).toEqual(['pipe']);
      expect((await reader).stdout).toBe('{"userId":"1"}');
    } finally {
      reader.kill();
    }
  });

  it('writes through a symbolic link (like /dev/stdout) and leaves the link a link', async () => {
    const real = path.join(dir, 'real.ndjson');
    await fsp.writeFile(real, 'old\n');
    await fsp.chmod(real, 0o640);
    const link = path.join(dir, 'link.ndjson');
    await fsp.symlink(real, link);
    await writeAll(await AtomicFile.create(link, { writeThrough: true }), 'new\n');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(await fsp.readFile(real, 'utf8')).toBe('new\n');
    expect(modeOf(real)).toBe(0o640);
    expect((await fsp.readdir(dir)).sort()).toEqual(['link.ndjson', 'real.ndjson']);
  });

  it('without writeThrough refuses a FIFO and a link', async () => {
    const fifo = path.join(dir, 'pipe');
    makeFifo(fifo);
    await expect(AtomicFile.create(fifo)).rejects.toThrow(`refusing to write ${fifo}: it is a FIFO (named pipe), not a regular file`);
    const link = path.join(dir, 'link');
    await fsp.symlink(path.join(dir, 'elsewhere'), link);
    await expect(AtomicFile.create(link)).rejects.toThrow(`refusing to write ${link}: it is a symbolic link, not a regular file`);
    expect((await fsp.readdir(dir)).sort()).toEqual(['link', 'pipe']);
  });

  it('keeps the state machine’s order: commit before finish and finish twice are errors', async () => {
    const f = await AtomicFile.create(path.join(dir, 'x'));
    await expect(f.commit()).rejects.toThrow(/committed before finish/);
    await f.finish();
    await expect(f.finish()).rejects.toThrow(/cannot be finished twice/);
    await f.commit();
    await f.commit(); // twice is harmless
    await f.abort(); // after commit: nothing
    expect(await fsp.readdir(dir)).toEqual(['x']);
  });
});
