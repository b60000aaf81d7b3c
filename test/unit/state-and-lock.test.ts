import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/core/lock.js';
import { LockedError } from '../../src/core/errors.js';
import { jobKey, paramsKey, StateStore, type JobState } from '../../src/core/state.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-state-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const entry = (params: Record<string, string>, watermark: number | null): JobState => ({
  params,
  watermark,
  snapshot: null,
  snapshotMark: null,
  runs: 1,
  lastRunId: null,
  changesFed: false,
  deliveredThrough: 0,
  lastRun: {
    finishedAt: '2026-01-01T00:00:00.000Z',
    mode: 'full',
    since: null,
    records: 3,
    pages: 1,
    deleted: 0,
    serverTime: null,
    maxUpdated: null,
    durationMs: 5,
  },
});

describe('StateStore', () => {
  it('keeps one entry per distinct set of params, order-insensitive', async () => {
    const store = new StateStore(dir);
    await store.put('ecnu-students', entry({ type: '本科生' }, 100));
    await store.put('ecnu-students', entry({ type: '研究生' }, 200));
    expect((await store.get('ecnu-students', jobKey({ type: '本科生' }, null)))?.watermark).toBe(100);
    expect((await store.get('ecnu-students', jobKey({ type: '研究生' }, null)))?.watermark).toBe(200);
    expect(await store.get('ecnu-students', jobKey({}, null))).toBeUndefined();
    expect(paramsKey({ b: '2', a: '1' })).toBe(paramsKey({ a: '1', b: '2' }));
  });

  it('writes owner-only files and no temp files behind', async () => {
    const store = new StateStore(dir);
    await store.put('ecnu-users', entry({}, 1));
    const st = await fs.stat(store.fileOf('ecnu-users'));
    expect(st.mode & 0o777).toBe(0o600);
    expect(await fs.readdir(dir)).toEqual(['ecnu-users.json']);
  });

  it('refuses a corrupt or foreign state file with a way out', async () => {
    const store = new StateStore(dir);
    await fs.writeFile(store.fileOf('ecnu-users'), '{"version": 99, "source": "x", "entries": {}}');
    await expect(store.load('ecnu-users')).rejects.toThrow(/state reset ecnu-users/);
    await fs.writeFile(store.fileOf('ecnu-users'), '{not json');
    await expect(store.load('ecnu-users')).rejects.toThrow(/not valid JSON/);
    expect(await store.reset('ecnu-users')).toBe(true);
    expect(await store.reset('ecnu-users')).toBe(false);
  });
});

describe('acquireLock', () => {
  it('refuses a second holder and frees on release', async () => {
    const lock = await acquireLock(dir, 'ecnu-users');
    await expect(acquireLock(dir, 'ecnu-users')).rejects.toBeInstanceOf(LockedError);
    await lock.release();
    const again = await acquireLock(dir, 'ecnu-users');
    await again.release();
  });

  it('takes over a lock left by a dead process', async () => {
    await fs.writeFile(path.join(dir, 'ecnu-users.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), startedAt: 'then' }));
    const lock = await acquireLock(dir, 'ecnu-users');
    await lock.release();
  });

  it('waits for a live holder when asked to, and takes the lock only once it is released', async () => {
    const first = await acquireLock(dir, 'tongji-staff');
    const events: string[] = [];
    let waitingNow!: () => void;
    const waiting = new Promise<void>((resolve) => (waitingNow = resolve));
    const second = acquireLock(dir, 'tongji-staff', {
      waitSeconds: 30,
      onWait: (message) => {
        events.push('waiting');
        expect(message).toMatch(new RegExp(`pid ${process.pid}`));
        waitingNow();
      },
    }).then((lock) => {
      events.push('acquired');
      return lock;
    });
    // A lock that is taken over (or overwritten) instead of waited for resolves first: fail then.
    await Promise.race([waiting, second.then(() => expect.fail('took a lock that was still held'))]);
    events.push('released');
    await first.release();
    await (await second).release();
    expect(events).toEqual(['waiting', 'released', 'acquired']);
  });
});
