import { leadingFields } from '../core/record-fields.js';
import { formatRecords } from '../core/table.js';
import { cellText } from '../sinks/cell-text.js';
import { escapeTerminal } from '../core/terminal-text.js';
import type { Row } from '../core/provider.js';

export const recordFormats = ['ndjson', 'json', 'table'] as const;
export type RecordFormat = (typeof recordFormats)[number];

/** A table for a person at a terminal, NDJSON for pipes (what `gh` and `jq` users expect). */
export function defaultFormat(stdoutIsTTY: boolean | undefined): RecordFormat {
  return stdoutIsTTY ? 'table' : 'ndjson';
}

export interface RecordWriter {
  add(row: Row): Promise<void>;
  finish(): Promise<void>;
  /** Of `--fields`, those no record had (probably a typo). */
  unusedFields(): string[];
}

export interface RecordWriterOptions {
  /** `--fields a,b,c`: only these, in this order (every format). */
  fields?: readonly string[];
  /** The terminal's width: a wider table turns into one block per record. */
  terminalWidth?: number;
}

/**
 * NDJSON streams each record as it comes; `json` (one array) and `table` (column widths) need
 * them all first. Records are written with their fields and values as the platform sent them,
 * limited to `--fields` when given.
 */
export function createRecordWriter(
  format: RecordFormat,
  write: (text: string) => Promise<void>,
  options: RecordWriterOptions = {},
): RecordWriter {
  const wanted = options.fields;
  const seen = new Set<string>();
  const pick = (row: Row): Row => {
    if (!wanted) return row;
    for (const key of Object.keys(row)) seen.add(key);
    return Object.fromEntries(wanted.filter((f) => Object.hasOwn(row, f)).map((f) => [f, row[f]]));
  };
  const unusedFields = () => (wanted ?? []).filter((f) => !seen.has(f));
  if (format === 'ndjson') {
    return { add: (row) => write(`${JSON.stringify(pick(row))}\n`), finish: async () => undefined, unusedFields };
  }
  const rows: Row[] = [];
  return {
    unusedFields,
    add: async (row) => {
      rows.push(pick(row));
    },
    finish: async () => {
      if (format === 'json') await write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length > 0) await write(renderTable(rows, options));
    },
  };
}

/**
 * Columns are the union of the records' fields (key and name first, then in the order first
 * seen, or exactly `--fields`); one record, or a table wider than the terminal, is shown
 * turned on its side (formatRecords).
 */
export function renderTable(rows: readonly Row[], options: RecordWriterOptions = {}): string {
  const columns = options.fields ? [...options.fields] : leadingFields(unionOfFields(rows));
  // Own fields only: a row without `__proto__` would otherwise show Object.prototype as "{}".
  const cells = rows.map((row) => columns.map((c) => cellText(Object.hasOwn(row, c) ? row[c] : undefined) ?? ''));
  // The one place platform text is made safe for a terminal: header and cells alike.
  const [header = [], ...body] = [columns, ...cells].map((line) => line.map(terminalText));
  return formatRecords(header, body, options.terminalWidth);
}

function unionOfFields(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

/**
 * Platform text goes to a terminal here: control characters (escape sequences, newlines, C1)
 * and bidi overrides would break the columns or drive the terminal, so they are shown as
 * visible escapes instead (core/terminal-text.ts).
 */
export const terminalText = escapeTerminal;
