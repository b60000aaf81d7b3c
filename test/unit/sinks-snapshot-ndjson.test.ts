import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdsyncError } from '../../src/core/errors.js';
import type { Row } from '../../src/core/provider.js';
import { prepareSnapshot } from '../../src/sinks/index.js';
import type { SnapshotOptions, SnapshotResult, Spool } from '../../src/core/sync/writers.js';

let dir: string;
let snapFile: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-snap-'));
  snapFile = path.join(dir, 'users.ndjson');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const isDeleted = (r: Row): boolean => r['deleted_mark'] === 1;

/** Writes a spool (one line per record, as given) the way the engine does. */
async function writeSpool(lines: string[]): Promise<Spool> {
  const file = path.join(dir, 'run.spool');
  await fs.writeFile(file, lines.map((l) => l + '\n').join(''));
  const keys = new Set<string>();
  let dup = false;
  for (const l of lines) {
    const k = String((JSON.parse(l) as Row)['userId']);
    if (keys.has(k)) dup = true;
    keys.add(k);
  }
  return {
    path: file,
    count: lines.length,
    fields: ['userId'],
    hasDuplicateKeys: dup,
    keyField: 'userId',
    keyOf: (r) => String(r['userId']),
    isDeleted,
  };
}

const rec = (userId: string, extra: Row = {}): string => JSON.stringify({ userId, ...extra });
const gone = (userId: string): string => JSON.stringify({ userId, deleted_mark: 1 });

async function run(lines: string[], mode: 'full' | 'incremental', extra: Partial<SnapshotOptions> = {}): Promise<SnapshotResult> {
  const p = await prepareSnapshot(await writeSpool(lines), snapFile, { mode, table: 't', updateField: 'u', ...extra });
  await p.commit();
  return p.result;
}

async function snapshotLines(): Promise<string[]> {
  const text = await fs.readFile(snapFile, 'utf8');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}

/** What the snapshot must hold: last occurrence per key, tombstones removed, sorted by key. */
function expected(previous: Map<string, string>, lines: string[]): string[] {
  const next = new Map(previous);
  for (const l of lines) {
    const row = JSON.parse(l) as Row;
    if (isDeleted(row)) next.delete(String(row['userId']));
    else next.set(String(row['userId']), l);
  }
  previous.clear();
  for (const [k, v] of next) previous.set(k, v);
  return [...next.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => next.get(k)!);
}

describe('NDJSON snapshot', () => {
  it('full replaces the previous snapshot and never keeps tombstones', async () => {
    await run([rec('a'), rec('b'), rec('c')], 'full');
    const result = await run([rec('d', { v: 1 }), rec('b', { v: 2 }), gone('e')], 'full');
    expect(await snapshotLines()).toEqual([rec('b', { v: 2 }), rec('d', { v: 1 })]);
    expect(result).toEqual({ total: 2, upserted: 2, deleted: 0 });
  });

  it('incremental merges updates, inserts and deletions into the previous snapshot', async () => {
    await run([rec('a', { v: 1 }), rec('b', { v: 1 }), rec('c', { v: 1 })], 'full');
    const result = await run([rec('b', { v: 2 }), rec('d', { v: 1 }), gone('c'), gone('zz')], 'incremental');
    expect(await snapshotLines()).toEqual([rec('a', { v: 1 }), rec('b', { v: 2 }), rec('d', { v: 1 })]);
    // zz was never in the snapshot: its tombstone removes nothing and is not counted.
    expect(result).toEqual({ total: 3, upserted: 2, deleted: 1 });
  });

  it('keeps the last occurrence when a key arrives twice in one run', async () => {
    await run([rec('k3'), rec('k9')], 'full');
    const result = await run(
      [rec('k1', { v: 'old' }), rec('k2'), rec('k1', { v: 'new' }), rec('k3'), gone('k3'), gone('k4'), rec('k4', { v: 'back' })],
      'incremental',
    );
    expect(await snapshotLines()).toEqual([rec('k1', { v: 'new' }), rec('k2'), rec('k4', { v: 'back' }), rec('k9')]);
    expect(result).toEqual({ total: 4, upserted: 3, deleted: 1 });
  });

  it('writes lines sorted by key in JS string order, with their original text', async () => {
    const keys = ['b', 'a', 'B', '10', '9', '张三', 'é', '😀', '\uffff', 'a"b', 'a\\b', 'a\tb', ''];
    const lines = keys.map((k, i) => (i === 0 ? `{"userId":"b",   "spacing" : "kept"}` : rec(k, { i })));
    await run(lines, 'full', { sortChunkLines: 3 });
    const got = (await snapshotLines()).map((l) => String((JSON.parse(l) as Row)['userId']));
    expect(got).toEqual([...keys].sort());
    expect(await snapshotLines()).toContain(`{"userId":"b",   "spacing" : "kept"}`);
  });

  it('gives the same answer through a many-run external sort as the in-memory model', async () => {
    let seed = 7;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const model = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      const lines = Array.from({ length: 3000 }, (_, i) => {
        const id = `u${random(800)}`;
        return random(10) === 0 ? gone(id) : rec(id, { round, i, name: '名字'.repeat(random(5)) });
      });
      const want = expected(model, lines);
      const mode = round === 0 ? 'full' : 'incremental';
      const previous = round === 0 ? undefined : await fs.readFile(snapFile);
      // In one chunk (no run files) first, then through 60 runs from the same previous snapshot.
      await run(lines, mode, { sortChunkLines: 1_000_000 });
      const inMemory = await fs.readFile(snapFile);
      if (previous) await fs.writeFile(snapFile, previous);
      await run(lines, mode, { sortChunkLines: 50 });
      expect(await snapshotLines()).toEqual(want);
      expect(await fs.readFile(snapFile)).toEqual(inMemory);
      expect((await fs.readdir(dir)).sort()).toEqual(['run.spool', 'users.ndjson']); // run files removed
    }
  });

  it('sorts a previous snapshot edited out of order instead of failing', async () => {
    // Hand-edited: unsorted, a duplicate key (the later line wins) and a stray tombstone.
    const previous = [rec('m', { v: 1 }), rec('c', { v: 1 }), rec('x', { v: 1 }), rec('c', { v: 2 }), gone('q'), rec('a')];
    await fs.writeFile(snapFile, previous.join('\n') + '\n');
    const result = await run([rec('b'), gone('x')], 'incremental', { sortChunkLines: 2 });
    expect(await snapshotLines()).toEqual([rec('a'), rec('b'), rec('c', { v: 2 }), rec('m', { v: 1 })]);
    expect(result).toEqual({ total: 4, upserted: 1, deleted: 1 });
    expect((await fs.readdir(dir)).sort()).toEqual(['run.spool', 'users.ndjson']);
  });

  it('treats a missing previous snapshot as empty', async () => {
    const result = await run([rec('b'), rec('a'), gone('c')], 'incremental');
    expect(await snapshotLines()).toEqual([rec('a'), rec('b')]);
    expect(result).toEqual({ total: 2, upserted: 2, deleted: 0 });
  });

  it('abort leaves the previous snapshot byte for byte and no temp files', async () => {
    await run([rec('a'), rec('b')], 'full');
    const before = await fs.readFile(snapFile);
    const spool = await writeSpool(Array.from({ length: 500 }, (_, i) => rec(`n${i}`)));
    const p = await prepareSnapshot(spool, snapFile, { mode: 'incremental', table: 't', updateField: 'u', sortChunkLines: 10 });
    await p.abort();
    expect(await fs.readFile(snapFile)).toEqual(before);
    expect((await fs.readdir(dir)).sort()).toEqual(['run.spool', 'users.ndjson']);
  });

  it('fails with a one-line error on a corrupt previous snapshot, cleaning up', async () => {
    await fs.writeFile(snapFile, `${rec('a')}\n{not json\n`);
    const before = await fs.readFile(snapFile);
    const spool = await writeSpool(Array.from({ length: 100 }, (_, i) => rec(`n${i}`)));
    const attempt = prepareSnapshot(spool, snapFile, { mode: 'incremental', table: 't', updateField: 'u', sortChunkLines: 10 });
    await expect(attempt).rejects.toThrow(new IdsyncError(`${snapFile} line 2 is not a JSON record`));
    expect(await fs.readFile(snapFile)).toEqual(before);
    expect((await fs.readdir(dir)).sort()).toEqual(['run.spool', 'users.ndjson']);
  });

  it('merges 200k records through many sorted runs', async () => {
    const names = ['张伟', '王芳', '李娜', '刘洋'];
    const first = Array.from({ length: 200_000 }, (_, i) =>
      rec(String((i * 7919) % 200_000).padStart(8, '0'), { name: names[i % 4], dept: '计算机科学与技术学院', i }),
    );
    const full = await run(first, 'full', { sortChunkLines: 20_000 });
    const changes = Array.from({ length: 50_000 }, (_, i) =>
      i % 5 === 0 ? gone(String(i * 4).padStart(8, '0')) : rec(String(i * 4 + 1).padStart(8, '0'), { v: 2 }),
    );
    const inc = await run(changes, 'incremental', { sortChunkLines: 7_000 });
    expect(full).toEqual({ total: 200_000, upserted: 200_000, deleted: 0 });
    expect(inc).toEqual({ total: 190_000, upserted: 40_000, deleted: 10_000 });
    const lines = await snapshotLines();
    expect(lines).toHaveLength(190_000);
    const keys = lines.map((l) => (JSON.parse(l) as { userId: string }).userId);
    expect(keys.every((k, i) => i === 0 || keys[i - 1]! < k)).toBe(true);
    expect(lines[keys.indexOf('00000005')]).toBe(rec('00000005', { v: 2 }));
    expect(keys).not.toContain('00000000');
  }, 30_000);
});
