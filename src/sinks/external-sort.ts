import { promises as fsp } from 'node:fs';
import { tempPathFor } from '../core/fs/atomic-file.js';
import { ByteLineReader } from '../core/fs/byte-line-reader.js';
import { mergeCursor, writeRun } from './run-files.js';
import type { ChunkEntry, KeyedLine, LineFacts, SortedCursor, SortedRuns } from './sorted-lines.js';

export type { KeyedLine, LineFacts, SortedCursor, SortedRuns } from './sorted-lines.js';

export interface SortOptions {
  /** Lines per run: their keys and bytes are what the sort holds in memory. */
  chunkLines: number;
  /** Bytes of lines per run, for records much larger than usual. */
  chunkBytes: number;
  /** The file the result is for: run files go next to it (same disk, room for it). */
  nextTo: string;
}

export const defaultChunkLines = 50_000;
export const defaultChunkBytes = 16 * 1024 * 1024;

/** JS string order (UTF-16 code units), the order of the snapshot file. */
const byKey = (a: LineFacts, b: LineFacts): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Sorts a chunk by key, keeping the last arrival of each key. Array.prototype.sort is stable
 * (ES2019), so among equal keys arrival order survives and the last one is the newest.
 */
function sortUnique<T extends LineFacts>(chunk: T[]): T[] {
  chunk.sort(byKey);
  return chunk.filter((e, i) => chunk[i + 1]?.key !== e.key);
}

/**
 * The bytes of one chunk's lines, copied end to end into one buffer reused by every chunk:
 * the read buffers they came from are free at once and no per-line Buffer outlives its read.
 */
class Arena {
  buf: Buffer;
  used = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
    this.buf = Buffer.allocUnsafe(Math.min(max, 1 << 20));
  }

  /** Whether a line of this size fits without growing past the limit. */
  fits(size: number): boolean {
    return this.used + size <= Math.max(this.#max, this.buf.length);
  }

  add(line: Buffer): [start: number, end: number] {
    if (this.used + line.length > this.buf.length) {
      // Doubling up to the limit (amortised copies); one line longer than that gets its own size.
      const size = Math.max(this.used + line.length, Math.min(this.#max, this.buf.length * 2));
      const grown = Buffer.allocUnsafe(size);
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    const start = this.used;
    this.used += line.copy(this.buf, start);
    return [start, this.used];
  }
}

/**
 * External sort of a file of lines: chunks of bounded size are sorted in memory and written to
 * run files next to the result; a k-way merge of the runs then yields one line per key in key
 * order, the last occurrence winning. When everything fits in one chunk no file is written.
 */
export async function sortByKey(file: string, describe: (line: Buffer) => LineFacts, opts: SortOptions): Promise<SortedRuns> {
  const runFiles: string[] = [];
  const dispose = async (): Promise<void> => {
    await Promise.all(runFiles.map((f) => fsp.unlink(f).catch(() => undefined)));
  };
  let chunk: ChunkEntry[] = [];
  const arena = new Arena(opts.chunkBytes);
  const spill = async (): Promise<void> => {
    const runFile = tempPathFor(opts.nextTo, `run${runFiles.length}`);
    runFiles.push(runFile);
    const sorted = sortUnique(chunk);
    chunk = [];
    await writeRun(runFile, sorted, arena.buf, opts.nextTo);
    arena.used = 0;
  };
  let input: ByteLineReader | undefined;
  try {
    input = await ByteLineReader.open(file);
    for (let line = input.line; line !== undefined; line = input.line) {
      const facts = describe(line);
      if (chunk.length > 0 && (chunk.length >= opts.chunkLines || !arena.fits(line.length))) await spill();
      const [start, end] = arena.add(line);
      chunk.push({ key: facts.key, deleted: facts.deleted, start, end });
      const read = input.next();
      if (read) await read;
    }
    if (runFiles.length === 0) {
      const sorted = sortUnique(chunk);
      return { cursor: async () => arrayCursor(sorted, arena.buf), dispose };
    }
    if (chunk.length > 0) await spill();
    // The runs are on disk; the closures returned below share this scope, so let go explicitly.
    arena.buf = Buffer.alloc(0);
  } catch (err) {
    await dispose();
    throw err;
  } finally {
    await input?.close();
  }
  return { cursor: () => mergeCursor(runFiles), dispose };
}

function arrayCursor(entries: readonly ChunkEntry[], arena: Buffer): SortedCursor {
  let i = -1;
  let current: KeyedLine | undefined;
  const next = (): void => {
    const e = entries[++i];
    current = e && { key: e.key, deleted: e.deleted, line: arena.subarray(e.start, e.end) };
  };
  next();
  return {
    get current() {
      return current;
    },
    next,
    async close() {},
  };
}
