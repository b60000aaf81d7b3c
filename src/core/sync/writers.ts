import type { Row } from '../provider.js';

export type OutputFormat = 'ndjson' | 'csv' | 'xlsx';
export const outputFormats = ['ndjson', 'csv', 'xlsx'] as const satisfies readonly OutputFormat[];

/**
 * The records one run fetched, as the engine spooled them to disk: an NDJSON file, one
 * record per line exactly as the platform sent it, in arrival order. A key may appear more
 * than once when the platform's pages shifted during the run; the last occurrence is newest.
 */
export interface Spool {
  path: string;
  /** Lines in the file. */
  count: number;
  /** Union of field names, in first-seen order (the CSV/XLSX header, the SQLite columns). */
  fields: readonly string[];
  /** True when some key arrived twice: readers must keep only the last occurrence. */
  hasDuplicateKeys: boolean;
  /**
   * The field that actually holds the key in these records ('userId', 'userid', 'xh'): the
   * SQLite primary-key column. keyOf() stays the authority on a record's key value.
   */
  keyField: string;
  keyOf(row: Row): string;
  isDeleted(row: Row): boolean;
}

/**
 * A write that is complete on disk but not yet visible: prepare() writes and fsyncs a temp
 * file (or runs an SQLite transaction up to COMMIT); commit() makes it visible (rename/COMMIT);
 * abort() removes every trace. The engine commits all outputs, then saves the state.
 */
export interface PreparedWrite {
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface SnapshotResult {
  /** Records in the snapshot after this run. */
  total: number;
  /** Records of this run written to the snapshot (new or replacing an older version). */
  upserted: number;
  /**
   * Records the previous snapshot held that a tombstone of this run removed. A full pull
   * ignores the previous snapshot, so it reports 0.
   */
  deleted: number;
}

export interface SnapshotOptions {
  /** full: the snapshot becomes this run's records; incremental: merged into the previous one. */
  mode: 'full' | 'incremental';
  /** SQLite table name (the source's name with '-' made '_'). */
  table: string;
  /** Field holding the last-change time; SQLite indexes it when the column exists. */
  updateField: string;
  /** External sort of an NDJSON snapshot: lines per sorted run (default 50,000). */
  sortChunkLines?: number;
  /** External sort: bytes of records per sorted run (default 16 MiB). */
  sortChunkBytes?: number;
}

export interface OutputOptions {
  /** XLSX worksheet name (sanitised to Excel's rules). */
  sheetName: string;
  /**
   * CSV cells exactly as sent, without the leading `'` that keeps a spreadsheet from running
   * a cell such as `=HYPERLINK(…)` as a formula (CLI.md): for programs that read the CSV.
   */
  csvRaw?: boolean;
}
