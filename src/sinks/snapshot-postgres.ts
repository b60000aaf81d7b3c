import type pg from 'pg';
import { IdsyncError } from '../core/errors.js';
import { newRunId } from '../core/sync/changes.js';
import type { PreparedSnapshot, SnapshotPrepareOptions } from '../core/sync/snapshot-target.js';
import type { SnapshotResult, Spool } from '../core/sync/writers.js';
import { recordChanges, rowOf } from './postgres-changes.js';
import { connectPostgres, postgresError, type ConnectOptions } from './postgres-connect.js';
import { copySpool } from './postgres-copy.js';
import { advisoryKey, takeAdvisoryLock, type AdvisoryLockOptions } from './postgres-lock.js';
import {
  checkOwnTable,
  describeTable,
  ensureChangesTable,
  planLayout,
  quoteIdent,
  readLastRun,
  tableMark,
  writeLastRun,
  type PgLayout,
} from './postgres-schema.js';
import { parsePostgresTarget, type PostgresTarget } from './postgres-url.js';

/** runId/runAt default to a fresh run (tests, the bench); the engine always passes its own. */
export type PostgresPrepareOptions = Omit<SnapshotPrepareOptions, 'runId' | 'runAt'> &
  Partial<Pick<SnapshotPrepareOptions, 'runId' | 'runAt'>>;

export interface PostgresSnapshotOptions extends ConnectOptions {
  /** The snapshot table (the source's name with '-' made '_'). */
  table: string;
  /** The source's possible key fields: an existing table keyed otherwise is refused up front. */
  keyFields?: readonly string[];
}

export interface PostgresSnapshot {
  readonly target: PostgresTarget;
  readonly table: string;
  /** The job's name for this database (the URL without password, normalised). */
  readonly identity: string;
  /** Connects and checks database, schema, table and rights. Call before fetching any page. */
  preflight(): Promise<void>;
  /** The job's advisory lock, held until close(): refuses (exit 6) or waits like --wait. */
  lock(opts?: AdvisoryLockOptions): Promise<void>;
  /**
   * The snapshot's mark: the last run committed to the table; '' when the table exists without
   * one (another idsync wrote it); undefined when there is no table.
   */
  mark(): Promise<string | undefined>;
  /** Whether `<table>_changes` exists in the schema. */
  hasChangeFeed(): Promise<boolean>;
  /** Writes the run inside one open transaction; commit() COMMITs, abort() rolls back. */
  prepare(spool: Spool, opts: PostgresPrepareOptions): Promise<PreparedSnapshot>;
  /** Releases the lock and closes the connection. */
  close(): Promise<void>;
}

export function openPostgresSnapshot(urlOrTarget: string | PostgresTarget, opts: PostgresSnapshotOptions): PostgresSnapshot {
  const target = typeof urlOrTarget === 'string' ? parsePostgresTarget(urlOrTarget, opts.env) : urlOrTarget;
  const schemaQ = quoteIdent(target.schema);
  const tableQ = `${schemaQ}.${quoteIdent(opts.table)}`;
  const where = `table ${target.schema}.${opts.table} in ${target.database} on ${target.host}:${target.port}`;
  let client: pg.Client | undefined;
  let lockHeld = false;

  const connection = async (): Promise<pg.Client> => {
    client ??= await connectPostgres(target, opts);
    return client;
  };
  /** After a failure the connection may be dead or mid-transaction: never reuse it. */
  const drop = async (): Promise<void> => {
    const c = client;
    client = undefined;
    lockHeld = false;
    await c?.end().catch(() => undefined);
  };
  const fail = async (err: unknown, doing: string, whenLost = ''): Promise<never> => {
    const mapped = postgresError(err, target, doing, whenLost);
    await drop();
    throw mapped;
  };

  return {
    target,
    table: opts.table,
    identity: target.identity,

    async preflight() {
      const c = await connection();
      try {
        const { rows } = await c.query<{ schema: boolean; create: boolean | null; ro: string; standby: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema,
                  CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) THEN has_schema_privilege($1, 'CREATE,USAGE') END AS create,
                  current_setting('transaction_read_only') AS ro, pg_is_in_recovery() AS standby`,
          [target.schema],
        );
        const r = rows[0]!;
        if (!r.schema) {
          throw new IdsyncError(
            `schema ${target.schema} does not exist in database ${target.database} on ${target.host}:${target.port}; ` +
              `create it (CREATE SCHEMA ${quoteIdent(target.schema)}) or name another with ?schema=`,
          );
        }
        if (r.standby || r.ro === 'on')
          throw new IdsyncError(`${target.database} on ${target.host}:${target.port} is read-only (a standby?)`);
        // idsync_runs holds every snapshot's mark: one of another program's, found only at the
        // merge, failed the run after every page was fetched.
        const runs = await describeTable(c, target.schema, 'idsync_runs');
        const missing = runs ? ['tbl', 'run', 'at', 'total'].filter((col) => !runs.columns.includes(col)) : [];
        if (missing.length > 0) {
          throw new IdsyncError(
            `table ${target.schema}.idsync_runs in ${target.database} on ${target.host}:${target.port} exists but is not idsync's ` +
              `(no column ${missing.join(', ')}); rename it, or name another schema with ?schema=`,
          );
        }
        const info = await describeTable(c, target.schema, opts.table);
        if (info) {
          checkOwnTable(info, where, opts.keyFields);
          const { rows: p } = await c.query<{ ok: boolean }>(`SELECT has_table_privilege($1, 'SELECT,INSERT,UPDATE,DELETE') AS ok`, [
            tableQ,
          ]);
          if (!p[0]?.ok) throw new IdsyncError(`permission denied: user ${target.user} cannot write ${where}`);
        } else if (!r.create) {
          throw new IdsyncError(
            `permission denied: user ${target.user} cannot create tables in schema ${target.schema} of ${target.database}`,
          );
        }
      } catch (err) {
        await fail(err, 'cannot use the PostgreSQL snapshot');
      }
    },

    async lock(lockOpts = {}) {
      if (lockHeld) return;
      const c = await connection();
      try {
        await takeAdvisoryLock(c, advisoryKey(target.schema, opts.table), where, lockOpts);
        lockHeld = true;
      } catch (err) {
        await fail(err, 'cannot lock the PostgreSQL snapshot');
      }
    },

    async hasChangeFeed() {
      const c = await connection();
      try {
        return (await describeTable(c, target.schema, `${opts.table}_changes`)) !== undefined;
      } catch (err) {
        return fail(err, `cannot read the tables of ${where}`);
      }
    },

    async mark() {
      const c = await connection();
      try {
        if (!(await describeTable(c, target.schema, opts.table))) return undefined;
        return (await readLastRun(c, target.schema, opts.table))?.run ?? '';
      } catch (err) {
        return fail(err, `cannot read the mark of ${where}`);
      }
    },

    async prepare(spool, prep) {
      if (prep.table !== opts.table) throw new Error(`prepare(${prep.table}) on a snapshot opened for ${opts.table}`);
      const c = await connection();
      let open = false;
      const abort = async (): Promise<void> => {
        if (!open) return;
        open = false;
        try {
          await c.query('ROLLBACK');
        } catch {
          await drop(); // the server rolls back when the connection goes
        }
      };
      const runAt = prep.runAt ?? new Date().toISOString();
      const runId = prep.runId ?? newRunId(new Date(runAt));
      try {
        await c.query('BEGIN');
        open = true;
        const result = await merge(c, spool, prep, runId, runAt);
        return {
          result,
          markAfterCommit: runId,
          async commit() {
            if (!open) return;
            try {
              await c.query('COMMIT');
              open = false;
            } catch (err) {
              open = false;
              // The COMMIT may or may not have reached the server: idsync_runs tells the next run.
              await fail(
                err,
                `cannot commit the snapshot to ${where}`,
                '; the next run finds out whether the commit was made (idsync_runs)',
              );
            }
          },
          abort,
        };
      } catch (err) {
        await abort();
        return fail(err, `cannot write the snapshot to ${where}`, '; the transaction was rolled back');
      }
    },

    async close() {
      if (lockHeld && client) await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      await drop();
    },
  };

  /**
   * The whole run inside the caller's transaction: stage with COPY, grow the table, record
   * the changes, then write only the rows that differ. Nothing is emptied: a reader sees the
   * table as it was until COMMIT (MVCC), then as it is.
   */
  async function merge(c: pg.Client, spool: Spool, prep: PostgresPrepareOptions, runId: string, runAt: string): Promise<SnapshotResult> {
    const info = await describeTable(c, target.schema, opts.table);
    if (info) checkOwnTable(info, where, spool.count > 0 ? [spool.keyField] : opts.keyFields);
    const layout = planLayout(tableQ, info, spool.keyField, spool.fields);
    const key = quoteIdent(layout.columns[0]!);
    const cols = layout.columns.map((col) => `${quoteIdent(col)} text`);
    let gone: string | undefined;
    let counts: MergeCounts;
    const previous = layout.created ? undefined : await readLastRun(c, target.schema, opts.table);
    if (layout.created) {
      // A new table is invisible to others until COMMIT: load it directly, and build the
      // key's index once at the end (a sort) rather than row by row.
      await c.query(`CREATE TABLE ${tableQ} (${cols.join(', ')})`);
      await c.query(
        `COMMENT ON TABLE ${tableQ} IS '${tableMark}: one row per record of ${opts.table.replace(/'/g, "''")}, key ${layout.columns[0]!.replace(/'/g, "''")}'`,
      );
      const rows = (await copySpool(c, spool, tableQ, layout.columns, layout.columnOfField)).rows;
      await c.query(`ALTER TABLE ${tableQ} ADD PRIMARY KEY (${key})`);
      counts = { upserted: rows, inserted: rows, deleted: 0 };
    } else {
      await c.query(`CREATE TEMP TABLE idsync_stage (${cols.join(', ')}) ON COMMIT DROP`);
      const copied = await copySpool(c, spool, 'idsync_stage', layout.columns, layout.columnOfField);
      // Temp tables are never auto-analysed: without statistics a million-row join is planned blind.
      await c.query('ANALYZE idsync_stage');
      if (copied.deletedKeys.length > 0 && prep.mode === 'incremental') {
        await c.query('CREATE TEMP TABLE idsync_gone (k text PRIMARY KEY) ON COMMIT DROP');
        await c.query('INSERT INTO idsync_gone SELECT DISTINCT unnest($1::text[])', [copied.deletedKeys]);
        gone = 'idsync_gone';
      }
      // Only now the table is altered: ALTER takes a lock that makes readers wait until COMMIT.
      for (const col of layout.added) await c.query(`ALTER TABLE ${tableQ} ADD COLUMN ${quoteIdent(col)} text`);
    }
    if (prep.changes) {
      const changesQ = await ensureChangesTable(c, target.schema, opts.table, where);
      const diff = {
        table: tableQ,
        stage: 'idsync_stage',
        gone,
        key: layout.columns[0]!,
        columns: layout.columns,
        full: prep.mode === 'full',
        created: layout.created,
      };
      await recordChanges(c, diff, prep.changes, changesQ);
    }
    if (!layout.created) counts = await writeDifferences(c, layout, gone, prep.mode === 'full');
    await ensureUpdateIndex(c, layout, prep.updateField, opts.table);
    // As in SQLite, the size follows from the last run's, so a small run stays cheap.
    const total =
      previous !== undefined
        ? previous.total + counts!.inserted - counts!.deleted
        : Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${tableQ}`)).rows[0]!.n);
    await writeLastRun(c, target.schema, opts.table, runId, runAt, total);
    return { total, upserted: counts!.upserted, deleted: counts!.deleted };
  }
}

interface MergeCounts {
  /** Rows written: inserted, or updated because they differ. */
  upserted: number;
  inserted: number;
  /** Rows removed: tombstones, and for a full pull the keys not sent. */
  deleted: number;
}

/** Deletes tombstoned (and for a full pull, unsent) keys, updates rows that differ, inserts new ones. */
async function writeDifferences(c: pg.Client, layout: PgLayout, gone: string | undefined, full: boolean): Promise<MergeCounts> {
  const t = layout.table;
  const key = quoteIdent(layout.columns[0]!);
  let deleted = 0;
  if (gone) deleted += (await c.query(`DELETE FROM ${t} t USING ${gone} g WHERE t.${key} = g.k`)).rowCount ?? 0;
  if (full) {
    deleted +=
      (await c.query(`DELETE FROM ${t} t WHERE NOT EXISTS (SELECT 1 FROM idsync_stage s WHERE s.${key} = t.${key})`)).rowCount ?? 0;
  }
  const rest = layout.columns.slice(1);
  let updated = 0;
  if (rest.length > 0) {
    // Unchanged rows are not rewritten: no dead tuples, no WAL, no trigger for them.
    const r = await c.query(
      `UPDATE ${t} t SET ${rest.map((col) => `${quoteIdent(col)} = s.${quoteIdent(col)}`).join(', ')}
         FROM idsync_stage s WHERE t.${key} = s.${key} AND ${rowOf('t', rest)} IS DISTINCT FROM ${rowOf('s', rest)}`,
    );
    updated = r.rowCount ?? 0;
  }
  const names = layout.columns.map(quoteIdent).join(', ');
  const ins = await c.query(
    `INSERT INTO ${t} (${names}) SELECT ${names} FROM idsync_stage s WHERE NOT EXISTS (SELECT 1 FROM ${t} t WHERE t.${key} = s.${key})`,
  );
  const inserted = ins.rowCount ?? 0;
  return { upserted: updated + inserted, inserted, deleted };
}

/** Index on the update-time column (for "what changed since" queries), when it exists. */
async function ensureUpdateIndex(c: pg.Client, layout: PgLayout, updateField: string, table: string): Promise<void> {
  const column = layout.columns.find((col) => col.toLowerCase() === updateField.toLowerCase());
  if (column === undefined) return;
  // PostgreSQL cuts names at 63 bytes; cutting here keeps IF NOT EXISTS matching the cut name.
  await c.query(
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_${column}_idx`.slice(0, 63))} ON ${layout.table} (${quoteIdent(column)})`,
  );
}
