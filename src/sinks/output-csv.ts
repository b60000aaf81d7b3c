import { stringify } from 'csv-stringify/sync';
import { cellText } from './cell-text.js';
import { uniqueLineBatches } from './spool-reader.js';
import type { TextSink } from './text-sink.js';
import type { Spool } from './types.js';

const options = {
  record_delimiter: '\r\n',
  // csv-stringify quotes a field holding the record delimiter, but not a lone '\n' or '\r'
  // inside it; unquoted, those would split the record for Python's csv module and Excel.
  quoted_match: /[\r\n]/,
} as const;

/**
 * The spool as CSV (RFC 4180: CRLF, quotes doubled): a BOM, a header of the spool's fields,
 * then one record per key, every value as text. Returns the number of records.
 */
export async function writeCsv(spool: Spool, out: TextSink): Promise<number> {
  const fields = spool.fields;
  if (fields.length === 0) {
    // No records, so no fields: an empty sheet rather than a header of nothing.
    await out.write('\uFEFF');
    return 0;
  }
  // Excel only reads a CSV as UTF-8 (and so shows Chinese text) when it starts with a BOM.
  await out.write(stringify([fields], { ...options, bom: true }));
  let count = 0;
  // One synchronous stringify per chunk of lines: a streaming stringifier costs a callback per record.
  for await (const batch of uniqueLineBatches(spool)) {
    const records = batch.map((line) => {
      const row = JSON.parse(line) as Record<string, unknown>;
      return fields.map((f) => cellText(row[f]) ?? '');
    });
    count += records.length;
    await out.write(stringify(records, options));
  }
  return count;
}
