import path from 'node:path';
import { fileError } from '../core/fs/atomic-file.js';
import { IdsyncError } from '../core/errors.js';

const readCalls = new Set(['read', 'readdir', 'scandir', 'stat', 'lstat', 'access']);

/**
 * A file-system error that escaped the commands (a state, lock or token file under IDSYNC_HOME)
 * becomes the same one line an unwritable `-o` folder gets, plus what to do about the home.
 * Anything else: undefined, and the caller reports it as unexpected.
 */
export function systemErrorMessage(err: unknown, home: string): IdsyncError | undefined {
  const e = err as NodeJS.ErrnoException | null | undefined;
  if (!(err instanceof Error) || typeof e?.code !== 'string' || typeof e.path !== 'string') return undefined;
  const friendly = fileError(err, e.path, readCalls.has(e.syscall ?? '') ? 'read' : 'write');
  if (!(friendly instanceof IdsyncError)) return undefined;
  const rel = path.relative(home, path.resolve(e.path));
  const inHome = rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  const isAncestor = !inHome && path.resolve(home).startsWith(path.resolve(e.path) + path.sep);
  if (!inHome && !isAncestor) return friendly;
  return new IdsyncError(`${friendly.message} (IDSYNC_HOME is ${home}; point IDSYNC_HOME at a folder you can write)`, friendly.exitCode, {
    cause: err,
  });
}
