/**
 * Tables for a person at a terminal. Columns when they fit; when a table is wider than the
 * terminal, one block per record (`field  value` lines), as psql's `\x auto` does. Cells come
 * in already made safe for a terminal: this module only measures and pads.
 */

const wide = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;

/** Terminal cells a string takes: CJK and other wide characters count as two. */
export function displayWidth(s: string): number {
  let n = 0;
  for (const ch of s) n += wide.test(ch) ? 2 : 1;
  return n;
}

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

function columnWidths(header: readonly string[], rows: readonly (readonly string[])[]): number[] {
  return header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
}

/** Plain aligned columns, two spaces apart, no trailing blanks. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = columnWidths(header, rows);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** How wide formatTable's lines would be. */
export function tableWidth(header: readonly string[], rows: readonly (readonly string[])[]): number {
  const widths = columnWidths(header, rows);
  return widths.reduce((a, b) => a + b, 0) + 2 * Math.max(0, widths.length - 1);
}

/** One block per record: a `-[ RECORD n ]` rule, then `field  value` lines, fields aligned. */
export function formatRecordBlocks(fields: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = Math.max(0, ...fields.map(displayWidth));
  return rows
    .map((row, r) => {
      const lines = fields.map((f, i) => `${pad(f, width)}  ${row[i] ?? ''}`.trimEnd());
      return [`-[ RECORD ${r + 1} ]${'-'.repeat(Math.max(3, width - 10))}`, ...lines].join('\n');
    })
    .join('\n')
    .concat('\n');
}

/** Columns when they fit in `terminalWidth` (or no width is known), else one block per row. */
export function formatRows(header: readonly string[], rows: readonly (readonly string[])[], terminalWidth?: number): string {
  if (terminalWidth !== undefined && rows.length > 0 && tableWidth(header, rows) > terminalWidth) return formatRecordBlocks(header, rows);
  return formatTable(header, rows);
}

/**
 * Records as a person reads them best: one record is a FIELD/VALUE listing (a single row of
 * forty columns is never readable); several are columns, or blocks when too wide.
 */
export function formatRecords(fields: readonly string[], rows: readonly (readonly string[])[], terminalWidth?: number): string {
  if (rows.length === 1)
    return formatTable(
      ['FIELD', 'VALUE'],
      fields.map((f, i) => [f, rows[0]?.[i] ?? '']),
    );
  return formatRows(fields, rows, terminalWidth);
}

/** The width to fit tables into: the terminal's, or $COLUMNS; none for a pipe or file. */
export function terminalWidth(out: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): number | undefined {
  if (out.isTTY && out.columns) return out.columns;
  const columns = Number(env['COLUMNS']);
  return Number.isInteger(columns) && columns > 0 ? columns : undefined;
}
