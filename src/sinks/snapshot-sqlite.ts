import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ExitCode, IdsyncError } from '../core/errors.js';
import type { Row } from '../providers/types.js';
import { fileError, syncFolder } from './atomic-file.js';
import { cellText, ownField } from './cell-text.js';
import { ensureUpdateIndex, quoteId, syncTableLayout } from './sqlite-schema.js';
import { uniqueLineBatches } from './spool-reader.js';
import type { PreparedWrite, SnapshotOptions, SnapshotResult, Spool } from './types.js';

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

function sqliteError(err: unknown, file: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return fileError(err, file);
  const reason = sqliteReasons[code] ?? sqliteReasons[code.replace(/_[A-Z_]+$/, '')] ?? code;
  return new IdsyncError(`cannot write ${file}: ${reason}`, ExitCode.failure, { cause: err });
}

/**
 * Checks the target with the file system first, whose reasons ("permission denied", "folder
 * ... does not exist") say more than SQLite's "unable to open database file". A database that
 * does not exist yet is created empty here (SQLite takes an empty file for a new database).
 * Returns whether it existed before.
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
    if (st) {
      await fsp.access(file, constants.R_OK | constants.W_OK);
      return true;
    }
    await (await fsp.open(file, 'wx')).close();
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return true; // created meanwhile by another run
    throw fileError(err, file);
  }
}

/**
 * Writes this run into the SQLite snapshot inside one transaction that prepare leaves open:
 * commit() COMMITs, abort() rolls back. In WAL mode a reader keeps seeing the previous content
 * meanwhile, and a process killed before COMMIT leaves the database as it was.
 */
export async function prepareSqliteSnapshot(
  spool: Spool,
  file: string,
  opts: SnapshotOptions,
): Promise<PreparedWrite & { result: SnapshotResult }> {
  const dest = path.resolve(file);
  const existed = await claimTarget(dest);
  let db: Database.Database | undefined;
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
    // A database this run created would otherwise stay behind empty.
    if (!existed) {
      await Promise.all(['', '-wal', '-shm', '-journal'].map((s) => fsp.unlink(dest + s).catch(() => undefined)));
    }
  };
  try {
    db = new Database(dest, { timeout: 10_000 });
    // journal_mode cannot change inside a transaction; synchronous=FULL makes COMMIT durable
    // (fsync of the WAL) before the engine saves its state.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('cache_size = -16384');
    // IMMEDIATE takes the write lock now: a second run waits (timeout) instead of failing mid-way.
    db.exec('BEGIN IMMEDIATE');
    const layout = syncTableLayout(db, spool, opts, dest);
    const { table, columns, columnOfField } = layout;
    if (opts.mode === 'full') db.exec(`DELETE FROM ${table}`);
    const key = quoteId(columns[0]!);
    const names = columns.map(quoteId);
    const updates = names.slice(1).map((c) => `${c} = excluded.${c}`);
    const upsert = db.prepare(
      `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ` +
        `ON CONFLICT(${key}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
    );
    const remove = db.prepare(`DELETE FROM ${table} WHERE ${key} = ?`);
    const fields = spool.fields;
    let upserted = 0;
    let deleted = 0;
    // One line per key (the last), so a tombstone only ever removes a row of the previous snapshot.
    for await (const batch of uniqueLineBatches(spool)) {
      for (const line of batch) {
        const row = JSON.parse(line) as Row;
        const k = spool.keyOf(row);
        if (spool.isDeleted(row)) {
          deleted += remove.run(k).changes;
          continue;
        }
        // Every column is bound: a field this record lacks becomes NULL, not the old value.
        const values: (string | null)[] = new Array<string | null>(columns.length).fill(null);
        for (let i = 0; i < fields.length; i++) {
          const v = ownField(row, fields[i]!);
          if (v !== undefined) values[columnOfField[i]!] = cellText(v) ?? null;
        }
        values[0] = k;
        upsert.run(values);
        upserted++;
      }
    }
    ensureUpdateIndex(db, layout, opts);
    const total = db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    const result: SnapshotResult = { total, upserted, deleted };
    const open = db;
    return {
      describe: `${total} records in ${file}, table ${opts.table} (${upserted} upserted, ${deleted} deleted)`,
      result,
      async commit() {
        if (committed) return;
        try {
          open.exec('COMMIT');
          committed = true;
          open.close();
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
