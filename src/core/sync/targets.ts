import fs from 'node:fs';
import path from 'node:path';
import { IdsyncError } from '../errors.js';

/** Catch an output that cannot be written before spending a single request on it. */
export function checkWritableTarget(file: string, what: string): void {
  const dir = path.dirname(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new IdsyncError(`cannot write ${what} ${file}: folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new IdsyncError(`cannot write ${what} ${file}: ${dir} is not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new IdsyncError(`cannot write ${what} ${file}: permission denied on folder ${dir}`);
  }
  try {
    if (fs.statSync(file).isDirectory()) throw new IdsyncError(`cannot write ${what} ${file}: it is a folder`);
  } catch (err) {
    if (err instanceof IdsyncError) throw err;
  }
}
