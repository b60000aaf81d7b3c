import type { FileHandle } from 'node:fs/promises';

/** Writes the whole chunk: write(2) may write less than asked (a signal, a full pipe). */
export async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  for (let off = 0; off < chunk.length;) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/**
 * Gathers small writes (one per record) in one reused buffer and hands it to `sink` when
 * full, waiting for it before refilling. Reusing the buffer matters: a fresh buffer per
 * flush is an ArrayBuffer per 256 KB that V8 frees only at its next full-enough GC, and on
 * 1M records those pile up to tens of MB. write() returns a promise only when it flushes, so
 * that a loop over millions of records pays for a promise only once per buffer.
 */
export class BufferedWriter {
  readonly #sink: (chunk: Buffer) => Promise<void>;
  readonly #buf: Buffer;
  #used = 0;

  constructor(sink: (chunk: Buffer) => Promise<void>, size = 256 * 1024) {
    this.#sink = sink;
    this.#buf = Buffer.allocUnsafe(size);
  }

  write(data: string | Buffer): void | Promise<void> {
    if (typeof data === 'string') {
      // At most 3 bytes per UTF-16 unit: checking that bound avoids measuring every string.
      if (this.#used + data.length * 3 <= this.#buf.length) {
        this.#used += this.#buf.write(data, this.#used);
        return;
      }
      return this.#writeSlow(Buffer.from(data), false);
    }
    if (this.#used + data.length <= this.#buf.length) {
      this.#used += data.copy(this.#buf, this.#used);
      return;
    }
    return this.#writeSlow(data, false);
  }

  /** A line of bytes followed by '\n'. */
  writeLine(line: Buffer): void | Promise<void> {
    if (this.#used + line.length + 1 <= this.#buf.length) {
      this.#used += line.copy(this.#buf, this.#used);
      this.#buf[this.#used++] = 10;
      return;
    }
    return this.#writeSlow(line, true);
  }

  async #writeSlow(data: Buffer, newline: boolean): Promise<void> {
    await this.flush();
    const size = data.length + (newline ? 1 : 0);
    if (size > this.#buf.length) {
      await this.#sink(data);
      if (newline) this.#buf[this.#used++] = 10;
      return;
    }
    this.#used += data.copy(this.#buf, 0);
    if (newline) this.#buf[this.#used++] = 10;
  }

  async flush(): Promise<void> {
    if (this.#used === 0) return;
    const used = this.#used;
    this.#used = 0;
    await this.#sink(this.#buf.subarray(0, used));
  }
}
