import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import ExcelJS from 'exceljs';
import { IdsyncError } from '../core/errors.js';
import { leadingFields } from '../core/record-fields.js';
import { displayWidth } from '../core/table.js';
import { cellText, ownField } from './cell-text.js';
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
  return new IdsyncError(`${what} records do not fit in one Excel worksheet (at most ${xlsxMaxRecords}); use --format csv or ndjson`);
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
  const relay = (sheet as unknown as { stream?: { pipes?: { _writableState?: { length: number } }[] } }).stream?.pipes?.[0];
  while ((relay?._writableState?.length ?? 0) > maxPendingBytes) {
    if (out.errored) throw out.errored;
    if (out.destroyed) throw new Error('output closed while writing the workbook');
    await sleep(2);
  }
}

/** Characters XML 1.0 cannot carry (C0 controls but tab and LF), and CR, which XML readers turn into LF. */
const notInXml = /[\u0000-\u0008\u000B-\u001F\uFFFE\uFFFF]/g;

/**
 * Such characters as OOXML's `_xHHHH_` escapes, which Excel and LibreOffice decode (exceljs
 * dropped them, and a CR came back as LF), so that a cell holds what the platform sent. A
 * literal `_xHHHH_` in the data is escaped itself (`_x005F_`), as Excel does.
 */
export function ooxmlText(text: string): string {
  if (!/[\u0000-\u0008\u000B-\u001F\uFFFE\uFFFF]|_x[0-9A-Fa-f]{4}_/.test(text)) return text;
  return text
    .replace(/_(?=x[0-9A-Fa-f]{4}_)/g, '_x005F_')
    .replace(notInXml, (c) => `_x${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`);
}

function xlsxText(value: unknown): string | undefined {
  const text = cellText(value);
  if (text === undefined) return undefined;
  return ooxmlText(text.length > maxCellChars ? text.slice(0, maxCellChars) : text);
}

/**
 * Each string as an inline rich-text run: exceljs writes it `<is><r><t xml:space="preserve">`
 * when it has leading or trailing space, so a value of " " reads back as " " everywhere. Its
 * plain strings (`t="str"`) lose that attribute and LibreOffice reads such a cell as empty;
 * shared strings would keep every distinct value in memory until the end.
 */
function xlsxCell(value: unknown): ExcelJS.CellRichTextValue | undefined {
  const text = xlsxText(value);
  return text === undefined ? undefined : { richText: [{ text }] };
}

const textStyle: Partial<ExcelJS.Style> = { numFmt: '@' };

/** Rows looked at to fit the column widths before the first row is written. */
const widthSampleRows = 1000;
const minWidth = 6;
const maxWidth = 60;

/** A column as wide as its header and the sampled values (CJK counts double), within bounds. */
export function columnWidths(fields: readonly string[], sample: readonly Record<string, unknown>[]): number[] {
  return fields.map((f) => {
    let widest = displayWidth(f);
    for (const row of sample) widest = Math.max(widest, displayWidth(xlsxText(ownField(row, f)) ?? ''));
    return Math.min(maxWidth, Math.max(minWidth, widest + 2));
  });
}

/** 1 → A, 27 → AA. */
function columnLetter(n: number): string {
  let s = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}

/** The first rows, kept for the width sample, then the rest, one batch at a time. */
async function* sampled(spool: Spool, sample: Record<string, unknown>[]): AsyncGenerator<Array<Record<string, unknown>>> {
  const batches = uniqueLineBatches(spool)[Symbol.asyncIterator]();
  const held: Array<Record<string, unknown>[]> = [];
  for (let r = await batches.next(); ; r = await batches.next()) {
    if (r.done) break;
    const rows = r.value.map((line) => JSON.parse(line) as Record<string, unknown>);
    held.push(rows);
    sample.push(...rows.slice(0, widthSampleRows - sample.length));
    if (sample.length >= widthSampleRows) break;
  }
  yield* held;
  for (let r = await batches.next(); !r.done; r = await batches.next()) {
    yield r.value.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

/**
 * The spool as a one-sheet workbook streamed into `stream` (which exceljs ends), set up for a
 * person: key and name first, a bold frozen header with a filter, columns fitted to the first
 * rows, every cell a string formatted as Text (ids keep leading zeros and retyping one does not
 * turn it into a number), printed to the page width. Rows are committed as they go so memory
 * stays flat. Returns the number of records.
 */
export async function writeXlsx(spool: Spool, stream: Writable, sheetName: string): Promise<number> {
  // Checked before writing anything; with duplicate keys the count after dedupe may still fit,
  // so that case is checked again row by row below.
  if (!spool.hasDuplicateKeys && spool.count > xlsxMaxRecords) throw tooManyForXlsx(spool.count);
  const fields = leadingFields(spool.fields, [spool.keyField]);
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet(sheetNameFor(sheetName), {
    views: [{ state: 'frozen', xSplit: 0, ySplit: 1, topLeftCell: 'A2', activeCell: 'A2' }],
    pageSetup: { orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 },
  });
  const sample: Record<string, unknown>[] = [];
  const rows = sampled(spool, sample);
  const first = await rows.next();
  const widths = columnWidths(fields, sample);
  sheet.columns = fields.map((f, i) => ({ key: f, width: widths[i] ?? minWidth, style: textStyle }));
  if (fields.length > 0) {
    const header = sheet.addRow(fields.map((f) => xlsxCell(f)));
    header.font = { bold: true };
    header.commit();
  }
  let count = 0;
  const write = async (batch: Array<Record<string, unknown>>) => {
    for (const row of batch) {
      if (++count > xlsxMaxRecords) throw tooManyForXlsx('more');
      const written = sheet.addRow(fields.map((f) => xlsxCell(ownField(row, f))));
      // One style object for every cell: exceljs then finds its id by identity, not by content.
      written.eachCell((cell) => {
        cell.style = textStyle;
      });
      written.commit();
      if (count % rowsPerCheck === 0) await waitForZip(sheet, stream);
    }
  };
  if (!first.done) await write(first.value);
  for await (const batch of rows) await write(batch);
  // Read by exceljs at commit: the filter covers every row written.
  if (fields.length > 0) sheet.autoFilter = `A1:${columnLetter(fields.length)}${count + 1}`;
  await workbook.commit();
  return count;
}
