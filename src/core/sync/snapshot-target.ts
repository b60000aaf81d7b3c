import type { PreparedWrite, SnapshotOptions, SnapshotResult, Spool } from './writers.js';
import type { ChangeRecorder } from './changes.js';

export type SnapshotKind = 'ndjson' | 'sqlite' | 'postgres';

export interface SnapshotPrepareOptions extends SnapshotOptions {
  /** The run writing it: database snapshots record it with the merge (their mark). */
  runId: string;
  /** When the run started (ISO). */
  runAt: string;
  /** Present when the run writes a change feed: the sink reports every stored record that changed. */
  changes?: ChangeRecorder;
}

export interface PreparedSnapshot extends PreparedWrite {
  result: SnapshotResult;
  /** What mark() answers once commit() has happened: how a restarted run tells whether it did. */
  markAfterCommit: string;
}

/**
 * Where a job keeps its snapshot: an NDJSON file, an SQLite database, a PostgreSQL table. The
 * engine prepares the merge, commits it, and tells from the mark whether a killed run got as
 * far as committing (the exactly-once change feed rests on that).
 */
export interface SnapshotTarget {
  kind: SnapshotKind;
  /** How the job's state names it: an absolute path, or a database URL without its password. */
  id: string;
  /** For messages: the path, or the URL without its password. */
  label: string;
  /**
   * Checks before any page is fetched (reachable, credentials, a table idsync did not create)
   * and takes what the run needs (a database's advisory lock).
   */
  open(opts: { table: string; waitSeconds?: number; signal?: AbortSignal }): Promise<void>;
  /**
   * The snapshot's current mark: a file's device and inode, a database's last run id; '' for a
   * snapshot that exists but carries no mark (written by an older idsync); undefined if missing.
   */
  mark(table: string): Promise<string | undefined>;
  prepare(spool: Spool, opts: SnapshotPrepareOptions): Promise<PreparedSnapshot>;
  /** Removes what a killed run of this target left behind (temp files), before a new run. */
  cleanStale(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What a `--snapshot` target is, from its name alone (CLI.md): NDJSON (`.ndjson`, `.jsonl`),
 * SQLite (`.sqlite`, `.db`) or PostgreSQL (a `postgresql://` or `postgres://` URL).
 */
export function snapshotKindOf(target: string): SnapshotKind | undefined {
  if (/^postgres(ql)?:\/\//i.test(target)) return 'postgres';
  if (/\.(sqlite|db)$/i.test(target)) return 'sqlite';
  if (/\.(ndjson|jsonl)$/i.test(target)) return 'ndjson';
  return undefined;
}
