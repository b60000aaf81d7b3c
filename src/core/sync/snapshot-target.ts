import type { PreparedWrite, SnapshotOptions, SnapshotResult, Spool } from './writers.js';
import type { ChangeRecorder } from './changes.js';
import type { Row } from '../provider.js';

/**
 * A snapshot built while the pages arrive, for a full pull into a snapshot that does not exist
 * yet: the target's private temp copy is filled with each record the spool keeps, so that
 * prepare() has only the finishing left. Nothing is visible before commit(), as otherwise.
 */
export interface SnapshotLoad {
  /** Called with each record the spool keeps, in spool order, and its key. Never throws. */
  add(row: Row, key: string): void;
  /** Drops what was built (a failed run, or prepare() could not use it). */
  discard(): Promise<void>;
}

export interface SnapshotLoadOptions {
  table: string;
  keyFields: readonly string[];
  /**
   * With --changes: every record of a snapshot built from nothing is an insert, so the load
   * also records the run's events as the records arrive, into `file` (see loadedEvents).
   */
  changes?: { runId: string; runAt: string; isActive: (row: Row) => boolean; file: string };
}

export type SnapshotKind = 'ndjson' | 'sqlite' | 'postgres';

export interface SnapshotPrepareOptions extends SnapshotOptions {
  /** The run writing it: database snapshots record it with the merge (their mark). */
  runId: string;
  /** When the run started (ISO). */
  runAt: string;
  /** Present when the run writes a change feed: the sink reports every stored record that changed. */
  changes?: ChangeRecorder;
  /** What startLoad() built during the scan: prepare() uses it if it matches the spool, else drops it. */
  load?: SnapshotLoad;
}

export interface PreparedSnapshot extends PreparedWrite {
  result: SnapshotResult;
  /** What mark() answers once commit() has happened: how a restarted run tells whether it did. */
  markAfterCommit: string;
  /**
   * Set when the run's events were recorded by the load (SnapshotLoadOptions.changes) rather
   * than through `changes`: the file holds all of them, complete on disk.
   */
  loadedEvents?: { file: string; count: number };
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
   * Whether the snapshot keeps a change table (`<table>_changes`, SQLite and PostgreSQL): then
   * every run into it needs --changes, whoever runs it, from whatever IDSYNC_HOME.
   */
  hasChangeFeed(table: string): Promise<boolean>;
  /**
   * The snapshot's current mark: a file's device and inode, a database's last run id; '' for a
   * snapshot that exists but carries no mark (written by an older idsync); undefined if missing.
   */
  mark(table: string): Promise<string | undefined>;
  prepare(spool: Spool, opts: SnapshotPrepareOptions): Promise<PreparedSnapshot>;
  /**
   * Before a full pull's scan: starts building the new snapshot from the records as they
   * arrive, where the target can (an SQLite file that does not exist yet); undefined otherwise.
   */
  startLoad?(opts: SnapshotLoadOptions): Promise<SnapshotLoad | undefined>;
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
