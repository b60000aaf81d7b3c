import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ApiClient } from '../core/api-client.js';
import { fsyncDir } from '../core/atomic-json.js';
import { UpstreamError } from '../core/errors.js';
import type { HttpResponse } from '../core/http.js';
import { checkEnvelope } from '../providers/ecnu/envelope.js';
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

const PHOTO_PATH = '/api/v1/user/photo';
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

/**
 * Fetches one photo and saves it as DIR/<id>.jpg. ECNU answers an unknown id with HTTP 200 and
 * an errCode JSON body, so only an answer that says image/jpeg *and* starts like a JPEG is saved.
 */
export async function savePhoto(client: ApiClient, req: PhotoRequest): Promise<PhotoOutcome> {
  const id = req.userId ?? req.fileId;
  const file = path.join(req.dir, `${req.fileId}.jpg`);
  // Checked before the request, so re-running a batch costs nothing for photos already there.
  if (!req.force && (await exists(file))) return { id, status: 'skipped', file };
  let res: HttpResponse;
  try {
    res = await client.getRaw(PHOTO_PATH, req.userId !== undefined ? { userId: req.userId } : {}, (r) => {
      // A transient errCode (1108110525) is worth a retry, like any other ECNU answer.
      const answer = jsonOf(r);
      if (answer !== undefined) transientOnly(() => checkEnvelope({ body: answer, serverTime: undefined, headers: r.headers }, PHOTO_PATH));
    });
  } catch (err) {
    // An errCode or a 404 concerns this id; a 403 or an auth failure concerns them all.
    if (err instanceof UpstreamError && !err.transient && (err.status === undefined || err.status === 404)) {
      return { id, status: 'failed', reason: err.message };
    }
    throw err;
  }
  const problem = notAJpeg(res);
  if (problem) return { id, status: 'failed', reason: problem };
  const written = await writeAtomic(req.dir, file, res.body, req.force);
  return written ? { id, status: 'saved', file, bytes: res.body.length } : { id, status: 'skipped', file };
}

function notAJpeg(res: HttpResponse): string | undefined {
  const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const answer = jsonOf(res);
  if (answer !== undefined) {
    const env = answer as { errCode?: unknown; errMsg?: unknown; requestId?: unknown };
    if (env.errCode !== undefined && String(env.errCode) !== '0') {
      // The platform's words, escaped and capped before they reach a terminal.
      return `no photo: ecnu errCode ${platformText(String(env.errCode), 40)}, errMsg '${platformText(String(env.errMsg ?? ''))}', requestId ${platformText(String(env.requestId ?? 'none'), 80)}`;
    }
    return 'no photo: ecnu answered JSON instead of a JPEG';
  }
  if (type !== 'image/jpeg' && type !== 'image/jpg') return `no photo: the answer is ${platformText(type || 'untyped', 60)}, not image/jpeg`;
  if (res.body.length < JPEG_MAGIC.length || !res.body.subarray(0, 3).equals(JPEG_MAGIC)) {
    return 'no photo: the answer says image/jpeg but is not a JPEG (no FF D8 FF at the start)';
  }
  return undefined;
}

function jsonOf(res: HttpResponse): unknown {
  const type = res.headers['content-type'] ?? '';
  if (!/json/i.test(type) && res.body[0] !== 0x7b) return undefined;
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function transientOnly(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof UpstreamError && err.transient) throw err;
  }
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
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', 0o644);
  try {
    try {
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
  await fsyncDir(dir);
  return true;
}
