import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { privateFileMode } from '../core/fs/durable-files.js';
import { writeError } from '../core/fs/atomic-file.js';
import { BufferedWriter, writeAll } from '../core/fs/buffered-writer.js';
import { ByteLineReader } from '../core/fs/byte-line-reader.js';
import type { ChunkEntry, KeyedLine, LineFacts, SortedCursor } from './sorted-lines.js';
import { MinHeap } from './min-heap.js';

// The run files of the external sort: one sorted chunk each, merged back by mergeCursor().
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

/** Writes one sorted chunk as a run file (the bytes of each line are in `arena`). */
export async function writeRun(file: string, entries: readonly ChunkEntry[], arena: Buffer, reportAs: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(file, 'wx', privateFileMode); // records: owner-only, like the output
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
export async function mergeCursor(files: readonly string[]): Promise<SortedCursor> {
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
