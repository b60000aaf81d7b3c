import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ExitCode, IdsyncError } from '../core/errors.js';
import { BufferedWriter, writeAll } from './buffered-writer.js';

const reasons: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a parent of it is not a folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EISDIR: 'it is a folder',
  EFBIG: 'file too large',
  EIO: 'input/output error',
};

/**
 * Turns a file-system error into the one-line message the user sees ("cannot write
 * /x/out.csv: permission denied"); anything else passes through unchanged.
 */
export function fileError(err: unknown, file: string, verb: 'read' | 'write' = 'write'): unknown {
  if (err instanceof IdsyncError) return err;
  const code = (err as NodeJS.ErrnoException | null | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return err;
  const missing = verb === 'write' ? `folder ${path.dirname(file)} does not exist` : 'no such file';
  const reason = code === 'ENOENT' ? missing : (reasons[code] ?? code);
  return new IdsyncError(`cannot ${verb} ${file}: ${reason}`, ExitCode.failure, { cause: err });
}

export function writeError(err: unknown, file: string): unknown {
  return fileError(err, file, 'write');
}

/** `.<name>.<pid>.<random>.tmp` next to `dest`: same file system, so rename is atomic. */
export function tempPathFor(dest: string, suffix = 'tmp'): string {
  const rand = randomBytes(4).toString('hex');
  return path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${rand}.${suffix}`);
}

/**
 * Removes temp and run files that a killed run left next to `dest` (a SIGKILL gives no chance
 * to clean up). Only files whose process is gone are touched: a live run keeps its own.
 */
export async function removeStaleTemps(dest: string): Promise<void> {
  const dir = path.dirname(dest);
  const prefix = `.${path.basename(dest)}.`;
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{8}\.(tmp|run\d+)$/.exec(name.slice(prefix.length));
    if (!m || isAlive(Number(m[1]))) continue;
    await fsp.unlink(path.join(dir, name)).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
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
 * A file that becomes visible only on commit(): written to a temp file in the destination's
 * folder, fsync'd by finish(), renamed over the destination by commit(). Until then the previous
 * file is untouched, even if the process is killed.
 */
export class AtomicFile {
  readonly dest: string;
  readonly tempPath: string;
  #fh: FileHandle | undefined;
  #stream: Writable | undefined;
  #writer: BufferedWriter | undefined;
  #state: 'open' | 'finished' | 'committed' | 'aborted' = 'open';

  private constructor(dest: string, tempPath: string, fh: FileHandle) {
    this.dest = dest;
    this.tempPath = tempPath;
    this.#fh = fh;
  }

  static async create(dest: string): Promise<AtomicFile> {
    const resolved = path.resolve(dest);
    const tempPath = tempPathFor(resolved);
    try {
      const existing = await fsp.stat(resolved).catch(() => undefined);
      if (existing?.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
      await removeStaleTemps(resolved);
      const fh = await fsp.open(tempPath, 'wx');
      // Replacing a file keeps its permissions (an export someone made private stays private).
      if (existing) await fh.chmod(existing.mode & 0o7777).catch(() => undefined);
      return new AtomicFile(resolved, tempPath, fh);
    } catch (err) {
      await fsp.unlink(tempPath).catch(() => undefined);
      throw writeError(err, resolved);
    }
  }

  /**
   * The temp file as a stream, for a library that writes by itself (exceljs); either this or
   * write()/writeLine(), not both.
   */
  get stream(): Writable {
    const fh = this.#open();
    if (this.#writer) throw new Error('stream requested after write()');
    if (!this.#stream) {
      // autoClose off: finish() must fsync the descriptor after the last write, then close it.
      const ws = fh.createWriteStream({ autoClose: false, emitClose: false, highWaterMark: 256 * 1024 });
      // An unhandled 'error' would crash the process; the error resurfaces through write/finish.
      ws.on('error', () => undefined);
      this.#stream = ws;
    }
    return this.#stream;
  }

  get #buffered(): BufferedWriter {
    if (this.#stream) throw new Error('write() after the stream was handed out');
    const fh = this.#open();
    this.#writer ??= new BufferedWriter((chunk) => writeAll(fh, chunk));
    return this.#writer;
  }

  #open(): FileHandle {
    if (!this.#fh || this.#state !== 'open') throw new Error(`${this.tempPath} is no longer open`);
    return this.#fh;
  }

  /** Appends text or bytes (buffered; written straight to the file descriptor). */
  async write(data: string | Buffer): Promise<void> {
    try {
      await this.#buffered.write(data);
    } catch (err) {
      throw writeError(err, this.dest);
    }
  }

  /** Appends a line and its '\n'; returns a promise only when the buffer had to be written. */
  writeLine(line: Buffer): void | Promise<void> {
    const wait = this.#buffered.writeLine(line);
    if (wait)
      return wait.catch((err: unknown) => {
        throw writeError(err, this.dest);
      });
  }

  /** Replaces the content by a copy of `src` (copy_file_range/reflink where the OS has it). */
  async copyFrom(src: string): Promise<void> {
    if (this.#stream || this.#writer) throw new Error('copyFrom() after writing');
    try {
      await fsp.copyFile(src, this.tempPath);
      // Some platforms copy by replacing the file: fsync the one now at tempPath, not ours.
      await this.#open().close();
      this.#fh = await fsp.open(this.tempPath, 'r+');
    } catch (err) {
      throw writeError(err, this.dest);
    }
  }

  /** Ends the stream, fsyncs and closes the temp file: complete on disk, not yet visible. */
  async finish(): Promise<void> {
    if (this.#state !== 'open' || !this.#fh) throw new Error(`${this.tempPath} cannot be finished twice`);
    try {
      await this.#writer?.flush();
      const ws = this.#stream;
      if (ws && !ws.writableEnded) ws.end();
      if (ws) await finished(ws);
      await this.#fh.sync();
      // A FileHandle's close() waits for the streams it created to be destroyed.
      ws?.destroy();
      await this.#fh.close();
      this.#fh = undefined;
      this.#state = 'finished';
    } catch (err) {
      throw writeError(err, this.dest);
    }
  }

  async commit(): Promise<void> {
    if (this.#state === 'committed') return;
    if (this.#state !== 'finished') throw new Error(`${this.tempPath} committed before finish()`);
    try {
      await fsp.rename(this.tempPath, this.dest);
      this.#state = 'committed';
      await syncFolder(path.dirname(this.dest));
    } catch (err) {
      throw writeError(err, this.dest);
    }
  }

  /** Removes the temp file; the destination keeps its previous content. Never throws. */
  async abort(): Promise<void> {
    if (this.#state === 'committed' || this.#state === 'aborted') return;
    this.#state = 'aborted';
    this.#stream?.destroy();
    await this.#fh?.close().catch(() => undefined);
    this.#fh = undefined;
    await fsp.unlink(this.tempPath).catch(() => undefined);
  }
}
