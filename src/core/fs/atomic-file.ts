import { existsSync, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { isAlive, privateFileMode, syncFolder, tempPathFor } from './durable-files.js';
import { ExitCode, IdsyncError, UsageError } from '../errors.js';
import { BufferedWriter, writeAll } from './buffered-writer.js';
import { describeKind } from './target-check.js';

export { syncFolder, tempPathFor } from './durable-files.js';

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
  ENXIO: 'no such device or address (a socket cannot be written as a file)',
};

/**
 * Turns a file-system error into the one-line message the user sees ("cannot write
 * /x/out.csv: permission denied"); anything else passes through unchanged.
 */
export function fileError(err: unknown, file: string, verb: 'read' | 'write' = 'write'): unknown {
  if (err instanceof IdsyncError) return err;
  const code = (err as NodeJS.ErrnoException | null | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return err;
  const missing = verb === 'write' ? missingOnWrite(file) : 'no such file';
  const reason = code === 'ENOENT' ? missing : (reasons[code] ?? code);
  return new IdsyncError(`cannot ${verb} ${file}: ${reason}`, ExitCode.failure, { cause: err });
}

/**
 * ENOENT on a write usually means a missing folder, but /proc and some mounts exist and still
 * answer ENOENT for any new file: say "cannot write" there, not that the folder is missing.
 */
function missingOnWrite(file: string): string {
  const dir = path.dirname(file);
  return existsSync(dir) ? 'the folder does not accept new files' : `folder ${dir} does not exist`;
}

export function writeError(err: unknown, file: string): unknown {
  return fileError(err, file, 'write');
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
    // An SQLite temp file may have its own -journal, -wal or -shm beside it.
    const m = /^(\d+)\.[0-9a-f]{8}\.(tmp|run\d+)(-journal|-wal|-shm)?$/.exec(name.slice(prefix.length));
    if (!m || isAlive(Number(m[1]))) continue;
    await fsp.unlink(path.join(dir, name)).catch(() => undefined);
  }
}

/** What create() found at the destination, and so how the file will be written. */
type Placement =
  /** Missing or a regular file: temp file next to it, renamed over it on commit. */
  | { kind: 'replace'; mode: number }
  /** A device, FIFO, socket or symbolic link (`/dev/stdout`): opened and written in place. */
  | { kind: 'through' };

export interface AtomicFileOptions {
  /**
   * Write straight through to a destination that is not a regular file (a character device,
   * FIFO, or a symbolic link such as /dev/stdout) instead of refusing it: for `-o FILE`.
   * Such a target cannot appear "complete or not at all"; it receives the bytes as written.
   */
  writeThrough?: boolean;
}

/**
 * Decides, from lstat, how `dest` is written. Only a regular file (or none) is ever replaced:
 * renaming a temp file over /dev/null, as root, replaced the device with a regular file and
 * broke every other program on the machine. Anything else is written in place, as moreutils'
 * sponge does ("If the output file is a special file or symlink, the data will be written to
 * it"); a symbolic link is followed by open(2), so the kernel's protected_symlinks rules apply.
 */
async function placementOf(dest: string, opts: AtomicFileOptions): Promise<Placement> {
  let st: Stats;
  try {
    st = await fsp.lstat(dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'replace', mode: privateFileMode };
    throw err;
  }
  if (st.isFile()) return { kind: 'replace', mode: st.mode & 0o7777 };
  if (st.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
  const target = await fsp.stat(dest).catch(() => undefined); // undefined: a dangling link
  if (target?.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
  if (!opts.writeThrough) {
    throw new UsageError(`refusing to write ${dest}: it is ${describeKind(st)}, not a regular file`);
  }
  return { kind: 'through' };
}

/** fsync of a pipe, terminal or character device fails with EINVAL: nothing there to flush. */
async function syncIfPossible(fh: FileHandle): Promise<void> {
  try {
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EROFS' && code !== 'EBADF') throw err;
  }
}

/**
 * A file that becomes visible only on commit(): written to a temp file in the destination's
 * folder (owner-only, or the mode of the file it replaces), fsync'd by finish(), renamed over
 * the destination by commit(). Until then the previous file is untouched, even if the process
 * is killed. A destination that is not a regular file is either refused or, with
 * `writeThrough`, written in place (then commit() has nothing left to do and abort() cannot
 * take back what was written).
 *
 * States: open → (finish) → finished → (commit) → committed; abort() from any state but
 * committed → aborted.
 */
export class AtomicFile {
  readonly dest: string;
  /** The file being written: the temp file, or `dest` itself when written through. */
  readonly tempPath: string;
  readonly #placement: Placement;
  #fh: FileHandle | undefined;
  #stream: Writable | undefined;
  #writer: BufferedWriter | undefined;
  #state: 'open' | 'finished' | 'committed' | 'aborted' = 'open';

  private constructor(dest: string, tempPath: string, placement: Placement, fh: FileHandle) {
    this.dest = dest;
    this.tempPath = tempPath;
    this.#placement = placement;
    this.#fh = fh;
  }

  static async create(dest: string, opts: AtomicFileOptions = {}): Promise<AtomicFile> {
    const resolved = path.resolve(dest);
    const tempPath = tempPathFor(resolved);
    let placement: Placement | undefined;
    try {
      placement = await placementOf(resolved, opts);
      if (placement.kind === 'through') {
        // 'w' on a device or FIFO truncates nothing; on a dangling link it creates the file.
        return new AtomicFile(resolved, resolved, placement, await fsp.open(resolved, 'w', privateFileMode));
      }
      await removeStaleTemps(resolved);
      // O_EXCL: a name planted in the folder (a symlink) is never followed.
      const fh = await fsp.open(tempPath, 'wx', privateFileMode);
      // Exact mode, whatever the umask: a replaced file keeps its own, a new one is 0600.
      await fh.chmod(placement.mode).catch(() => undefined);
      return new AtomicFile(resolved, tempPath, placement, fh);
    } catch (err) {
      if (placement?.kind === 'replace') await fsp.unlink(tempPath).catch(() => undefined);
      throw writeError(err, resolved);
    }
  }

  /** True when the destination is a device, FIFO or link written in place (not atomic). */
  get writesThrough(): boolean {
    return this.#placement.kind === 'through';
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
      if (this.#placement.kind === 'through') {
        // copyFile would truncate and chmod the device itself: stream the bytes instead.
        const input = await fsp.open(src, 'r');
        try {
          for await (const chunk of input.createReadStream({ highWaterMark: 256 * 1024 })) {
            await writeAll(this.#open(), chunk as Buffer);
          }
        } finally {
          await input.close().catch(() => undefined);
        }
        return;
      }
      await fsp.copyFile(src, this.tempPath);
      // Some platforms copy by replacing the file: fsync the one now at tempPath, not ours.
      await this.#open().close();
      this.#fh = await fsp.open(this.tempPath, 'r+');
      // copyFile gives the copy the source's mode (libuv fchmods it): set ours again.
      await this.#fh.chmod(this.#placement.mode);
    } catch (err) {
      throw writeError(err, this.dest);
    }
  }

  /**
   * Makes `src` itself the content, by a hard link, so that no byte is copied. Only for a
   * source that is complete on disk (fsync'd) and never written again, since both names share
   * it. Where the file systems differ or links are not allowed, or for a destination written
   * in place, the bytes are copied (copyFrom).
   */
  async linkFrom(src: string): Promise<void> {
    if (this.#stream || this.#writer) throw new Error('linkFrom() after writing');
    if (this.#placement.kind === 'through') return this.copyFrom(src);
    try {
      await this.#open().close();
      this.#fh = undefined;
      await fsp.unlink(this.tempPath);
      try {
        // link(2) fails on any name already there (a planted symlink too): like O_EXCL.
        await fsp.link(src, this.tempPath);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw err;
        this.#fh = await fsp.open(this.tempPath, 'wx', privateFileMode);
        return await this.copyFrom(src);
      }
      this.#fh = await fsp.open(this.tempPath, 'r+');
      // The one file now has the destination's mode under both names (0600 unless it replaces
      // a file with its own).
      await this.#fh.chmod(this.#placement.mode);
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
      await syncIfPossible(this.#fh);
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
    if (this.#placement.kind === 'through') {
      this.#state = 'committed'; // the bytes are already there
      return;
    }
    try {
      await fsp.rename(this.tempPath, this.dest);
      this.#state = 'committed';
      await syncFolder(path.dirname(this.dest));
    } catch (err) {
      throw writeError(err, this.dest);
    }
  }

  /**
   * Removes the temp file; the destination keeps its previous content. Never throws. A
   * destination written through is closed, never removed: it is a device or someone's link.
   */
  async abort(): Promise<void> {
    if (this.#state === 'committed' || this.#state === 'aborted') return;
    this.#state = 'aborted';
    this.#stream?.destroy();
    await this.#fh?.close().catch(() => undefined);
    this.#fh = undefined;
    if (this.#placement.kind === 'replace') await fsp.unlink(this.tempPath).catch(() => undefined);
  }
}
