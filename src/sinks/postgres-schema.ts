import type pg from 'pg';
import { IdsyncError } from '../core/errors.js';

/** PostgreSQL identifiers are double-quoted (quotes doubled), so any field name is a column. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The comment idsync puts on the tables it creates; a table without it is not ours to touch. */
export const tableMark = 'idsync snapshot';
export const changesMark = 'idsync changes';

export interface TableInfo {
  kind: string;
  comment: string | null;
  columns: string[];
  primaryKey: string[];
}

/** What the catalog says about schema.name, or undefined when there is no such relation. */
export async function describeTable(client: pg.Client, schema: string, name: string): Promise<TableInfo | undefined> {
  const { rows } = await client.query<{ kind: string; comment: string | null; columns: string[] | null; pk: string[] | null }>(
    `SELECT c.relkind::text AS kind, obj_description(c.oid, 'pg_class') AS comment,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            (SELECT array_agg(a.attname::text) FROM pg_index i
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
              WHERE i.indrelid = c.oid AND i.indisprimary) AS pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { kind: r.kind, comment: r.comment, columns: r.columns ?? [], primaryKey: r.pk ?? [] };
}

/**
 * Refuses a table idsync did not create, or one keyed otherwise than this source: writing
 * into somebody else's table (or deleting its rows in a full refresh) must never happen.
 */
export function checkOwnTable(info: TableInfo, where: string, keyFields: readonly string[] | undefined): void {
  if (info.kind !== 'r' && info.kind !== 'p') {
    throw new IdsyncError(`${where} exists and is not a table; idsync will not touch it (choose another schema with ?schema=)`);
  }
  if (!info.comment?.startsWith(tableMark)) {
    throw new IdsyncError(
      `${where} exists but was not created by idsync; idsync will not touch it (drop or rename it, or choose another schema with ?schema=)`,
    );
  }
  const pk = info.primaryKey;
  const keyOk = pk.length === 1 && (keyFields === undefined || keyFields.some((f) => f.toLowerCase() === pk[0]!.toLowerCase()));
  if (!keyOk) {
    const keyedBy = pk.length === 0 ? 'no column' : pk.join(', ');
    const want = keyFields?.join(' or ') ?? 'one column';
    throw new IdsyncError(`${where} is keyed by ${keyedBy}, this source by ${want}; drop the table to rebuild it`);
  }
}

export const changesColumns = ['run', 'sequence', 'op', 'key', 'before', 'after', 'changed'] as const;

/**
 * `<table>_changes`: one row per change event, the SQLite snapshot's columns. before, after
 * and changed are jsonb (SQLite keeps JSON text) so that they can be queried and indexed
 * (`after->>'status'`, `changed ? 'deptName'`); a run's events are in `sequence` order.
 */
export async function ensureChangesTable(client: pg.Client, schema: string, table: string, where: string): Promise<string> {
  const name = `${table}_changes`;
  const q = `${quoteIdent(schema)}.${quoteIdent(name)}`;
  const info = await describeTable(client, schema, name);
  if (info === undefined) {
    await client.query(
      `CREATE TABLE ${q} (run text NOT NULL, sequence integer NOT NULL, op text NOT NULL, key text NOT NULL,
         before jsonb, after jsonb, changed jsonb NOT NULL, PRIMARY KEY (run, sequence))`,
    );
    await client.query(`COMMENT ON TABLE ${q} IS '${changesMark}: one row per change of ${table.replace(/'/g, "''")}, in run order'`);
  } else if (!info.comment?.startsWith(changesMark) || changesColumns.some((c) => !info.columns.includes(c))) {
    throw new IdsyncError(`${where}: table ${name} exists but was not created by idsync; idsync will not write its changes there`);
  }
  return q;
}

/**
 * `idsync_runs`, as in the SQLite snapshot: per snapshot table of the schema, the last run
 * merged into it and the table's size then. Written in the merge transaction, the run id is the
 * snapshot's mark: a run whose COMMIT reached the server but whose process died before the
 * local state was saved is recognised by the next run.
 */
export interface LastRun {
  run: string;
  total: number;
}

export async function readLastRun(client: pg.Client, schema: string, table: string): Promise<LastRun | undefined> {
  if (!(await describeTable(client, schema, 'idsync_runs'))) return undefined;
  const { rows } = await client.query<{ run: string; total: string }>(
    `SELECT run, total FROM ${quoteIdent(schema)}.idsync_runs WHERE tbl = $1`,
    [table],
  );
  const r = rows[0];
  return r ? { run: r.run, total: Number(r.total) } : undefined;
}

export async function writeLastRun(
  client: pg.Client,
  schema: string,
  table: string,
  run: string,
  at: string,
  total: number,
): Promise<void> {
  const q = `${quoteIdent(schema)}.idsync_runs`;
  // Two jobs on different tables of one schema may both create it: serialise them.
  await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`idsync_runs ${schema}`]);
  await client.query(`CREATE TABLE IF NOT EXISTS ${q} (tbl text PRIMARY KEY, run text NOT NULL, at text NOT NULL, total bigint NOT NULL)`);
  await client.query(
    `INSERT INTO ${q} (tbl, run, at, total) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tbl) DO UPDATE SET run = excluded.run, at = excluded.at, total = excluded.total`,
    [table, run, at, total],
  );
}

export interface PgLayout {
  /** schema.table, quoted. */
  table: string;
  /** Every column after this run's additions; columns[0] is the key. */
  columns: string[];
  /** Columns the table gains in this run. */
  added: string[];
  /** For each spool field, the index of its column. */
  columnOfField: number[];
  /** True when the table did not exist before this run. */
  created: boolean;
}

/**
 * The columns the table will have after this run: the existing ones in table order, then the
 * new fields. Fields that differ only in case share a column, as in the SQLite snapshot
 * (ECNU documents `userid` and sends `userId`).
 */
export function planLayout(qualified: string, info: TableInfo | undefined, keyField: string, fields: readonly string[]): PgLayout {
  const key = info?.primaryKey[0] ?? keyField;
  const columns = info ? [key, ...info.columns.filter((c) => c !== key)] : [keyField];
  const byName = new Map(columns.map((c, i) => [c.toLowerCase(), i]));
  const added: string[] = [];
  const columnOfField = fields.map((f) => {
    const known = byName.get(f.toLowerCase());
    if (known !== undefined) return known;
    columns.push(f);
    added.push(f);
    byName.set(f.toLowerCase(), columns.length - 1);
    return columns.length - 1;
  });
  return { table: qualified, columns, added, columnOfField, created: info === undefined };
}
