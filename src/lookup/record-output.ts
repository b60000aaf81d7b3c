import { formatTable } from '../core/table.js';
import { cellText } from '../sinks/cell-text.js';
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
}

/**
 * NDJSON streams each record as it comes; `json` (one array) and `table` (column widths) need
 * them all first. Records are written with their fields and values as the platform sent them.
 */
export function createRecordWriter(format: RecordFormat, write: (text: string) => Promise<void>): RecordWriter {
  if (format === 'ndjson') {
    return { add: (row) => write(`${JSON.stringify(row)}\n`), finish: async () => undefined };
  }
  const rows: Row[] = [];
  return {
    add: async (row) => {
      rows.push(row);
    },
    finish: async () => {
      if (format === 'json') await write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length > 0) await write(renderTable(rows));
    },
  };
}

/**
 * One record reads best turned on its side (field, value); several get one row each with the
 * union of their fields as columns, in the order first seen.
 */
export function renderTable(rows: readonly Row[]): string {
  if (rows.length === 1) {
    const row = rows[0] as Row;
    return formatTable(['FIELD', 'VALUE'], Object.entries(row).map(([k, v]) => [terminalText(k), terminalText(cellText(v) ?? '')]));
  }
  const columns: string[] = [];
  const known = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      if (!known.has(key)) {
        known.add(key);
        columns.push(key);
      }
    }
  }
  return formatTable(
    columns.map(terminalText),
    rows.map((row) => columns.map((c) => terminalText(cellText(row[c]) ?? ''))),
  );
}

/**
 * Platform text goes to a terminal here: control characters (escape sequences, newlines) would
 * break the columns or drive the terminal, so they are shown as visible escapes instead.
 */
export function terminalText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => JSON.stringify(ch).slice(1, -1));
}
