import fs from 'node:fs';
import path from 'node:path';
import { IdsyncError } from '../errors.js';
// The module itself, not the sinks' index: the index loads exceljs and better-sqlite3.
import { assertPrivateTarget, isSqliteSnapshot, sqliteSiblings } from '../fs/target-check.js';

/**
 * Catch an output that cannot be written before spending a single request on it. A target
 * that exists and is not a regular file (`-o /dev/null`, a FIFO) is written in place, so only
 * it must be writable, not its folder (/dev is not writable for most users).
 */
export function checkWritableTarget(file: string, what: string): void {
  const existing = statOrUndefined(file);
  if (existing?.isDirectory()) throw new IdsyncError(`cannot write ${what} ${file}: it is a folder`);
  const lstat = existing && fs.lstatSync(file);
  if (existing && !(lstat?.isFile() ?? false)) {
    try {
      fs.accessSync(file, fs.constants.W_OK);
    } catch {
      throw new IdsyncError(`cannot write ${what} ${file}: permission denied`);
    }
    return;
  }
  const dir = path.dirname(file);
  const st = statOrUndefined(dir);
  if (!st) throw new IdsyncError(`cannot write ${what} ${file}: folder ${dir} does not exist`);
  if (!st.isDirectory()) throw new IdsyncError(`cannot write ${what} ${file}: ${dir} is not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new IdsyncError(`cannot write ${what} ${file}: permission denied on folder ${dir}`);
  }
}

/**
 * checkWritableTarget for a file that keeps personal data and is read back by the next run:
 * a `--snapshot` FILE or a `--changes` FILE. Also refuses (exit 2) such a target that exists
 * and is a device, FIFO, symbolic link or another user's file, and for an SQLite snapshot the
 * same of its -wal/-shm/-journal files (see assertPrivateTarget). Offline; call it before any
 * request. `what`: "snapshot", "changes file".
 */
export function checkPrivateTarget(file: string, what: string): void {
  assertPrivateTarget(file, what, isSqliteSnapshot(file) ? { siblings: sqliteSiblings } : {});
  checkWritableTarget(file, what);
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}
