import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { DatasetId, Sandbox } from '../../src/sandbox/index.js';
import { readNdjson } from './ndjson.js';

/** What "nothing lost, nothing duplicated, nothing torn" means, checked. */

export interface SnapshotDiff {
  duplicated: string[];
  missing: string[];
  extra: string[];
  changed: string[];
}

/** Keys (a few of each kind) where a snapshot differs from what the platform holds. */
export function diffAgainstTruth(rows: Record<string, unknown>[], truth: Record<string, unknown>[], key: string): SnapshotDiff {
  const seen = new Map<string, Record<string, unknown>>();
  const duplicated: string[] = [];
  for (const r of rows) {
    const k = String(r[key]);
    if (seen.has(k)) duplicated.push(k);
    seen.set(k, r);
  }
  const missing: string[] = [];
  const changed: string[] = [];
  const truthKeys = new Set<string>();
  for (const t of truth) {
    const k = String(t[key]);
    truthKeys.add(k);
    const got = seen.get(k);
    if (!got) missing.push(k);
    else if (JSON.stringify(got) !== JSON.stringify(t)) changed.push(k);
  }
  const extra = [...seen.keys()].filter((k) => !truthKeys.has(k));
  const few = (a: string[]) => a.slice(0, 10);
  return { duplicated: few(duplicated), missing: few(missing), extra: few(extra), changed: few(changed) };
}

/** The NDJSON snapshot holds exactly the platform's current set: one line per key, fields as served. */
export async function expectSnapshotIsTruth(sandbox: Sandbox, file: string, dataset: DatasetId): Promise<void> {
  const rows = await readNdjson(file);
  const truth = sandbox.truth(dataset);
  expect(diffAgainstTruth(rows, truth, sandbox.keyField(dataset))).toEqual({ duplicated: [], missing: [], extra: [], changed: [] });
  expect(rows.length).toBe(truth.length);
}

/** Leftovers of an atomic write (`.<name>.<pid>.<hex>.tmp`, sort runs `.run0`, SQLite's `-journal`) in a folder. */
export async function tempFilesIn(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => /^\..+\.(tmp|run\d+|resume)(-journal|-wal|-shm)?$/.test(n)).sort();
}

/** A file's bytes as a hash, or null when it does not exist. */
export async function digest(file: string): Promise<string | null> {
  try {
    return createHash('sha256')
      .update(await fs.readFile(file))
      .digest('hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function stateFile(home: string, source: string): string {
  return path.join(home, 'state', `${source}.json`);
}

/** The one summary line a pull prints at the end (without --verbose). */
export const summaryLine =
  /^(?<source>[a-z0-9-]+): (?<mode>full|incremental) pull(?<resumed> \(resumed\))?, (?<records>\d+) records.*, (?<pages>\d+) pages?, (?<retries>\d+) retr(?:y|ies), [\d.]+ s/;
