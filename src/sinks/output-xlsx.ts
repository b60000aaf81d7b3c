import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import ExcelJS from 'exceljs';
import { IdsyncError } from '../core/errors.js';
import { cellText } from './cell-text.js';
import { uniqueLineBatches } from '../core/sync/spool-reader.js';
import type { Spool } from '../core/sync/writers.js';

/** A worksheet holds 1,048,576 rows; one is the header. */
export const xlsxMaxRecords = 1_048_575;

/** Excel refuses longer cell text ("Excel specifications and limits": 32,767 characters). */
const maxCellChars = 32_767;

/** Excel's rules for sheet names: 1–31 characters, none of []:*?/\, not starting/ending with '. */
export function sheetNameFor(name: string): string {
  const cleaned = name
    .replace(/[[\]:*?/\\]/g, '_')
    .replace(/^'+|'+$/g, '')
    .slice(0, 31)
    .replace(/'+$/, '');
  // "History" is reserved by Excel for change tracking.
  return cleaned === '' || cleaned.toLowerCase() === 'history' ? 'Sheet1' : cleaned;
}

function tooManyForXlsx(count: number | 'more'): IdsyncError {
  const what = count === 'more' ? `more than ${xlsxMaxRecords}` : String(count);
  return new IdsyncError(
    `${what} records do not fit in one Excel worksheet (at most ${xlsxMaxRecords}); use --format csv or ndjson`,
  );
}

/** Rows between two looks at how much of the sheet is waiting to be compressed. */
const rowsPerCheck = 500;
const maxPendingBytes = 1024 * 1024;

/**
 * exceljs's streaming writer ignores back-pressure: a committed row is pushed into archiver's
 * input (a PassThrough) whether or not the deflate behind it keeps up, so on a million rows
 * the backlog reaches hundreds of MB. Wait while that backlog is large. The relay is internal
 * to exceljs (WorksheetWriter.stream is a StreamBuf whose `pipes` receive the sheet's XML).
 */
async function waitForZip(sheet: ExcelJS.Worksheet, out: Writable): Promise<void> {
  const relay = (sheet as unknown as { stream?: { pipes?: { _writableState?: { length: number } }[] } }).stream
    ?.pipes?.[0];
  while ((relay?._writableState?.length ?? 0) > maxPendingBytes) {
    if (out.errored) throw out.errored;
    if (out.destroyed) throw new Error('output closed while writing the workbook');
    await sleep(2);
  }
}

function xlsxText(value: unknown): string | undefined {
  const text = cellText(value);
  return text !== undefined && text.length > maxCellChars ? text.slice(0, maxCellChars) : text;
}

/**
 * The spool as a one-sheet workbook streamed into `stream` (which exceljs ends). Every cell is
 * a string, so ids keep their leading zeros and long numbers never turn into 1.23E+17; rows are
 * committed as they go so memory stays flat. Returns the number of records.
 */
export async function writeXlsx(spool: Spool, stream: Writable, sheetName: string): Promise<number> {
  // Checked before writing anything; with duplicate keys the count after dedupe may still fit,
  // so that case is checked again row by row below.
  if (!spool.hasDuplicateKeys && spool.count > xlsxMaxRecords) throw tooManyForXlsx(spool.count);
  const fields = spool.fields;
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: false, useSharedStrings: false });
  const sheet = workbook.addWorksheet(sheetNameFor(sheetName));
  if (fields.length > 0) sheet.addRow([...fields]).commit();
  let count = 0;
  for await (const batch of uniqueLineBatches(spool)) {
    for (const line of batch) {
      if (++count > xlsxMaxRecords) throw tooManyForXlsx('more');
      const row = JSON.parse(line) as Record<string, unknown>;
      sheet.addRow(fields.map((f) => xlsxText(row[f]))).commit();
      if (count % rowsPerCheck === 0) await waitForZip(sheet, stream);
    }
  }
  await workbook.commit();
  return count;
}
