import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { foreignOwner } from '../secure-dir.js';

/** What a non-regular file is, for messages ("… is a character device"). */
export function describeKind(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Whether FILE names this process's own standard output (`/dev/stdout`, `/dev/fd/1`,
 * `/proc/self/fd/1`), which `-o` treats as `-o -`. Why: writing to the stream already open
 * keeps the caller's redirection as it is (`>> log` appends; opening the name again with
 * O_TRUNC would empty the log), and works when standard output is a socket (systemd's
 * journal, a Node parent), which open(2) refuses with ENXIO.
 */
export function isStandardOutputName(file: string): boolean {
  return process.platform !== 'win32' && /^\/(dev\/stdout|dev\/fd\/1|proc\/self\/fd\/1)$/.test(path.resolve(file));
}

/** Whether a snapshot path names an SQLite database (CLI.md: `.sqlite` or `.db`). */
export function isSqliteSnapshot(file: string): boolean {
  return /\.(sqlite|db)$/i.test(file);
}

/** The files SQLite keeps next to a database: each receives the data as much as the database. */
export const sqliteSiblings = ['-wal', '-shm', '-journal'] as const;

/**
 * Refuses a target that personal data must not be written to: a `--snapshot` or `--changes`
 * FILE (and, for an SQLite snapshot, its `-wal`/`-shm`/`-journal` files) that exists and is
 * not a regular file, is a symbolic link, or belongs to another user (root's files excepted).
 * A missing file is fine: it will be created owner-only.
 *
 * Why: such targets are read back and merged into, not written through. A device or FIFO
 * would be replaced or block; a file another local user planted in a shared folder (a 0666
 * file, or a `-wal` next to the database, in /tmp) would hand them every record, and a
 * symbolic link would send the data wherever its owner chose. `-o` targets are not checked
 * here: they are written through when they are devices (AtomicFile).
 *
 * Synchronous and offline, so a command calls it before any network request; throws a
 * UsageError (exit 2) naming the file and the reason. `what` names the option in the
 * message ("snapshot", "changes file").
 */
export function assertPrivateTarget(file: string, what: string, opts: { siblings?: readonly string[] } = {}): void {
  for (const name of [file, ...(opts.siblings ?? []).map((s) => file + s)]) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(name);
    } catch {
      continue; // missing (or unreadable: the write reports that with its own reason)
    }
    const label = name === file ? `${what} ${file}` : `${what} ${file}: ${name}`;
    if (!st.isFile()) throw new UsageError(`refusing to write ${label}: it is ${describeKind(st)}, not a regular file`);
    const owner = foreignOwner(st);
    if (owner !== undefined) {
      throw new UsageError(`refusing to write ${label}: it belongs to another user (uid ${owner}); remove it or choose another path`);
    }
  }
}
