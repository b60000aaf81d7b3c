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
    throw new IdsyncError(`${where} exists but was not created by idsync; idsync will not touch it (drop or rename it, or choose another schema with ?schema=)`);
  }
  const pk = info.primaryKey;
  const keyOk = pk.length === 1 && (keyFields === undefined || keyFields.some((f) => f.toLowerCase() === pk[0]!.toLowerCase()));
  if (!keyOk) {
    const keyedBy = pk.length === 0 ? 'no column' : pk.join(', ');
    const want = keyFields?.join(' or ') ?? 'one column';
    throw new IdsyncError(`${where} is keyed by ${keyedBy}, this source by ${want}; drop the table to rebuild it`);
  }
}

export const changesColumns = ['run', 'seq', 'op', 'key', 'before', 'after', 'changed'] as const;

/**
 * `<table>_changes`: one row per change event. before/after/changed are jsonb so that they
 * can be queried (`after->>'status'`, `changed ? 'deptName'`); the row order of a run is seq.
 */
export async function ensureChangesTable(client: pg.Client, schema: string, table: string, where: string): Promise<string> {
  const name = `${table}_changes`;
  const q = `${quoteIdent(schema)}.${quoteIdent(name)}`;
  const info = await describeTable(client, schema, name);
  if (info === undefined) {
    await client.query(
      `CREATE TABLE ${q} (run text NOT NULL, seq integer NOT NULL, op text NOT NULL, key text NOT NULL,
         before jsonb, after jsonb, changed jsonb NOT NULL, PRIMARY KEY (run, seq))`,
    );
    await client.query(`COMMENT ON TABLE ${q} IS '${changesMark}: one row per change of ${table.replace(/'/g, "''")}, in run order'`);
  } else if (!info.comment?.startsWith(changesMark) || changesColumns.some((c) => !info.columns.includes(c))) {
    throw new IdsyncError(`${where}: table ${name} exists but was not created by idsync; idsync will not write its changes there`);
  }
  return q;
}

/**
 * `idsync_runs`: the runs committed to each snapshot table of the schema, written in the
 * merge transaction, so that a run whose COMMIT reached the server but whose process died
 * before the local state was saved can be recognised by the next run.
 */
export async function ensureRunsTable(client: pg.Client, schema: string): Promise<string> {
  const q = `${quoteIdent(schema)}.idsync_runs`;
  // Two jobs on different tables of one schema may both create it: serialise them.
  await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`idsync_runs ${schema}`]);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${q} (id bigserial PRIMARY KEY, table_name text NOT NULL, run text NOT NULL,
       committed_at timestamptz NOT NULL DEFAULT now(), total bigint, upserted bigint, deleted bigint)`,
  );
  return q;
}

export async function lastRun(client: pg.Client, schema: string, table: string): Promise<string | undefined> {
  const exists = await describeTable(client, schema, 'idsync_runs');
  if (!exists) return undefined;
  const { rows } = await client.query<{ run: string }>(
    `SELECT run FROM ${quoteIdent(schema)}.idsync_runs WHERE table_name = $1 ORDER BY id DESC LIMIT 1`,
    [table],
  );
  return rows[0]?.run;
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
