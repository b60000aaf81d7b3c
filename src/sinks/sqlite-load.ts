import { closeSync, fsyncSync, openSync, promises as fsp, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Row } from '../core/provider.js';
import { EventRecorder } from '../core/sync/changes.js';
import type { SnapshotLoad, SnapshotLoadOptions } from '../core/sync/snapshot-target.js';
import type { Spool } from '../core/sync/writers.js';
import { tempPathFor } from '../core/fs/atomic-file.js';
import { cellText } from './cell-text.js';
import { quoteId, tableRecord, type TableLayout } from './sqlite-schema.js';
import { changeTableInserts } from './sqlite-runs.js';

/**
 * SQLite's page cache while the table is built. Why this size: the key's index takes inserts
 * in arrival order, spread over the whole index, and the cache competes with the scan's own
 * memory (peak RSS); pages it misses come back from the OS's cache (journal off, no fsync).
 * Measured at a million records: 4 MB instead of 12 MB took 15 MB off the peak (more with the
 * events recorded during the load) for about 2% more time.
 */
const LOAD_CACHE_KIB = 4 * 1024;
const BATCH = 64;

/** What prepareSqliteSnapshot takes over from a load that matches its spool. */
export interface LoadedTable {
  db: Database.Database;
  /** The private file the table was built in (the target's temp path). */
  work: string;
  layout: TableLayout;
  /** Rows in the table: rowids 1..rows, in spool order. */
  rows: number;
  /** With SnapshotLoadOptions.changes: the run's insert events, one per row, complete on disk. */
  events?: { file: string; count: number };
}

export interface SqliteLoad extends SnapshotLoad {
  /**
   * The built table, if it holds exactly this spool's records, and recorded the run's events
   * if and only if `events` (a run with a change feed); the caller owns it then.
   */
  take(spool: Spool, want: { events: boolean }): Promise<LoadedTable | undefined>;
}

/**
 * Builds the SQLite snapshot of a full pull while its pages arrive, so that reading back and
 * parsing the spool (a second JSON.parse of every record) is saved and the inserts overlap
 * the network waits. Only for a target that does not exist yet: the table is built in the
 * target's private temp file, which nobody sees or writes before prepare() renames it into
 * place, so the rows can go in as they come, in one transaction with no journal.
 *
 * The table is the one syncTableLayout() would make from the finished spool: the key column
 * first, named after the field the first record's key came from, then every field in first-seen
 * order, sharing a column with a field that differs only in case. Anything unusual (a repeated
 * key, a key field other than the spool's, a resumed spool, an error) leaves it unusable, and
 * prepare() falls back to reading the spool. With `opts.changes`, the run's events (every row
 * an insert) are recorded as the rows go in (LoadEvents).
 */
export async function startSqliteLoad(file: string, opts: SnapshotLoadOptions): Promise<SqliteLoad | undefined> {
  const dest = path.resolve(file);
  if (
    await fsp.stat(dest).then(
      () => true,
      () => false,
    )
  )
    return undefined;
  const work = tempPathFor(dest);
  let db: Database.Database | undefined;
  let events: LoadEvents | undefined;
  try {
    await (await fsp.open(work, 'wx', 0o600)).close();
    db = new Database(work);
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma(`cache_size = -${LOAD_CACHE_KIB}`);
    db.exec('BEGIN IMMEDIATE');
    if (opts.changes) events = new LoadEvents(db, opts.table, opts.changes);
  } catch {
    await events?.drop();
    db?.close();
    await fsp.unlink(work).catch(() => undefined);
    return undefined; // prepare() takes the usual way, and reports what is wrong
  }
  return new Loader(db, work, opts.table, opts.keyFields, events);
}

/** Events lines are gathered in a buffer this big before each write to the file. */
const EVENTS_BUFFER = 1 << 20;

/**
 * A first run's insert events, recorded as the rows are loaded: the line goes to the run's
 * events file, the row into `<table>_changes` in the load's transaction. Why during the load:
 * recorded afterwards, the million rows were read back from the table (1.4 s, measured) only
 * to be stringified as they had just been. Written synchronously because add() runs inside
 * the scan's loop; a 1 MB write to the page cache takes well under a millisecond.
 */
class LoadEvents {
  readonly file: string;
  readonly #fd: number;
  readonly #recorder: EventRecorder;
  readonly #inserts: ReturnType<typeof changeTableInserts>;
  readonly #buf = Buffer.allocUnsafe(EVENTS_BUFFER);
  #used = 0;

  constructor(db: Database.Database, table: string, opts: NonNullable<SnapshotLoadOptions['changes']>) {
    this.file = opts.file;
    this.#inserts = changeTableInserts(db, table, opts.runId);
    this.#fd = openSync(opts.file, 'w', 0o600);
    this.#recorder = new EventRecorder(opts.runId, opts.runAt, opts.isActive, (line) => this.#write(line));
  }

  get count(): number {
    return this.#recorder.count;
  }

  /** The row whose values start at `values[from]`, as an insert. */
  add(key: string, columns: readonly string[], values: readonly (string | null)[], from: number): void {
    const after = tableRecord(columns, values, from);
    const json = JSON.stringify(after);
    const { seq, changedJson } = this.#recorder.recordInsert(key, after, json);
    this.#inserts.add(seq, key, json, changedJson);
    // Into the buffer at once: a line kept for a later flush outlived its young generation.
    this.#recorder.flushSync();
  }

  #write(line: string): void {
    if (this.#used + line.length * 3 > EVENTS_BUFFER) this.#flush();
    if (line.length * 3 > EVENTS_BUFFER) this.#writeAll(Buffer.from(line));
    else this.#used += this.#buf.write(line, this.#used);
  }

  #flush(): void {
    this.#writeAll(this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }

  #writeAll(chunk: Buffer): void {
    for (let off = 0; off < chunk.length;) off += writeSync(this.#fd, chunk, off, chunk.length - off);
  }

  /** Everything recorded, inserted and on disk (fsync'd); then the file is the run's events. */
  finish(): void {
    this.#recorder.flushSync();
    this.#inserts.flush();
    this.#flush();
    fsyncSync(this.#fd);
    closeSync(this.#fd);
  }

  /** Closes and removes the file (a failed load, or one prepare() did not use). Never throws. */
  async drop(): Promise<void> {
    try {
      closeSync(this.#fd);
    } catch {
      // closed by finish() already
    }
    await fsp.unlink(this.file).catch(() => undefined);
  }
}

class Loader implements SqliteLoad {
  #db: Database.Database | undefined;
  readonly #work: string;
  readonly #table: string;
  readonly #keyFields: readonly string[];
  #failed = false;
  #rows = 0;
  /** Column names (columns[0] the key) and, by lower-cased name, their index. */
  readonly #columns: string[] = [];
  readonly #byName = new Map<string, number>();
  #insert: Database.Statement | undefined;
  /** BATCH rows in one INSERT: a statement call per record cost as much as SQLite's own work. */
  #insertBatch: Database.Statement | undefined;
  /** The values of the rows not yet inserted, row after row. */
  #pending: (string | null)[] = [];
  #pendingRows = 0;
  /** The last record's field names and their columns: most records share them (see SpoolWriter). */
  #shape: string[] = [];
  #shapeColumns: number[] = [];
  readonly #events: LoadEvents | undefined;

  constructor(db: Database.Database, work: string, table: string, keyFields: readonly string[], events: LoadEvents | undefined) {
    this.#db = db;
    this.#work = work;
    this.#table = quoteId(table);
    this.#keyFields = keyFields;
    this.#events = events;
  }

  add = (row: Row, key: string): void => {
    if (this.#failed || !this.#db) return;
    try {
      if (this.#rows === 0 && this.#columns.length === 0) this.#create(row);
      const shape = this.#shape;
      let i = 0;
      let same = true;
      for (const f in row) {
        if (f !== shape[i]) {
          same = false;
          break;
        }
        i += 1;
      }
      if (!same || i !== shape.length) this.#learnShape(row);
      const cols = this.#shapeColumns;
      const n = this.#columns.length;
      const values = this.#pending;
      const base = this.#pendingRows * n;
      for (let c = 0; c < n; c++) values[base + c] = null;
      let j = 0;
      for (const f in row) values[base + cols[j++]!] = cellText(row[f]) ?? null;
      values[base] = key;
      this.#events?.add(key, this.#columns, values, base);
      this.#rows += 1;
      if (++this.#pendingRows === BATCH) {
        this.#insertBatch!.run(values);
        this.#pendingRows = 0;
      }
    } catch {
      // A repeated key (the platform moved rows during the scan), a full disk: prepare()
      // redoes the work from the spool and reports what is still wrong.
      this.#failed = true;
      void this.discard();
    }
  };

  #create(row: Row): void {
    const keyField = this.#keyFields.find((f) => {
      const v = row[f];
      return typeof v === 'string' ? v !== '' : typeof v === 'number';
    });
    if (keyField === undefined) throw new Error('no key');
    this.#db!.exec(`CREATE TABLE ${this.#table} (${quoteId(keyField)} TEXT PRIMARY KEY NOT NULL)`);
    this.#columns.push(keyField);
    this.#byName.set(keyField.toLowerCase(), 0);
    this.#prepareInsert();
  }

  /** Inserts the rows still pending, one statement each (fewer than BATCH). */
  #flush(): void {
    const n = this.#columns.length;
    for (let r = 0; r < this.#pendingRows; r++) this.#insert!.run(this.#pending.slice(r * n, (r + 1) * n));
    this.#pendingRows = 0;
  }

  #learnShape(row: Row): void {
    const shape: string[] = [];
    const columns: number[] = [];
    let added = false;
    for (const f in row) {
      let c = this.#byName.get(f.toLowerCase());
      if (c === undefined) {
        if (!added) this.#flush(); // pending rows have the old number of columns
        this.#db!.exec(`ALTER TABLE ${this.#table} ADD COLUMN ${quoteId(f)} TEXT`);
        c = this.#columns.push(f) - 1;
        this.#byName.set(f.toLowerCase(), c);
        added = true;
      }
      shape.push(f);
      columns.push(c);
    }
    if (added) this.#prepareInsert();
    this.#shape = shape;
    this.#shapeColumns = columns;
  }

  #prepareInsert(): void {
    const names = this.#columns.map(quoteId);
    // No ON CONFLICT: a repeated key fails the load, and the spool's dedupe takes over.
    const row = `(${names.map(() => '?').join(', ')})`;
    const into = `INSERT INTO ${this.#table} (${names.join(', ')}) VALUES `;
    this.#insert = this.#db!.prepare(into + row);
    this.#insertBatch = this.#db!.prepare(into + new Array<string>(BATCH).fill(row).join(', '));
    this.#pending = new Array<string | null>(BATCH * names.length).fill(null);
  }

  take(spool: Spool, want: { events: boolean }): Promise<LoadedTable | undefined> {
    if (this.#db && !this.#failed) {
      try {
        this.#flush();
      } catch {
        this.#failed = true;
      }
    }
    return Promise.resolve(want.events === (this.#events !== undefined) ? this.#take(spool) : undefined);
  }

  #take(spool: Spool): LoadedTable | undefined {
    const db = this.#db;
    const usable =
      db !== undefined &&
      !this.#failed &&
      this.#rows > 0 &&
      this.#rows === spool.count &&
      !spool.hasDuplicateKeys &&
      this.#columns[0] === spool.keyField &&
      spool.fields.every((f) => this.#byName.has(f.toLowerCase()));
    if (!usable) return undefined;
    try {
      this.#events?.finish();
    } catch {
      return undefined; // prepare() records the events from the spool, and reports what is wrong
    }
    this.#db = undefined; // the caller's now: discard() leaves it alone
    const columnOfField = spool.fields.map((f) => this.#byName.get(f.toLowerCase())!);
    const layout = { table: this.#table, columns: [...this.#columns], columnOfField };
    const events = this.#events ? { file: this.#events.file, count: this.#events.count } : undefined;
    return { db, work: this.#work, layout, rows: this.#rows, ...(events ? { events } : {}) };
  }

  #discarded: Promise<void> | undefined;

  /**
   * Idempotent; resolves once the temp file is gone (prepare's own build reuses its name), and
   * the events file unless the run moved it into place (commitRun adopts it).
   */
  discard(): Promise<void> {
    this.#discarded ??= this.#drop();
    return this.#discarded;
  }

  async #drop(): Promise<void> {
    await this.#events?.drop();
    const db = this.#db;
    if (!db) return;
    this.#db = undefined;
    try {
      db.close();
    } catch {
      // closing a connection that failed mid-statement; the file goes next anyway
    }
    await Promise.all(['', '-journal', '-wal', '-shm'].map((s) => fsp.unlink(this.#work + s).catch(() => undefined)));
  }
}
