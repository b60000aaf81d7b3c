import type { Database } from 'better-sqlite3';
import { IdsyncError } from '../core/errors.js';
import type { Row } from '../core/provider.js';
import type { SnapshotOptions, Spool } from '../core/sync/writers.js';

/** SQLite identifiers are double-quoted (quotes doubled) so any field name is a valid column. */
export function quoteId(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface TableLayout {
  /** Quoted table name. */
  table: string;
  /** Every column of the table; columns[0] is the primary key. */
  columns: string[];
  /** For each of spool.fields, the index of its column. */
  columnOfField: number[];
}

/**
 * A row as the table stores it, which is what change events carry: the non-NULL columns, as
 * text. The row's values start at `values[from]`.
 */
export function tableRecord(columns: readonly string[], values: readonly (string | null)[], from = 0): Row {
  // A plain object, like a parsed record: records of one shape then share V8's hidden class,
  // which a null-prototype object (a hash table) does not, at a cost in memory and in
  // JSON.stringify (measured on a million first-run events). `__proto__` is defined, as
  // assigning it would set the prototype instead.
  const record: Row = {};
  for (let i = 0; i < columns.length; i++) {
    const v = values[from + i] ?? null;
    if (v === null) continue;
    const c = columns[i]!;
    if (c === '__proto__') Object.defineProperty(record, c, { value: v, enumerable: true, writable: true, configurable: true });
    else record[c] = v;
  }
  return record;
}

interface ColumnInfo {
  name: string;
  pk: number;
}

/**
 * Creates or extends the snapshot table so that every field of the spool has a TEXT column
 * and the key field is the primary key. SQLite compares column names without regard to case,
 * so fields differing only in case (ECNU documents `userid`, sends `userId`) share a column.
 * Runs inside the caller's transaction: DDL is transactional in SQLite.
 */
export function syncTableLayout(db: Database, spool: Spool, opts: SnapshotOptions, file: string): TableLayout {
  const table = quoteId(opts.table);
  let info = db.pragma(`table_info(${table})`) as ColumnInfo[];
  const pk = info.find((c) => c.pk === 1)?.name;
  const keyMatches = pk !== undefined && pk.toLowerCase() === spool.keyField.toLowerCase();
  const compositeKey = info.filter((c) => c.pk > 0).length > 1;
  // An empty run says nothing about the key field (the spool falls back to a default name).
  const unusable = pk === undefined || compositeKey || (spool.count > 0 && !keyMatches);
  if (info.length > 0 && unusable) {
    if (opts.mode === 'incremental') {
      const keyedBy = compositeKey ? 'several columns' : (pk ?? 'no column');
      throw new IdsyncError(
        `cannot update ${file}: table ${opts.table} is keyed by ${keyedBy}, this source by ${spool.keyField}; ` +
          'run a full pull (--since 0) to rebuild it',
      );
    }
    // A full pull rebuilds the whole table anyway.
    db.exec(`DROP TABLE ${table}`);
    info = [];
  }
  if (info.length === 0) {
    db.exec(`CREATE TABLE ${table} (${quoteId(spool.keyField)} TEXT PRIMARY KEY NOT NULL)`);
    info = [{ name: spool.keyField, pk: 1 }];
  }
  const keyColumn = info.find((c) => c.pk === 1)!.name;
  const columns = [keyColumn, ...info.filter((c) => c.pk !== 1).map((c) => c.name)];
  const byName = new Map(columns.map((c, i) => [c.toLowerCase(), i]));
  const columnOfField = spool.fields.map((field) => {
    const known = byName.get(field.toLowerCase());
    if (known !== undefined) return known;
    db.exec(`ALTER TABLE ${table} ADD COLUMN ${quoteId(field)} TEXT`);
    columns.push(field);
    byName.set(field.toLowerCase(), columns.length - 1);
    return columns.length - 1;
  });
  return { table, columns, columnOfField };
}

/** Index on the update-time column (for "what changed since" queries), when it exists. */
export function ensureUpdateIndex(db: Database, layout: TableLayout, opts: SnapshotOptions): void {
  const column = layout.columns.find((c) => c.toLowerCase() === opts.updateField.toLowerCase());
  if (column === undefined) return;
  const index = quoteId(`${opts.table}_${column}_idx`);
  db.exec(`CREATE INDEX IF NOT EXISTS ${index} ON ${layout.table} (${quoteId(column)})`);
}
