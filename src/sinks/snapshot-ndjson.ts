import path from 'node:path';
import { IdsyncError } from '../core/errors.js';
import type { Row } from '../core/provider.js';
import { AtomicFile, fileError, writeError } from '../core/fs/atomic-file.js';
import { defaultChunkBytes, defaultChunkLines, sortByKey, type KeyedLine, type SortedCursor, type SortedRuns } from './external-sort.js';
import { ByteLineReader } from '../core/fs/byte-line-reader.js';
import { promises as fsp } from 'node:fs';
import type { ChangeRecorder } from '../core/sync/changes.js';
import type { PreparedSnapshot, SnapshotPrepareOptions } from '../core/sync/snapshot-target.js';
import type { SnapshotResult, Spool } from '../core/sync/writers.js';

type Keying = Pick<Spool, 'keyOf' | 'isDeleted'>;

/** An NDJSON snapshot's mark: the file itself (a rename brings a new inode). */
export async function fileMark(file: string): Promise<string | undefined> {
  try {
    const st = await fsp.stat(file, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileError(err, file, 'read');
  }
}

/** Thrown inside the merge when the previous snapshot is not in key order (edited by hand). */
class UnsortedSnapshot extends Error {}

function describeLine(keying: Keying, line: Buffer, where: () => string): KeyedLine {
  let row: Row;
  try {
    row = JSON.parse(line.toString('utf8')) as Row;
  } catch {
    throw new IdsyncError(`${where()} is not a JSON record`);
  }
  return { key: keying.keyOf(row), deleted: keying.isDeleted(row), line };
}

/** The previous snapshot read in file order, checking that its keys strictly increase. */
async function openPrevious(file: string, keying: Keying): Promise<SortedCursor | undefined> {
  let lines: ByteLineReader;
  try {
    lines = await ByteLineReader.open(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // no previous snapshot: empty
    throw fileError(err, file, 'read');
  }
  let lineNo = 1;
  let current: KeyedLine | undefined;
  const load = (): void => {
    const previousKey = current?.key;
    current = lines.line === undefined ? undefined : describeLine(keying, lines.line, () => `${file} line ${lineNo}`);
    if (current && previousKey !== undefined && !(current.key > previousKey)) throw new UnsortedSnapshot();
  };
  try {
    load();
  } catch (err) {
    await lines.close();
    throw err;
  }
  return {
    get current() {
      return current;
    },
    next() {
      lineNo++;
      const read = lines.next();
      if (read) return read.then(load);
      load();
    },
    close: () => lines.close(),
  };
}

/** For a catch(): closes a cursor that will not reach mergeInto(), then rethrows. */
function closing(cursor: SortedCursor): (err: unknown) => Promise<never> {
  return async (err) => {
    await cursor.close();
    throw err;
  };
}

const parse = (line: Buffer): Row => JSON.parse(line.toString('utf8')) as Row;

/** How a merge treats the previous snapshot's records that this run did not send. */
interface MergeMode {
  /** A full pull: they are gone (the run is the whole current set). */
  full: boolean;
  changes: ChangeRecorder | undefined;
}

/**
 * Merge-join of this run (sorted, one line per key) with the previous snapshot (sorted):
 * a run's line replaces the previous one of its key, a tombstone removes it and is never
 * written, everything else of the previous snapshot is kept (incremental) or dropped (full).
 * Every stored record that changes is reported to `changes`; identical lines are no change.
 */
async function mergeInto(
  run: SortedCursor,
  prev: SortedCursor | undefined,
  out: AtomicFile,
  { full, changes }: MergeMode,
): Promise<SnapshotResult> {
  let total = 0;
  let upserted = 0;
  let deleted = 0;
  let steps = 0;
  try {
    for (;;) {
      const r = run.current;
      const p = prev?.current;
      let write: Buffer | undefined;
      let nextRun = false;
      let nextPrev = false;
      if (p?.deleted) {
        nextPrev = true; // a tombstone left in a hand-edited snapshot is not a record
      } else if (r && (!p || r.key < p.key)) {
        if (!r.deleted) {
          write = r.line;
          changes?.record(r.key, null, parse(r.line));
        }
        nextRun = true;
      } else if (p && (!r || p.key < r.key)) {
        if (full) {
          deleted++;
          changes?.record(p.key, parse(p.line), null);
        } else write = p.line;
        nextPrev = true;
      } else if (r && p) {
        if (r.deleted) {
          deleted++;
          changes?.record(p.key, parse(p.line), null);
        } else {
          write = r.line;
          if (changes && !r.line.equals(p.line)) changes.record(r.key, parse(p.line), parse(r.line));
        }
        nextRun = nextPrev = true;
      } else break;
      if (write) {
        total++;
        if (nextRun) upserted++; // the line written is this run's
        // Each step returns a promise only when it must wait (I/O), keeping the loop synchronous.
        const wait = out.writeLine(write);
        if (wait) await wait;
      }
      if (nextRun) {
        const wait = run.next();
        if (wait) await wait;
      }
      if (nextPrev) {
        const wait = prev!.next();
        if (wait) await wait;
      }
      if (changes && (++steps & 4095) === 0) await changes.flush?.();
    }
    await changes?.flush?.();
    return { total, upserted, deleted };
  } finally {
    await run.close();
    await prev?.close();
  }
}

/**
 * Writes the new NDJSON snapshot next to `file`, sorted by key so that the next run can merge
 * into it as a stream: this run's spool goes through an external sort (bounded memory, last
 * occurrence per key), then a merge-join with the previous snapshot (incremental) or alone (full).
 * Lines are the records' original JSON text. commit() renames it into place.
 */
export async function prepareNdjsonSnapshot(
  spool: Spool,
  file: string,
  opts: Omit<SnapshotPrepareOptions, 'runId' | 'runAt'>,
): Promise<PreparedSnapshot> {
  const dest = path.resolve(file);
  const sortOpts = {
    chunkLines: opts.sortChunkLines ?? defaultChunkLines,
    chunkBytes: opts.sortChunkBytes ?? defaultChunkBytes,
    nextTo: dest,
  };
  // Created first so that an unwritable folder fails before any sorting.
  let out = await AtomicFile.create(dest);
  let runs: SortedRuns | undefined;
  let previousSorted: SortedRuns | undefined;
  try {
    let n = 0;
    const spoolWhere = (): string => `${spool.path} line ${n}`;
    runs = await sortByKey(spool.path, (line) => (n++, describeLine(spool, line, spoolWhere)), sortOpts);
    let result: SnapshotResult;
    const mode: MergeMode = { full: opts.mode === 'full', changes: opts.changes };
    // A full pull without a change feed never needs the previous snapshot.
    const readPrevious = opts.mode === 'incremental' || opts.changes !== undefined;
    try {
      const runCursor = await runs.cursor();
      const prev = readPrevious ? await openPrevious(dest, spool).catch(closing(runCursor)) : undefined;
      result = await mergeInto(runCursor, prev, out, mode);
    } catch (err) {
      if (!(err instanceof UnsortedSnapshot)) throw err;
      // Someone edited the snapshot: sort it the same way rather than refuse to run.
      await out.abort();
      out = await AtomicFile.create(dest);
      let m = 0;
      const where = (): string => `${dest} line ${m}`;
      previousSorted = await sortByKey(dest, (line) => (m++, describeLine(spool, line, where)), sortOpts);
      const runCursor = await runs.cursor();
      result = await mergeInto(runCursor, await previousSorted.cursor().catch(closing(runCursor)), out, mode);
    }
    await out.finish();
    const done = out;
    return {
      result,
      markAfterCommit: (await fileMark(out.tempPath)) ?? '',
      commit: () => done.commit(),
      abort: () => done.abort(),
    };
  } catch (err) {
    await out.abort();
    throw writeError(err, dest);
  } finally {
    await runs?.dispose();
    await previousSorted?.dispose();
  }
}
