import { prepareNdjsonSnapshot } from './snapshot-ndjson.js';
import { prepareSqliteSnapshot } from './snapshot-sqlite.js';
import { isSqliteSnapshot } from '../core/fs/target-check.js';
import type { PreparedWrite, SnapshotOptions, SnapshotResult, Spool } from '../core/sync/writers.js';

export { cellText } from './cell-text.js';
export { writeCsv } from './output-csv.js';
export { prepareOutput } from './output.js';
export { prepareNdjsonSnapshot } from './snapshot-ndjson.js';
export { prepareSqliteSnapshot } from './snapshot-sqlite.js';
export { assertPrivateTarget, isSqliteSnapshot, sqliteSiblings } from '../core/fs/target-check.js';
export type { TextSink } from './text-sink.js';

/**
 * Prepares the snapshot after a run: the complete current set, one record per key (the last
 * occurrence), tombstones applied and never kept; merged into the previous snapshot when
 * incremental, replacing it when full. SQLite for `.sqlite`/`.db`, sorted NDJSON otherwise.
 */
export function prepareSnapshot(spool: Spool, file: string, opts: SnapshotOptions): Promise<PreparedWrite & { result: SnapshotResult }> {
  return isSqliteSnapshot(file) ? prepareSqliteSnapshot(spool, file, opts) : prepareNdjsonSnapshot(spool, file, opts);
}
