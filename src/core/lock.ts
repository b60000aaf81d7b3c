import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isAlive, tempPathFor } from './fs/durable-files.js';
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

/**
 * One run per source at a time (overlapping cron jobs). The lock is a file created with O_EXCL;
 * a lock left by a crashed or SIGKILLed run on this host is recognised by its dead pid and
 * taken over.
 */
export async function acquireLock(
  dir: string,
  name: string,
  opts: { waitSeconds?: number; signal?: AbortSignal; onWait?: (message: string) => void } = {},
): Promise<Lock> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${name}.lock`);
  const me: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  const deadline = Date.now() + (opts.waitSeconds ?? 0) * 1000;
  let waiting = false;
  for (;;) {
    try {
      await createWhole(file, JSON.stringify(me));
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
    if (holder === 'stale' || (holder !== 'unreadable' && holder.host === me.host && !isAlive(holder.pid))) {
      // Stale: its process is gone. Rename first so two runs cannot both remove and retake it.
      const grave = `${file}.stale.${process.pid}`;
      await fs.rename(file, grave).catch(() => undefined);
      await fs.rm(grave, { force: true });
      continue;
    }
    const who = holder === 'unreadable' ? 'another process' : `pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}`;
    if (Date.now() >= deadline) {
      throw new LockedError(
        `another idsync run of ${name} is in progress (${who}); ` + `try again later or pass --wait SECONDS (lock file ${file})`,
      );
    }
    if (!waiting) opts.onWait?.(`waiting for another idsync run of ${name} to finish (${who})`);
    waiting = true;
    await wait(500, opts.signal);
  }
}

/**
 * Creates `file` with its whole content or fails with EEXIST. O_EXCL then write left an empty
 * lock for a moment; a run killed in that moment made every other run refuse ("another
 * process") until the empty file was 10 s old. A private temp file hard-linked into place
 * appears complete or not at all, and link() refuses an existing name just as O_EXCL does.
 */
async function createWhole(file: string, content: string): Promise<void> {
  const tmp = tempPathFor(file);
  await fs.writeFile(tmp, content, { mode: 0o600 });
  try {
    await fs.link(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // File systems without hard links: fall back to O_EXCL.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    await fs.writeFile(file, content, { flag: 'wx', mode: 0o600 });
  } finally {
    await fs.rm(tmp, { force: true });
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
