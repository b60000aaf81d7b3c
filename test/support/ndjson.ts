import fs from 'node:fs/promises';

/** The NDJSON lines of a text, parsed; blank lines are skipped. */
export function parseNdjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export async function readNdjson(file: string): Promise<Record<string, unknown>[]> {
  return parseNdjson(await fs.readFile(file, 'utf8'));
}

export function byKey(rows: Record<string, unknown>[], key: string): Map<string, Record<string, unknown>> {
  return new Map(rows.map((r) => [String(r[key]), r]));
}

/** The non-empty lines of a process's output. */
export function lines(text: unknown): string[] {
  return String(text ?? '')
    .split('\n')
    .filter(Boolean);
}
