import fs from 'node:fs';

/** IDSYNC_HOME holds secrets and personal data: owner-only, whatever the umask. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    const st = fs.statSync(dir);
    if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) fs.chmodSync(dir, 0o700);
  } catch {
    // A folder we cannot stat or chmod is reported by the write that follows.
  }
}
