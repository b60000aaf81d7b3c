import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LockedError } from './errors.js';
import { wait } from './retry.js';

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

export interface Lock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One run per source at a time (overlapping cron jobs). The lock is a file created with O_EXCL;
 * a lock left by a crashed or SIGKILLed run on this host is recognised by its dead pid and
 * taken over.
 */
export async function acquireLock(
  dir: string,
  name: string,
  opts: { waitSeconds?: number; signal?: AbortSignal } = {},
): Promise<Lock> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${name}.lock`);
  const me: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  const deadline = Date.now() + (opts.waitSeconds ?? 0) * 1000;
  for (;;) {
    try {
      await fs.writeFile(file, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      return {
        release: async () => {
          await fs.rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(file);
    if (holder === 'gone') continue;
    if (holder === 'stale' || (holder !== 'unreadable' && holder.host === me.host && !alive(holder.pid))) {
      // Stale: its process is gone. Rename first so two runs cannot both remove and retake it.
      const grave = `${file}.stale.${process.pid}`;
      await fs.rename(file, grave).catch(() => undefined);
      await fs.rm(grave, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder === 'unreadable' ? 'another process' : `pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}`;
      throw new LockedError(
        `another idsync run of ${name} is in progress (${who}); ` +
          `try again later or pass --wait SECONDS (lock file ${file})`,
      );
    }
    await wait(500, opts.signal);
  }
}

async function readLock(file: string): Promise<LockInfo | 'gone' | 'unreadable' | 'stale'> {
  try {
    const text = await fs.readFile(file, 'utf8');
    const info = JSON.parse(text) as LockInfo;
    if (typeof info.pid === 'number' && typeof info.host === 'string') return info;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
  }
  // Empty or garbled: a run killed while writing it, or one writing it this very moment.
  try {
    const st = await fs.stat(file);
    return Date.now() - st.mtimeMs > 10_000 ? 'stale' : 'unreadable';
  } catch {
    return 'gone';
  }
}
