/**
 * A record's own field: `row['__proto__']` on a record without that field would read
 * Object.prototype and write "{}" into the cell.
 */
export function ownField(row: Record<string, unknown>, field: string): unknown {
  return Object.hasOwn(row, field) ? row[field] : undefined;
}

/**
 * A record's value as the text a table shows (CSV cell, XLSX cell, SQLite TEXT column):
 * strings exactly as sent, numbers and booleans through String(), objects and arrays as JSON,
 * and undefined for null/undefined so that each format can write its own "empty".
 */
export function cellText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return undefined;
    default:
      return value === null ? undefined : JSON.stringify(value);
  }
}
