import type { SnapshotKind, SnapshotTarget } from '../core/sync/snapshot-target.js';
import { removeStaleTemps } from '../core/fs/atomic-file.js';
import { fileMark, prepareNdjsonSnapshot } from './snapshot-ndjson.js';

/**
 * better-sqlite3 loads only for an SQLite snapshot. Why: its native module and our schema code
 * cost start-up time and RSS that an NDJSON snapshot never uses.
 */
const loadSqlite = (): Promise<typeof import('./snapshot-sqlite.js')> => import('./snapshot-sqlite.js');

/** A snapshot kept in a local file: sorted NDJSON, or an SQLite database. */
export function fileSnapshotTarget(file: string, kind: Exclude<SnapshotKind, 'postgres'>): SnapshotTarget {
  const sqlite = kind === 'sqlite';
  return {
    kind,
    id: file,
    label: file,
    open: async () => undefined,
    mark: async (table) => (sqlite ? (await loadSqlite()).sqliteMark(file, table) : fileMark(file)),
    hasChangeFeed: async (table) => sqlite && (await loadSqlite()).sqliteHasChangeFeed(file, table),
    prepare: async (spool, opts) =>
      sqlite ? (await loadSqlite()).prepareSqliteSnapshot(spool, file, opts) : prepareNdjsonSnapshot(spool, file, opts),
    ...(sqlite ? { startLoad: async (opts) => (await loadSqlite()).startSqliteLoad(file, opts) } : {}),
    cleanStale: () => removeStaleTemps(file),
    close: async () => undefined,
  };
}
