import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

// The few file-system habits every durable write shares (outputs, snapshots, state, lock,
// photos): one temp-name scheme, one folder fsync, one "is the writer still running" test.

/** Files holding personal data or secrets: readable by the owner only (CLI.md). */
export const privateFileMode = 0o600;
export const privateDirMode = 0o700;

/**
 * `.<name>.<pid>.<random>.<suffix>` next to `dest`: same file system, so rename is atomic; the
 * pid lets a later run tell a killed writer's leftovers (removeStaleTemps) from a live one's.
 */
export function tempPathFor(dest: string, suffix = 'tmp'): string {
  const rand = randomBytes(4).toString('hex');
  return path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${rand}.${suffix}`);
}

/** Whether a process with this pid exists on this host (ours, or someone else's: EPERM). */
export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

/** fsync the folder so that a rename (or a new file) survives a power cut, not only a crash. */
export async function syncFolder(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Some platforms and file systems refuse fsync on a folder (Windows, some network mounts);
    // the rename itself already happened, so this is best effort there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * The mode a file written to `dest` should get: an existing regular file keeps its own (an
 * export someone shared with their group stays shared), anything new is owner-only. For
 * writers that build a file elsewhere and rename it over `dest` (the SQLite snapshot).
 */
export async function modeForReplacing(dest: string): Promise<number> {
  const st = await fsp.stat(dest).catch(() => undefined);
  return st?.isFile() ? st.mode & 0o7777 : privateFileMode;
}
