import fs from 'node:fs/promises';
import path from 'node:path';
import { syncFolder, tempPathFor } from './durable-files.js';

/** Small files that must never be torn: temp file, fsync, rename, fsync the folder. */
export async function writeJsonAtomic(file: string, value: unknown, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = tempPathFor(file);
  const handle = await fs.open(tmp, 'w', mode);
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncFolder(dir);
}
