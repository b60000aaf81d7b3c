import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * Reads a file line by line as bytes (no UTF-8 decoding), into two buffers it reuses in turn.
 * `line` is a view into them: it stays valid until the second read after it, which is enough
 * for a merge that writes the current line before asking for the next one. Reusing buffers
 * keeps a merge of many files from allocating (and leaving to the GC) one buffer per read.
 * A trailing '\r' is dropped and empty lines are skipped, as in readLines().
 */
export class ByteLineReader {
  line: Buffer | undefined;
  readonly #fh: FileHandle;
  #bufs: [Buffer, Buffer];
  #which = 0;
  /** The valid bytes of the current buffer, and the scan position in them. */
  #view: Buffer = Buffer.alloc(0);
  #pos = 0;
  #eof = false;

  private constructor(fh: FileHandle, size: number) {
    this.#fh = fh;
    this.#bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  }

  /** Opens a file positioned on its first line. */
  static async open(file: string, bufferSize = 256 * 1024): Promise<ByteLineReader> {
    const reader = new ByteLineReader(await fsp.open(file, 'r'), bufferSize);
    try {
      const first = reader.next();
      if (first) await first;
    } catch (err) {
      await reader.close();
      throw err;
    }
    return reader;
  }

  /** Moves to the next line; returns a promise only when it has to read. */
  next(): void | Promise<void> {
    for (;;) {
      const view = this.#view;
      const nl = view.indexOf(10, this.#pos);
      if (nl === -1) return this.#eof ? this.#finish() : this.#refill();
      const start = this.#pos;
      this.#pos = nl + 1;
      const end = nl > start && view[nl - 1] === 13 ? nl - 1 : nl;
      if (end > start) {
        this.line = view.subarray(start, end);
        return;
      }
    }
  }

  /** The last line may lack its '\n'. */
  #finish(): void {
    const rest = this.#view.subarray(this.#pos);
    this.#pos = this.#view.length;
    const end = rest.length > 0 && rest[rest.length - 1] === 13 ? rest.length - 1 : rest.length;
    this.line = end > 0 ? rest.subarray(0, end) : undefined;
  }

  async #refill(): Promise<void> {
    const rest = this.#view.subarray(this.#pos);
    this.#which ^= 1;
    let target = this.#bufs[this.#which] as Buffer;
    if (rest.length * 2 > target.length) {
      // A line longer than half the buffer: give this side room for it and more.
      target = Buffer.allocUnsafe(Math.max(target.length, rest.length) * 2);
      this.#bufs[this.#which] = target;
    }
    rest.copy(target, 0);
    const { bytesRead } = await this.#fh.read(target, rest.length, target.length - rest.length, null);
    if (bytesRead === 0) this.#eof = true;
    this.#view = target.subarray(0, rest.length + bytesRead);
    this.#pos = 0;
    const more = this.next();
    if (more) await more;
  }

  /** Closes the file. Never throws. */
  async close(): Promise<void> {
    this.line = undefined;
    await this.#fh.close().catch(() => undefined);
  }
}
