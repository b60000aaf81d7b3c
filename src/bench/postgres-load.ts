/**
 * One PostgreSQL snapshot run as its own process, for the bench:
 * `node dist/bench/postgres-load.js --records FILE --url URL --mode full|incremental [--changes]`.
 * FILE is NDJSON as `pull -o` writes it (ECNU users). It is spooled the way the engine spools a
 * pull, then merged through the PostgreSQL target (preflight, advisory lock, COPY, one
 * transaction, COMMIT). Prints (or writes to --report FILE) one JSON line: milliseconds of the
 * spooling and of the merge.
 * PGPASSWORD (or ~/.pgpass) carries the password, as for idsync itself.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SpoolWriter } from '../core/sync/spool-writer.js';
import { ecnu } from '../providers/ecnu/index.js';
import type { Row } from '../core/provider.js';
import { readLineBatches } from '../core/sync/spool-reader.js';
import type { ChangeEvent, ChangeRecorder } from '../core/sync/changes.js';
import { openPostgresSnapshot } from '../sinks/snapshot-postgres.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string' },
    url: { type: 'string' },
    mode: { type: 'string', default: 'full' },
    changes: { type: 'boolean', default: false },
    report: { type: 'string' },
  },
});
if (!values.records || !values.url || (values.mode !== 'full' && values.mode !== 'incremental')) {
  process.stderr.write('usage: postgres-load --records FILE --url URL --mode full|incremental [--changes]\n');
  process.exit(2);
}
const mode = values.mode;

/** A recorder with the engine's rules in small: an event per differing record, fields compared as text. */
function recorder(run: string): ChangeRecorder & { count: number } {
  let seq = 0;
  const at = new Date().toISOString();
  return {
    count: 0,
    record(key, before, after) {
      const names = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
      const changed = [...names].filter((n) => before?.[n] !== after?.[n]);
      if (changed.length === 0) return undefined;
      this.count++;
      const op = before === null ? 'insert' : after === null ? 'delete' : 'update';
      const active = (r: Record<string, unknown> | null): boolean => r !== null && r['status'] !== 'off';
      const e: ChangeEvent = { run, seq: ++seq, at, op, key, before, after, changed, activeBefore: active(before), activeAfter: active(after) };
      return e;
    },
  };
}

const t0 = performance.now();
const spoolPath = path.join(path.dirname(values.records), `pg-load-${process.pid}.spool`);
const writer = await SpoolWriter.open(spoolPath, {
  keyFields: ecnu.sources.find((s) => s.name === 'ecnu-users')!.keyFields,
  updateField: ecnu.sync.updateField,
  isDeleted: ecnu.sync.isDeleted,
  dropDeleted: mode === 'full',
});
for await (const batch of readLineBatches(values.records)) {
  await writer.append(batch.map((l) => JSON.parse(l) as Row), 'bench');
}
await writer.sync();
await writer.close();
writer.forgetKeys();
const spool = writer.toSpool();
const t1 = performance.now();
const spoolRssKb = process.resourceUsage().maxRSS;

const runId = `bench-${Date.now()}`;
const changes = values.changes ? recorder(runId) : undefined;
const target = openPostgresSnapshot(values.url, { table: 'ecnu_users', keyFields: ['userId', 'userid'] });
try {
  await target.preflight();
  await target.lock();
  const prepared = await target.prepare(spool, {
    mode,
    table: 'ecnu_users',
    updateField: ecnu.sync.updateField,
    runId,
    ...(changes ? { changes } : {}),
  });
  await prepared.commit();
  const t2 = performance.now();
  const line = `${JSON.stringify({ spoolMs: Math.round(t1 - t0), mergeMs: Math.round(t2 - t1), spoolRssKb, ...prepared.result, events: changes?.count ?? null })}\n`;
  if (values.report) await fs.writeFile(values.report, line);
  else process.stdout.write(line);
} finally {
  await target.close();
  await fs.rm(spoolPath, { force: true });
}
