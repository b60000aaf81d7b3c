import type pg from 'pg';
import type { Row } from '../core/provider.js';
import type { ChangeRecorder } from '../core/sync/changes.js';
import { quoteIdent } from './postgres-schema.js';

/** What differs between the table and the staged run, as SQL over the two. */
export interface DiffSql {
  table: string;
  stage: string;
  gone: string | undefined;
  key: string;
  columns: readonly string[];
  full: boolean;
  /** The table was created by this run and already holds the run's rows. */
  created: boolean;
}

/** ROW(a."c1", a."c2", …): compared with IS DISTINCT FROM, so NULL equals NULL. */
export function rowOf(alias: string, columns: readonly string[]): string {
  return `ROW(${columns.map((c) => `${alias}.${quoteIdent(c)}`).join(', ')})`;
}

/**
 * The records whose stored version this run changes, in key order, each as (key, before,
 * after) in table representation: the non-NULL columns with their text (json_strip_nulls of
 * the row), so that replaying the events reproduces the table. Rows sent again unchanged
 * are not selected.
 */
export function diffQuery(d: DiffSql): string {
  const k = quoteIdent(d.key);
  const doc = (alias: string): string => `json_strip_nulls(row_to_json(${alias}))::text`;
  if (d.created) return `SELECT t.${k} AS k, NULL::text AS b, ${doc('t')} AS a FROM ${d.table} t ORDER BY t.${k} COLLATE "C"`;
  const parts = [
    `SELECT s.${k} AS k, ${doc('t')} AS b, ${doc('s')} AS a FROM ${d.stage} s LEFT JOIN ${d.table} t ON t.${k} = s.${k}
      WHERE t.${k} IS NULL OR ${rowOf('t', d.columns)} IS DISTINCT FROM ${rowOf('s', d.columns)}`,
  ];
  if (d.gone) parts.push(`SELECT t.${k}, ${doc('t')}, NULL FROM ${d.table} t JOIN ${d.gone} g ON g.k = t.${k}`);
  if (d.full) {
    parts.push(`SELECT t.${k}, ${doc('t')}, NULL FROM ${d.table} t WHERE NOT EXISTS (SELECT 1 FROM ${d.stage} s WHERE s.${k} = t.${k})`);
  }
  return `SELECT * FROM (${parts.join('\nUNION ALL\n')}) d ORDER BY k COLLATE "C"`;
}

/**
 * Feeds the differences to the recorder in key order and appends its events to the changes
 * table, in batches, inside the caller's transaction. A cursor keeps memory flat whatever
 * the number of changes. Returns the number of events.
 */
export async function recordChanges(client: pg.Client, d: DiffSql, changes: ChangeRecorder, changesTable: string): Promise<number> {
  await client.query(`DECLARE idsync_diff NO SCROLL CURSOR FOR ${diffQuery(d)}`);
  let events = 0;
  for (;;) {
    const { rows } = await client.query<{ k: string; b: string | null; a: string | null }>('FETCH 5000 FROM idsync_diff');
    if (rows.length === 0) break;
    const cols: [string[], number[], string[], string[], (string | null)[], (string | null)[], string[]] = [[], [], [], [], [], [], []];
    for (const r of rows) {
      const before = r.b === null ? null : (JSON.parse(r.b) as Row);
      const after = r.a === null ? null : (JSON.parse(r.a) as Row);
      const e = changes.record(r.k, before, after);
      if (!e) continue;
      cols[0].push(e.run);
      cols[1].push(e.seq);
      cols[2].push(e.op);
      cols[3].push(e.key);
      cols[4].push(e.before === null ? null : JSON.stringify(e.before));
      cols[5].push(e.after === null ? null : JSON.stringify(e.after));
      cols[6].push(JSON.stringify(e.changed));
    }
    if (cols[0].length === 0) continue;
    events += cols[0].length;
    await client.query(
      `INSERT INTO ${changesTable} (run, sequence, op, key, before, after, changed)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::jsonb[])`,
      cols,
    );
    await changes.flush?.();
  }
  await client.query('CLOSE idsync_diff');
  return events;
}
