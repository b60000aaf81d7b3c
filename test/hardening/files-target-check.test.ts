import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdsyncError } from '../../src/core/errors.js';
import { checkPrivateTarget, checkWritableTarget } from '../../src/core/sync/targets.js';
import { assertPrivateTarget, isStandardOutputName, sqliteSiblings } from '../../src/core/fs/target-check.js';
import { isRoot, makeFifo, makeNullDevice, otherUid } from './files-support.js';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'idsync-files-check-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function refusal(run: () => void): IdsyncError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(IdsyncError);
    return err as IdsyncError;
  }
  throw new Error('not refused');
}

describe('assertPrivateTarget', () => {
  it('accepts a missing file and a regular file of our own', async () => {
    const file = path.join(dir, 'snap.ndjson');
    assertPrivateTarget(file, 'snapshot');
    await fsp.writeFile(file, '');
    assertPrivateTarget(file, 'snapshot');
  });

  it('refuses a FIFO and a symbolic link with exit 2, naming the option and the file', () => {
    const fifo = path.join(dir, 'changes.ndjson');
    makeFifo(fifo);
    const err = refusal(() => assertPrivateTarget(fifo, 'changes file'));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(`refusing to write changes file ${fifo}: it is a FIFO (named pipe), not a regular file`);
    const link = path.join(dir, 'snap.ndjson');
    fs.symlinkSync(fifo, link);
    expect(refusal(() => assertPrivateTarget(link, 'snapshot')).message).toMatch(/it is a symbolic link/);
  });

  it.skipIf(!isRoot)('refuses a device and another user’s file, and an SQLite sibling of either', async () => {
    const node = path.join(dir, 'null');
    makeNullDevice(node);
    expect(refusal(() => assertPrivateTarget(node, 'snapshot')).message).toMatch(/it is a character device/);
    const db = path.join(dir, 'snap.sqlite');
    await fsp.writeFile(db, '');
    for (const suffix of sqliteSiblings) {
      const sibling = db + suffix;
      await fsp.writeFile(sibling, '');
      await fsp.chown(sibling, otherUid, otherUid);
      assertPrivateTarget(db, 'snapshot'); // siblings are looked at only when asked for
      const err = refusal(() => assertPrivateTarget(db, 'snapshot', { siblings: sqliteSiblings }));
      expect(err.message).toBe(
        `refusing to write snapshot ${db}: ${sibling}: it belongs to another user (uid ${otherUid}); remove it or choose another path`,
      );
      await fsp.rm(sibling);
    }
  });
});

describe('checkPrivateTarget and checkWritableTarget', () => {
  it('checkPrivateTarget looks at -wal/-shm/-journal only for an SQLite snapshot', async () => {
    fs.symlinkSync('/nowhere', path.join(dir, 'snap.db-journal'));
    expect(refusal(() => checkPrivateTarget(path.join(dir, 'snap.db'), 'snapshot')).exitCode).toBe(2);
    fs.symlinkSync('/nowhere', path.join(dir, 'snap.ndjson-journal'));
    checkPrivateTarget(path.join(dir, 'snap.ndjson'), 'snapshot');
  });

  // Root writes to any folder, so only another user sees the difference.
  it.skipIf(isRoot)('checkWritableTarget asks a FIFO target itself to be writable, not its folder', async () => {
    const fifo = path.join(dir, 'pipe');
    makeFifo(fifo);
    await fsp.chmod(dir, 0o500);
    try {
      checkWritableTarget(fifo, 'output'); // written in place: the folder is never touched
    } finally {
      await fsp.chmod(dir, 0o700);
    }
  });
});

describe('isStandardOutputName', () => {
  it.each([
    ['/dev/stdout', true],
    ['/dev/fd/1', true],
    ['/proc/self/fd/1', true],
    ['/dev/../dev/stdout', true],
    ['/dev/stderr', false],
    ['/dev/fd/10', false],
    ['stdout', false],
  ])('%s → %s', (name, expected) => {
    expect(isStandardOutputName(name)).toBe(expected);
  });
});
