import { promises as fsp } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Row } from '../core/provider.js';
import type { SnapshotLoad } from '../core/sync/snapshot-target.js';
import type { Spool } from '../core/sync/writers.js';
import { tempPathFor } from '../core/fs/atomic-file.js';
import { cellText } from './cell-text.js';
import { quoteId, type TableLayout } from './sqlite-schema.js';

/**
 * SQLite's page cache while the table is built. Why this size: the key's index takes inserts
 * in arrival order, spread over the whole index, and the cache competes with the scan's own
 * memory (peak RSS); pages it misses come back from the OS's cache (journal off, no fsync).
 */
const LOAD_CACHE_KIB = 12 * 1024;
const BATCH = 64;

/** What prepareSqliteSnapshot takes over from a load that matches its spool. */
export interface LoadedTable {
  db: Database.Database;
  /** The private file the table was built in (the target's temp path). */
  work: string;
  layout: TableLayout;
  /** Rows in the table: rowids 1..rows, in spool order. */
  rows: number;
}

export interface SqliteLoad extends SnapshotLoad {
  /** The built table, if it holds exactly this spool's records; the caller owns it then. */
  take(spool: Spool): LoadedTable | undefined;
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
 * prepare() falls back to reading the spool.
 */
export async function startSqliteLoad(
  file: string,
  opts: { table: string; keyFields: readonly string[] },
): Promise<SqliteLoad | undefined> {
  const dest = path.resolve(file);
  if (
    await fsp.stat(dest).then(
      () => true,
      () => false,
    )
  )
    return undefined;
  const work = tempPathFor(dest);
  let db: Database.Database;
  try {
    await (await fsp.open(work, 'wx', 0o600)).close();
    db = new Database(work);
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma(`cache_size = -${LOAD_CACHE_KIB}`);
    db.exec('BEGIN IMMEDIATE');
  } catch {
    await fsp.unlink(work).catch(() => undefined);
    return undefined; // prepare() takes the usual way, and reports what is wrong
  }
  return new Loader(db, work, opts.table, opts.keyFields);
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

  constructor(db: Database.Database, work: string, table: string, keyFields: readonly string[]) {
    this.#db = db;
    this.#work = work;
    this.#table = quoteId(table);
    this.#keyFields = keyFields;
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

  take(spool: Spool): LoadedTable | undefined {
    if (this.#db && !this.#failed) {
      try {
        this.#flush();
      } catch {
        this.#failed = true;
      }
    }
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
    this.#db = undefined; // the caller's now: discard() leaves it alone
    const columnOfField = spool.fields.map((f) => this.#byName.get(f.toLowerCase())!);
    return { db, work: this.#work, layout: { table: this.#table, columns: [...this.#columns], columnOfField }, rows: this.#rows };
  }

  #discarded: Promise<void> | undefined;

  /** Idempotent; resolves once the temp file is gone (prepare's own build reuses its name). */
  discard(): Promise<void> {
    this.#discarded ??= this.#drop();
    return this.#discarded;
  }

  async #drop(): Promise<void> {
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
