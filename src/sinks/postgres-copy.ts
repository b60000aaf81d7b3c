import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Row } from '../providers/types.js';
import { cellText } from './cell-text.js';
import { quoteIdent } from './postgres-schema.js';
import { uniqueLineBatches } from './spool-reader.js';
import type { Spool } from './types.js';

const special = /[\\\n\r\t]/;

/** A value in COPY's text format: backslash, newline, carriage return and tab escaped. */
function copyText(s: string): string {
  if (!special.test(s)) return s;
  return s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

export interface CopyResult {
  /** Rows sent through COPY. */
  rows: number;
  /** Keys of this run's tombstones. */
  deletedKeys: string[];
}

/**
 * Streams the spool (one line per key, the newest) into `into` with COPY … FROM STDIN, in
 * `columns` order: each record's value as the SQLite snapshot stores it (cell-text.ts), a
 * field the record lacks as NULL. Tombstones are not copied; their keys are returned.
 * The generator runs only as fast as the server takes the data (stream backpressure).
 */
export async function copySpool(
  client: pg.Client,
  spool: Spool,
  into: string,
  columns: readonly string[],
  columnOfField: readonly number[],
): Promise<CopyResult> {
  const deletedKeys: string[] = [];
  let rows = 0;
  const fields = spool.fields;
  const width = columns.length;
  async function* text(): AsyncGenerator<string> {
    for await (const batch of uniqueLineBatches(spool)) {
      let out = '';
      for (const line of batch) {
        const row = JSON.parse(line) as Row;
        const key = spool.keyOf(row);
        if (spool.isDeleted(row)) {
          deletedKeys.push(key);
          continue;
        }
        const values = new Array<string>(width).fill('\\N');
        for (let i = 0; i < fields.length; i++) {
          const v = row[fields[i]!];
          if (v === undefined || v === null) continue;
          const t = cellText(v);
          if (t !== undefined) values[columnOfField[i]!] = copyText(t);
        }
        values[0] = copyText(key);
        out += `${values.join('\t')}\n`;
        rows++;
      }
      if (out !== '') yield out;
    }
  }
  const sql = `COPY ${into} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`;
  await pipeline(Readable.from(text(), { objectMode: false }), client.query(copyFrom(sql)));
  return { rows, deletedKeys };
}
