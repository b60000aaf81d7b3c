import fs from 'node:fs/promises';
import path from 'node:path';
import type { ApiClient } from '../core/api-client.js';
import { modeForReplacing, privateFileMode, syncFolder, tempPathFor } from '../core/fs/durable-files.js';
import { UpstreamError } from '../core/errors.js';
import type { HttpResponse } from '../core/http.js';
import type { PhotoSource } from '../core/people.js';
import { platformText } from '../core/terminal-text.js';

export type PhotoOutcome =
  | { id: string; status: 'saved'; file: string; bytes: number }
  | { id: string; status: 'skipped'; file: string }
  | { id: string; status: 'failed'; reason: string };

export interface PhotoRequest {
  dir: string;
  /** undefined: the signed-in person (userId left out, seeds/001). */
  userId: string | undefined;
  /** The file is `<fileId>.jpg`; an already validated plain id. */
  fileId: string;
  force: boolean;
}

const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

/**
 * Fetches one photo and saves it as DIR/<id>.jpg. A platform may answer an unknown id with HTTP
 * 200 and an error in JSON (ECNU does), so only an answer that says image/jpeg *and* starts like
 * a JPEG is saved.
 */
export async function savePhoto(client: ApiClient, photos: PhotoSource, req: PhotoRequest): Promise<PhotoOutcome> {
  const id = req.userId ?? req.fileId;
  const file = path.join(req.dir, `${req.fileId}.jpg`);
  // Checked before the request, so re-running a batch costs nothing for photos already there.
  if (!req.force && (await exists(file))) return { id, status: 'skipped', file };
  let res: HttpResponse;
  try {
    res = await photos.fetch(client, req.userId);
  } catch (err) {
    // An errCode or a 404 concerns this id; a 403 or an auth failure concerns them all.
    if (err instanceof UpstreamError && !err.transient && (err.status === undefined || err.status === 404)) {
      return { id, status: 'failed', reason: err.message };
    }
    throw err;
  }
  const problem = photos.refusal(res) ?? notAJpeg(res);
  if (problem) return { id, status: 'failed', reason: problem };
  const written = await writeAtomic(req.dir, file, res.body, req.force);
  return written ? { id, status: 'saved', file, bytes: res.body.length } : { id, status: 'skipped', file };
}

function notAJpeg(res: HttpResponse): string | undefined {
  const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'image/jpeg' && type !== 'image/jpg')
    return `no photo: the answer is ${platformText(type || 'untyped', 60)}, not image/jpeg`;
  if (res.body.length < JPEG_MAGIC.length || !res.body.subarray(0, 3).equals(JPEG_MAGIC)) {
    return 'no photo: the answer says image/jpeg but is not a JPEG (no FF D8 FF at the start)';
  }
  return undefined;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file); // lstat: a symlink counts as there, and is never followed
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Temp file in the same folder (O_EXCL, so a planted symlink is never followed), fsync, then
 * into place. Without --force a hard link refuses to replace a file that appeared meanwhile;
 * with it, rename replaces the name itself, a symlink included, never what it points to.
 * Returns false when the target appeared in the meantime (no --force).
 */
export async function writeAtomic(dir: string, file: string, data: Buffer, force: boolean): Promise<boolean> {
  const tmp = tempPathFor(file);
  // A photo is personal data: 0600 (CLI.md), or the mode of the photo --force replaces.
  const mode = force ? await modeForReplacing(file) : privateFileMode;
  const handle = await fs.open(tmp, 'wx', privateFileMode);
  try {
    try {
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (force) {
      await fs.rename(tmp, file);
    } else {
      try {
        await fs.link(tmp, file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        // Filesystems without hard links: check, then rename (a narrow race, but no clobbering of old files).
        if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'].includes(code ?? '')) throw err;
        if (await exists(file)) return false;
        await fs.rename(tmp, file);
      }
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
  await syncFolder(dir);
  return true;
}
