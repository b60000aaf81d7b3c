import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ExitCode, IdsyncError } from '../core/errors.js';
import { newRunId, type ChangeRecorder } from '../core/sync/changes.js';
import type { PreparedSnapshot, SnapshotPrepareOptions } from '../core/sync/snapshot-target.js';
import type { Row } from '../core/provider.js';
import { fileError, syncFolder, tempPathFor } from '../core/fs/atomic-file.js';
import { cellText } from './cell-text.js';
import { ensureUpdateIndex, quoteId, syncTableLayout, tableRecord, type TableLayout } from './sqlite-schema.js';
import { changeTableWriter, readLastRun, writeLastRun } from './sqlite-runs.js';
import type { SqliteLoad } from './sqlite-load.js';
export { startSqliteLoad } from './sqlite-load.js';
import { uniqueLineBatches } from '../core/sync/spool-reader.js';
import type { SnapshotResult, Spool } from '../core/sync/writers.js';

const sqliteReasons: Readonly<Record<string, string>> = {
  SQLITE_CANTOPEN: 'cannot open the database file',
  SQLITE_READONLY: 'the database is read-only',
  SQLITE_FULL: 'no space left on the device',
  SQLITE_BUSY: 'the database is locked by another program',
  SQLITE_LOCKED: 'the database is locked by another program',
  SQLITE_NOTADB: 'not an SQLite database',
  SQLITE_CORRUPT: 'the database is corrupt',
  SQLITE_IOERR: 'input/output error',
  SQLITE_PERM: 'permission denied',
};

export function sqliteError(err: unknown, file: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return fileError(err, file);
  const reason = sqliteReasons[code] ?? sqliteReasons[code.replace(/_[A-Z_]+$/, '')] ?? code;
  return new IdsyncError(`cannot write ${file}: ${reason}`, ExitCode.failure, { cause: err });
}

/**
 * Checks the target with the file system first, whose reasons ("permission denied", "folder
 * ... does not exist") say more than SQLite's "unable to open database file". Returns whether
 * the database exists.
 */
async function claimTarget(file: string): Promise<boolean> {
  try {
    const st = await fsp.stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (st?.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    // WAL mode creates -wal and -shm files next to the database: the folder must be writable too.
    await fsp.access(path.dirname(file), constants.W_OK);
    if (st) await fsp.access(file, constants.R_OK | constants.W_OK);
    return st !== undefined;
  } catch (err) {
    throw fileError(err, file);
  }
}

function sameValues(a: readonly (string | null)[], b: readonly (string | null)[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface MergeCounts {
  upserted: number;
  inserted: number;
  deleted: number;
}

/**
 * Upserts this run's records (one per key) and applies its tombstones; a full pull then removes
 * the keys it did not send. A record identical to the stored row is neither written nor reported.
 */
async function mergeRun(
  db: Database.Database,
  spool: Spool,
  layout: TableLayout,
  opts: {
    full: boolean;
    existed: boolean;
    changes: ChangeRecorder | undefined;
    onEvent: ((e: NonNullable<ReturnType<ChangeRecorder['record']>>) => void) | undefined;
  },
): Promise<MergeCounts> {
  const { table, columns, columnOfField } = layout;
  const key = quoteId(columns[0]!);
  const names = columns.map(quoteId);
  const updates = names.slice(1).map((c) => `${c} = excluded.${c}`);
  const upsert = db.prepare(
    `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ` +
      `ON CONFLICT(${key}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
  );
  const remove = db.prepare(`DELETE FROM ${table} WHERE ${key} = ?`);
  // A database this run creates is empty: nothing to look up.
  const selectOld = opts.existed ? db.prepare(`SELECT ${names.join(', ')} FROM ${table} WHERE ${key} = ?`).raw() : undefined;
  const trackSeen = opts.full && opts.existed;
  if (trackSeen)
    db.exec('CREATE TEMP TABLE IF NOT EXISTS idsync_seen (k TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID; DELETE FROM temp.idsync_seen');
  const seen = trackSeen ? db.prepare('INSERT OR IGNORE INTO temp.idsync_seen (k) VALUES (?)') : undefined;
  const report = (k: string, before: Row | null, after: Row | null): void => {
    const event = opts.changes?.record(k, before, after);
    if (event) opts.onEvent?.(event);
  };
  const fields = spool.fields;
  const counts: MergeCounts = { upserted: 0, inserted: 0, deleted: 0 };
  for await (const batch of uniqueLineBatches(spool)) {
    for (const line of batch) {
      const row = JSON.parse(line) as Row;
      const k = spool.keyOf(row);
      seen?.run(k);
      const old = selectOld?.get(k) as (string | null)[] | undefined;
      if (spool.isDeleted(row)) {
        if (old) {
          remove.run(k);
          counts.deleted++;
          report(k, tableRecord(columns, old), null);
        }
        continue;
      }
      // Every column is bound: a field this record lacks becomes NULL, not the old value.
      const values: (string | null)[] = new Array<string | null>(columns.length).fill(null);
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        if (Object.hasOwn(row, f)) values[columnOfField[i]!] = cellText(row[f]) ?? null;
      }
      values[0] = k;
      if (old && sameValues(old, values)) continue;
      upsert.run(values);
      counts.upserted++;
      if (!old) counts.inserted++;
      if (opts.changes) report(k, old ? tableRecord(columns, old) : null, tableRecord(columns, values));
    }
    await opts.changes?.flush?.();
  }
  if (trackSeen) counts.deleted += await removeUnseen(db, layout, report, opts.changes);
  return counts;
}

/** A full pull's last step: the keys the platform no longer sent, in key order, in slices. */
async function removeUnseen(
  db: Database.Database,
  layout: TableLayout,
  report: (k: string, before: Row | null, after: Row | null) => void,
  changes: ChangeRecorder | undefined,
): Promise<number> {
  const { table, columns } = layout;
  const key = quoteId(columns[0]!);
  const unseen = `${key} NOT IN (SELECT k FROM temp.idsync_seen)`;
  if (!changes) return db.prepare(`DELETE FROM ${table} WHERE ${unseen}`).run().changes;
  // better-sqlite3 cannot write while a statement is being iterated: read a slice, then act on it.
  const slice = db
    .prepare(`SELECT ${columns.map(quoteId).join(', ')} FROM ${table} WHERE ${key} > ? AND ${unseen} ORDER BY ${key} LIMIT 2000`)
    .raw();
  const remove = db.prepare(`DELETE FROM ${table} WHERE ${key} = ?`);
  let after = '';
  let removed = 0;
  for (;;) {
    const rows = slice.all(after) as (string | null)[][];
    if (rows.length === 0) return removed;
    for (const old of rows) {
      const k = old[0]!;
      remove.run(k);
      report(k, tableRecord(columns, old), null);
      removed++;
    }
    after = rows[rows.length - 1]![0]!;
    await changes.flush?.();
  }
}

/**
 * Writes this run into the SQLite snapshot inside one transaction that prepare leaves open:
 * commit() COMMITs, abort() rolls back. An existing database is merged in place (in WAL mode a
 * reader keeps seeing the previous content meanwhile); a new one is built privately next to the
 * target and renamed into place on commit, so that nobody sees, or gets to write into, a
 * half-built file. A process killed before COMMIT leaves the target as it was.
 */
export async function prepareSqliteSnapshot(
  spool: Spool,
  file: string,
  opts: Omit<SnapshotPrepareOptions, 'runId' | 'runAt'> & Partial<Pick<SnapshotPrepareOptions, 'runId' | 'runAt'>>,
): Promise<PreparedSnapshot> {
  const dest = path.resolve(file);
  const existed = await claimTarget(dest);
  // The table built during the scan, when it holds exactly this run (else built again below).
  const loaded =
    !existed && opts.load && 'take' in opts.load
      ? await (opts.load as SqliteLoad).take(spool, { events: opts.changes !== undefined })
      : undefined;
  if (opts.load && !loaded) await opts.load.discard();
  const work = existed ? dest : (loaded?.work ?? tempPathFor(dest));
  const runAt = opts.runAt ?? new Date().toISOString();
  const runId = opts.runId ?? newRunId(new Date(runAt));
  let db: Database.Database | undefined = loaded?.db;
  let committed = false;
  const abort = async (): Promise<void> => {
    if (committed) return; // the engine aborts every write when a later one fails to commit
    if (db?.open) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // The connection is closed next; SQLite rolls back whatever is left.
      }
      db.close();
    }
    if (!existed) await Promise.all(['', '-wal', '-shm', '-journal'].map((s) => fsp.unlink(work + s).catch(() => undefined)));
  };
  try {
    if (!loaded) {
      if (!existed) await (await fsp.open(work, 'wx', 0o600)).close();
      db = new Database(work, { timeout: 10_000 });
      if (existed) {
        // journal_mode cannot change inside a transaction; synchronous=FULL makes COMMIT durable
        // (fsync of the WAL) before the engine saves its state.
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = FULL');
      } else {
        // Nobody else sees this file until the rename, which follows an fsync of our own.
        db.pragma('journal_mode = MEMORY');
        db.pragma('synchronous = OFF');
      }
      // IMMEDIATE takes the write lock now: a second run waits (timeout) instead of failing mid-way.
      db.exec('BEGIN IMMEDIATE');
    }
    db = db!;
    db.pragma('cache_size = -16384');
    const layout = loaded?.layout ?? syncTableLayout(db, spool, opts, dest);
    const previous = readLastRun(db, opts.table);
    let counts: MergeCounts;
    if (loaded) {
      // Its events, if the run has a change feed, were recorded as the rows arrived.
      counts = { upserted: loaded.rows, inserted: loaded.rows, deleted: 0 };
    } else {
      const onEvent = opts.changes ? changeTableWriter(db, opts.table) : undefined;
      counts = await mergeRun(db, spool, layout, { full: opts.mode === 'full', existed, changes: opts.changes, onEvent });
    }
    ensureUpdateIndex(db, layout, opts);
    // The size follows from the last run's, so an incremental run's cost grows with its changes.
    const total =
      loaded !== undefined
        ? loaded.rows
        : previous !== undefined
          ? previous.total + counts.inserted - counts.deleted
          : (db.prepare(`SELECT count(*) FROM ${layout.table}`).pluck().get() as number);
    writeLastRun(db, opts.table, runId, runAt, total);
    const result: SnapshotResult = { total, upserted: counts.upserted, deleted: counts.deleted };
    const open = db;
    return {
      result,
      markAfterCommit: runId,
      ...(loaded?.events ? { loadedEvents: loaded.events } : {}),
      async commit() {
        if (committed) return;
        try {
          open.exec('COMMIT');
          if (!existed) open.pragma('journal_mode = WAL');
          open.close();
          if (!existed) {
            const fh = await fsp.open(work, 'r+');
            await fh.sync().finally(() => fh.close());
            await fsp.rename(work, dest);
          }
          committed = true;
          // A new database file must survive a power cut too.
          if (!existed) await syncFolder(path.dirname(dest));
        } catch (err) {
          await abort();
          throw sqliteError(err, dest);
        }
      },
      abort,
    };
  } catch (err) {
    await abort();
    throw sqliteError(err, dest);
  }
}

/** `read` of the database at `file`, opened read-only; `missing` when there is no file. */
async function readSqlite<T>(file: string, missing: T, read: (db: Database.Database) => T): Promise<T> {
  try {
    await fsp.access(file);
  } catch {
    return missing;
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 10_000 });
    return read(db);
  } catch (err) {
    throw sqliteError(err, file);
  } finally {
    db?.close();
  }
}

/** Whether the database holds `<table>_changes` (see SnapshotTarget.hasChangeFeed). */
export function sqliteHasChangeFeed(file: string, table: string): Promise<boolean> {
  return readSqlite(
    file,
    false,
    (db) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(`${table}_changes`) !== undefined,
  );
}

/** The mark of an SQLite snapshot: the last run merged into the table ('' if none recorded). */
export function sqliteMark(file: string, table: string): Promise<string | undefined> {
  return readSqlite<string | undefined>(file, undefined, (db) => readLastRun(db, table)?.run ?? '');
}
