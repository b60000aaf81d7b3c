import fs from 'node:fs';
import { AuthError, IdsyncError } from './errors.js';

// IDSYNC_HOME holds client secrets, tokens and sync state. The checks follow OpenSSH's
// StrictModes (sshd_config(5)): a file another user owns, or one others may write, could have
// been planted or altered by them, so it is refused; our own file that others may only read
// is made private again, since reading it is all it took to leak the secret.

const myUid = (): number | undefined => process.getuid?.();

/**
 * The owner's uid when it is neither the current user nor root (root's files are trusted, as
 * sshd trusts them); undefined otherwise, and on platforms without uids (Windows).
 */
export function foreignOwner(st: fs.Stats): number | undefined {
  const me = myUid();
  return me === undefined || st.uid === me || st.uid === 0 ? undefined : st.uid;
}

/** IDSYNC_HOME holds secrets and personal data: owner-only, whatever the umask. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return; // a folder we cannot stat is reported by the write that follows
  }
  const owner = foreignOwner(st);
  if (owner !== undefined) {
    throw new IdsyncError(`refusing to use ${dir}: it belongs to another user (uid ${owner}); IDSYNC_HOME must be your own folder`);
  }
  if ((st.mode & 0o022) !== 0 && st.uid !== myUid()) {
    throw new IdsyncError(`refusing to use ${dir}: other users can write to it (mode ${octal(st.mode)})`);
  }
  // Our own folder opened up by a umask or a chmod: closing it again loses nothing.
  if ((st.mode & 0o077) !== 0 && st.uid === myUid()) fs.chmodSync(dir, 0o700);
}

/**
 * Checks a file of secrets (credentials.json, tokens.json) before it is read: refused when
 * another user owns it or others may write to it; made 0600 when it is ours and others may
 * only read it. A missing file is fine (it is created 0600).
 */
export function checkSecretFile(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return;
  }
  if (!st.isFile()) throw new AuthError(`refusing to use ${file}: it is not a regular file`);
  const owner = foreignOwner(st);
  if (owner !== undefined) {
    throw new AuthError(`refusing to use ${file}: it belongs to another user (uid ${owner}); remove it and sign in again`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new AuthError(
      `refusing to use ${file}: other users can write to it (mode ${octal(st.mode)}); check its content, then chmod 600 it`,
    );
  }
  if ((st.mode & 0o044) !== 0 && st.uid === myUid()) fs.chmodSync(file, 0o600);
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
