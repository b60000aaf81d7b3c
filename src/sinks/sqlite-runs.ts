import type { Database, Statement } from 'better-sqlite3';
import type { ChangeEvent } from '../core/sync/changes.js';
import { quoteId } from './sqlite-schema.js';

/**
 * `idsync_runs` holds, per snapshot table, the last run merged into it and the table's size
 * then. Written in the merge's own transaction, so the run id is the snapshot's mark: a killed
 * run finds out from it whether its merge was committed, and a replaced database is noticed.
 */
const RUNS = 'idsync_runs';

export interface LastRun {
  run: string;
  total: number;
}

export function readLastRun(db: Database, table: string): LastRun | undefined {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).pluck().get(RUNS);
  if (!exists) return undefined;
  return db.prepare(`SELECT run, total FROM ${RUNS} WHERE tbl = ?`).get(table) as LastRun | undefined;
}

export function writeLastRun(db: Database, table: string, run: string, at: string, total: number): void {
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${RUNS} (tbl TEXT PRIMARY KEY NOT NULL, run TEXT NOT NULL, at TEXT NOT NULL, total INTEGER NOT NULL)`,
  );
  db.prepare(
    `INSERT INTO ${RUNS} (tbl, run, at, total) VALUES (?, ?, ?, ?) ` +
      'ON CONFLICT(tbl) DO UPDATE SET run = excluded.run, at = excluded.at, total = excluded.total',
  ).run(table, run, at, total);
}

/**
 * `<table>_changes`: every event of every run with a change feed, appended in the merge's
 * transaction (CLI.md, "Change feed"). JSON columns are text: SQLite's json functions read them.
 */
export function changeTableWriter(db: Database, table: string): (e: ChangeEvent) => void {
  const insert = changeTableInsert(db, table);
  return (e) => {
    insert.run(
      e.run,
      e.seq,
      e.op,
      e.key,
      e.before === null ? null : JSON.stringify(e.before),
      e.after === null ? null : JSON.stringify(e.after),
      JSON.stringify(e.changed),
    );
  };
}

/** Creates `<table>_changes` if needed; the statement takes run, sequence, op, key, before, after, changed. */
export function changeTableInsert(db: Database, table: string): Statement {
  const name = quoteId(`${table}_changes`);
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${name} (run TEXT NOT NULL, sequence INTEGER NOT NULL, op TEXT NOT NULL, ` +
      '"key" TEXT NOT NULL, "before" TEXT, "after" TEXT, changed TEXT NOT NULL, PRIMARY KEY (run, sequence))',
  );
  return db.prepare(`INSERT INTO ${name} (run, sequence, op, "key", "before", "after", changed) VALUES (?, ?, ?, ?, ?, ?, ?)`);
}
