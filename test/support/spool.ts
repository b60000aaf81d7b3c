import fs from 'node:fs/promises';
import path from 'node:path';
import type { Row } from '../../src/core/provider.js';
import type { Spool } from '../../src/core/sync/writers.js';

/**
 * A spool as the engine leaves it: one JSON line per record (or `text` as given), fields in
 * first-seen order, duplicates flagged; the key read from `keyField`, else ECNU's `userid`.
 */
export async function writeTestSpool(dir: string, rows: Row[], opts: { keyField?: string; text?: string } = {}): Promise<Spool> {
  const keyField = opts.keyField ?? 'userId';
  const keyOf = (r: Row) => String(r[keyField] ?? r['userid']);
  const file = path.join(dir, 'run.spool');
  await fs.writeFile(file, opts.text ?? rows.map((r) => JSON.stringify(r) + '\n').join(''));
  const fields: string[] = [];
  const keys = new Set<string>();
  let dup = false;
  for (const r of rows) {
    for (const f of Object.keys(r)) if (!fields.includes(f)) fields.push(f);
    const k = keyOf(r);
    if (keys.has(k)) dup = true;
    keys.add(k);
  }
  return {
    path: file,
    count: rows.length,
    fields,
    hasDuplicateKeys: dup,
    keyField,
    keyOf,
    isDeleted: (r) => r['deleted_mark'] === 1,
  };
}

/** A folder this process cannot create files in; root ignores permissions, so it gets sysfs. */
export async function unwritableFolder(dir: string): Promise<string> {
  if (process.getuid?.() === 0) return '/sys';
  const locked = path.join(dir, 'locked');
  await fs.mkdir(locked, { mode: 0o555 });
  return locked;
}
