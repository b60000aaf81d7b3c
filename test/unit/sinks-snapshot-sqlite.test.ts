import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeTestSpool } from '../support/spool.js';
import { IdsyncError } from '../../src/core/errors.js';
import type { Row } from '../../src/core/provider.js';
import { prepareSnapshot } from '../../src/sinks/index.js';
import type { SnapshotResult, Spool } from '../../src/core/sync/writers.js';

let dir: string;
let dbFile: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-sqlite-'));
  dbFile = path.join(dir, 'users.sqlite');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function writeSpool(rows: Row[], keyField = 'userId'): Promise<Spool> {
  return writeTestSpool(dir, rows, { keyField });
}

async function run(rows: Row[], mode: 'full' | 'incremental', file = dbFile): Promise<SnapshotResult> {
  const p = await prepareSnapshot(await writeSpool(rows), file, { mode, table: 'ecnu_users', updateField: 'updateTime' });
  await p.commit();
  return p.result;
}

function query<T>(sql: string, file = dbFile): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

const u = (userId: string, extra: Row = {}): Row => ({ userId, name: `n${userId}`, updateTime: '2024-05-01 12:00:00', ...extra });

describe('SQLite snapshot', () => {
  it('full, then incremental with deletions and a new field', async () => {
    const full = await run(
      [u('001', { age: 30, active: true }), u('002', { meta: { a: [1] } }), u('003'), u('004', { deleted_mark: 1 })],
      'full',
    );
    expect(full).toEqual({ total: 3, upserted: 3, deleted: 0 });
    expect(query('SELECT * FROM ecnu_users ORDER BY userId')).toEqual([
      { userId: '001', name: 'n001', updateTime: '2024-05-01 12:00:00', age: '30', active: 'true', meta: null, deleted_mark: null },
      { userId: '002', name: 'n002', updateTime: '2024-05-01 12:00:00', age: null, active: null, meta: '{"a":[1]}', deleted_mark: null },
      { userId: '003', name: 'n003', updateTime: '2024-05-01 12:00:00', age: null, active: null, meta: null, deleted_mark: null },
    ]);

    const inc = await run(
      [
        u('002', { name: '王芳', email: 'w@ecnu.edu.cn' }),
        u('005', { email: 'x@y' }),
        { userId: '003', deleted_mark: 1 },
        { userId: '999', deleted_mark: 1 },
      ],
      'incremental',
    );
    expect(inc).toEqual({ total: 3, upserted: 2, deleted: 1 });
    const rows = query<Row>('SELECT userId, name, age, meta, email FROM ecnu_users ORDER BY userId');
    expect(rows).toEqual([
      { userId: '001', name: 'n001', age: '30', meta: null, email: null },
      // Replaced as a whole: fields this version lacks (meta) are NULL, not left over.
      { userId: '002', name: '王芳', age: null, meta: null, email: 'w@ecnu.edu.cn' },
      { userId: '005', name: 'n005', age: null, meta: null, email: 'x@y' },
    ]);
  });

  it('declares TEXT columns, the key as primary key, an index on the update field, WAL mode', async () => {
    await run([u('1', { n: 1 })], 'full');
    const cols = query<{ name: string; type: string; pk: number }>("SELECT name, type, pk FROM pragma_table_info('ecnu_users')");
    expect(cols).toEqual([
      { name: 'userId', type: 'TEXT', pk: 1 },
      { name: 'name', type: 'TEXT', pk: 0 },
      { name: 'updateTime', type: 'TEXT', pk: 0 },
      { name: 'n', type: 'TEXT', pk: 0 },
    ]);
    const indexes = query<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL");
    expect(indexes.map((i) => i.sql)).toEqual(['CREATE INDEX "ecnu_users_updateTime_idx" ON "ecnu_users" ("updateTime")']);
    expect(query<{ journal_mode: string }>('PRAGMA journal_mode')[0]!.journal_mode).toBe('wal');
    expect(query<{ typeof: string }>('SELECT typeof(n) AS typeof FROM ecnu_users')).toEqual([{ typeof: 'text' }]);
  });

  it('keeps the last occurrence of a key that came twice, and full empties what the run lacks', async () => {
    await run([u('a'), u('b'), u('c')], 'full');
    const r = await run([u('b', { v: 'old' }), u('d'), u('b', { v: 'new' }), u('d', { deleted_mark: 1 })], 'full');
    // The full pull removed a and c, which the run no longer sent.
    expect(r).toEqual({ total: 1, upserted: 1, deleted: 2 });
    expect(query('SELECT userId, v FROM ecnu_users')).toEqual([{ userId: 'b', v: 'new' }]);
  });

  it('handles odd field names and a field that differs only in case from a column', async () => {
    await run([u('1', { 'we"ird': 'q', 'sp ace': 's' })], 'full');
    // ECNU documents userid and sends userId: SQLite names are case-insensitive, so one column.
    const r = await run([{ userid: '2', NAME: 'upper' }], 'incremental');
    expect(r.total).toBe(2);
    expect(query('SELECT userId, name, "we""ird", "sp ace" FROM ecnu_users ORDER BY userId')).toEqual([
      { userId: '1', name: 'n1', 'we"ird': 'q', 'sp ace': 's' },
      { userId: '2', name: 'upper', 'we"ird': null, 'sp ace': null },
    ]);
  });

  it('abort leaves the database exactly as it was', async () => {
    await run([u('1'), u('2')], 'full');
    const before = query('SELECT * FROM ecnu_users ORDER BY userId');
    for (const mode of ['full', 'incremental'] as const) {
      const p = await prepareSnapshot(await writeSpool([u('3', { extra: 'x' }), { userId: '1', deleted_mark: 1 }]), dbFile, {
        mode,
        table: 'ecnu_users',
        updateField: 'updateTime',
      });
      expect(p.result.total).toBe(mode === 'full' ? 1 : 2);
      await p.abort();
      expect(query('SELECT * FROM ecnu_users ORDER BY userId')).toEqual(before);
    }
    expect(query<{ name: string }>("SELECT name FROM pragma_table_info('ecnu_users')").map((c) => c.name)).not.toContain('extra');
  });

  it('abort removes a database this run created, but not once committed', async () => {
    const p = await prepareSnapshot(await writeSpool([u('1')]), dbFile, { mode: 'full', table: 't', updateField: 'x' });
    await p.abort();
    expect(await fs.readdir(dir)).toEqual(['run.spool']);
    const q = await prepareSnapshot(await writeSpool([u('1')]), dbFile, { mode: 'full', table: 't', updateField: 'x' });
    await q.commit();
    await q.abort(); // what the engine does when another output fails to commit after this one
    expect(query('SELECT userId FROM t')).toEqual([{ userId: '1' }]);
  });

  it('is chosen by the .db extension too, and readers see the old rows until commit', async () => {
    const file = path.join(dir, 'snap.db');
    await run([u('1')], 'full', file);
    const p = await prepareSnapshot(await writeSpool([u('2')]), file, {
      mode: 'incremental',
      table: 'ecnu_users',
      updateField: 'updateTime',
    });
    expect(query('SELECT userId FROM ecnu_users', file)).toEqual([{ userId: '1' }]);
    await p.commit();
    expect(query('SELECT userId FROM ecnu_users ORDER BY userId', file)).toEqual([{ userId: '1' }, { userId: '2' }]);
  });

  it('refuses an incremental run into a table keyed by another field', async () => {
    await run([u('1')], 'full');
    const spool = await writeSpool([{ xh: 'S1' }], 'xh');
    const attempt = prepareSnapshot(spool, dbFile, { mode: 'incremental', table: 'ecnu_users', updateField: 'updateTime' });
    await expect(attempt).rejects.toThrow(IdsyncError);
    await expect(attempt).rejects.toThrow(/keyed by userId, this source by xh/);
    expect(query('SELECT userId FROM ecnu_users')).toEqual([{ userId: '1' }]);
  });

  it('reports a file that is not a database in one line', async () => {
    await fs.writeFile(dbFile, 'this is not sqlite, just some text that is long enough to have a header'.repeat(20));
    const attempt = prepareSnapshot(await writeSpool([u('1')]), dbFile, { mode: 'full', table: 't', updateField: 'x' });
    await expect(attempt).rejects.toThrow(new IdsyncError(`cannot write ${dbFile}: not an SQLite database`));
  });

  it('writes 100k rows in one transaction quickly', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => u(String(i).padStart(8, '0'), { dept: '计算机学院', i, deleted_mark: 0 }));
    const started = Date.now();
    const r = await run(rows, 'full');
    expect(r.total).toBe(100_000);
    const again = await run(
      rows.slice(0, 1000).map((x) => ({ ...x, dept: 'changed' })),
      'incremental',
    );
    expect(again).toEqual({ total: 100_000, upserted: 1000, deleted: 0 });
    expect(query<{ n: number }>("SELECT count(*) AS n FROM ecnu_users WHERE dept = 'changed'")[0]!.n).toBe(1000);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});
