import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tempPathFor, writeError } from './atomic-file.js';
import { BufferedWriter, writeAll } from './buffered-writer.js';
import { ByteLineReader } from './byte-line-reader.js';
import { MinHeap } from './min-heap.js';

/** What the sort needs to know about a line, computed once (the caller parses it). */
export interface LineFacts {
  key: string;
  deleted: boolean;
}

/** One record line (its original bytes) with its key and whether it is a tombstone. */
export interface KeyedLine extends LineFacts {
  /** Valid until the cursor has moved twice more: write it before moving on. */
  line: Buffer;
}

/** KeyedLines in ascending key order, one per key; next() returns a promise only to read. */
export interface SortedCursor {
  readonly current: KeyedLine | undefined;
  next(): void | Promise<void>;
  close(): Promise<void>;
}

/** Lines sorted by key, last occurrence per key; cursor() may be called more than once. */
export interface SortedRuns {
  cursor(): Promise<SortedCursor>;
  /** Removes the run files. Never throws. */
  dispose(): Promise<void>;
}

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

/** A line held by the sort: its facts and where its bytes sit in the chunk's arena. */
interface ChunkEntry extends LineFacts {
  start: number;
  end: number;
}

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

// A run line is `<0|1><key as JSON><TAB><original line>`: JSON escapes every control character,
// so the first TAB ends the key, and the original bytes follow untouched.
const tab = 9;

function runLineHead(e: LineFacts): string {
  return (e.deleted ? '1' : '0') + JSON.stringify(e.key) + '\t';
}

function decodeRunLine(buf: Buffer): KeyedLine {
  const end = buf.indexOf(tab, 1);
  const enc = buf.toString('utf8', 1, end);
  const key = enc.includes('\\') ? (JSON.parse(enc) as string) : enc.slice(1, -1);
  return { key, deleted: buf[0] === 0x31, line: buf.subarray(end + 1) };
}

async function writeRun(file: string, entries: readonly ChunkEntry[], arena: Buffer, reportAs: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(file, 'wx');
    const handle = fh;
    const out = new BufferedWriter((chunk) => writeAll(handle, chunk));
    for (const e of entries) {
      const head = out.write(runLineHead(e));
      if (head) await head;
      const line = out.writeLine(arena.subarray(e.start, e.end));
      if (line) await line;
    }
    await out.flush();
  } catch (err) {
    throw writeError(err, reportAs);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * External sort of a file of lines: chunks of bounded size are sorted in memory and written to
 * run files next to the result; a k-way merge of the runs then yields one line per key in key
 * order, the last occurrence winning. When everything fits in one chunk no file is written.
 */
export async function sortByKey(
  file: string,
  describe: (line: Buffer) => LineFacts,
  opts: SortOptions,
): Promise<SortedRuns> {
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

/**
 * Read buffer size of each run during the merge: all runs are open at once, so their buffers
 * (two per reader) share a budget of about 8 MB.
 */
function runReadBytes(runs: number): number {
  return Math.min(1 << 20, Math.max(32 * 1024, Math.floor((4 << 20) / runs)));
}

interface Run {
  index: number;
  reader: ByteLineReader;
  head: KeyedLine;
}

/** Heap order: key, then run number, so that among equal keys the newest run comes out last. */
function before(a: Run, b: Run): boolean {
  return a.head.key < b.head.key || (a.head.key === b.head.key && a.index < b.index);
}

/** The k-way merge of sorted, per-run unique files, keeping the newest run's line per key. */
async function mergeCursor(files: readonly string[]): Promise<SortedCursor> {
  const heap = new MinHeap<Run>(before);
  const open: ByteLineReader[] = [];
  const reinsert = (run: Run): void => {
    if (run.reader.line === undefined) return;
    run.head = decodeRunLine(run.reader.line);
    heap.push(run);
  };
  try {
    const readBytes = runReadBytes(files.length);
    for (const [index, file] of files.entries()) {
      const reader = await ByteLineReader.open(file, readBytes);
      open.push(reader);
      if (reader.line !== undefined) heap.push({ index, reader, head: decodeRunLine(reader.line) });
    }
  } catch (err) {
    await Promise.all(open.map((r) => r.close()));
    throw err;
  }
  let current: KeyedLine | undefined;
  const advance = (): void | Promise<void> => {
    const first = heap.pop();
    current = first?.head;
    if (!first || !current) return;
    const popped = [first];
    // Equal keys leave the heap in run order, so the last one popped is the newest arrival.
    while (heap.size > 0 && heap.peek()!.head.key === current.key) {
      const run = heap.pop()!;
      current = run.head;
      popped.push(run);
    }
    let waits: Promise<void>[] | undefined;
    for (const run of popped) {
      const read = run.reader.next();
      if (read) (waits ??= []).push(read.then(() => reinsert(run)));
      else reinsert(run);
    }
    if (waits) return Promise.all(waits).then(() => undefined);
  };
  const ready = advance();
  if (ready) await ready;
  return {
    get current() {
      return current;
    },
    next: advance,
    async close() {
      await Promise.all(open.map((r) => r.close()));
    },
  };
}
