import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/errors.js';
import type { Row } from '../../src/core/provider.js';
import { openPostgresSnapshot, type PostgresSnapshot } from '../../src/sinks/snapshot-postgres.js';
import { writeTestSpool } from '../support/spool.js';
import { freshDatabase, pgClient, pgServer, testRecorder } from './helpers.js';

let dir: string;
let url: string;
let db: pg.Client;
const open: PostgresSnapshot[] = [];
const table = 'ecnu_users';

beforeAll(async () => {
  const fresh = await freshDatabase();
  url = fresh.url;
  db = await pgClient(fresh.name);
});
afterAll(async () => {
  await db.end();
});
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-pg-sink-'));
  await db.query(`DROP TABLE IF EXISTS ${table}, ${table}_changes, idsync_runs`);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await fs.rm(dir, { recursive: true, force: true });
});

async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((o) => o.close()));
}

function snapshot(): PostgresSnapshot {
  const s = openPostgresSnapshot(url, { table, keyFields: ['userId'], env: pgServer().env });
  open.push(s);
  return s;
}

const u = (userId: string, extra: Row = {}): Row => ({ userId, name: `n${userId}`, updateTime: '2024-05-01 12:00:00', ...extra });

async function prepare(
  rows: Row[],
  mode: 'full' | 'incremental',
  extra: { runId?: string; recorder?: ReturnType<typeof testRecorder> } = {},
) {
  const s = snapshot();
  await s.preflight();
  await s.lock();
  const spool = await writeTestSpool(dir, rows);
  return s.prepare(spool, {
    mode,
    table,
    updateField: 'updateTime',
    ...(extra.runId !== undefined ? { runId: extra.runId } : {}),
    ...(extra.recorder ? { changes: extra.recorder } : {}),
  });
}

async function run(rows: Row[], mode: 'full' | 'incremental', extra: Parameters<typeof prepare>[2] = {}) {
  const p = await prepare(rows, mode, extra);
  await p.commit();
  await closeAll();
  return p.result;
}

async function tableRows(): Promise<Record<string, string | null>[]> {
  return (await db.query(`SELECT * FROM ${table} ORDER BY "userId"`)).rows as Record<string, string | null>[];
}

async function changeRows(): Promise<Record<string, unknown>[]> {
  return (await db.query(`SELECT run, sequence AS seq, op, key, before, after, changed FROM ${table}_changes ORDER BY run, sequence`))
    .rows as Record<string, unknown>[];
}

/** Applies events in order to a map of rows: what a consumer of the change feed would hold. */
function replay(events: { op: string; key: string; after: unknown }[], into = new Map<string, unknown>()): Map<string, unknown> {
  for (const e of events) {
    if (e.op === 'delete') into.delete(e.key);
    else into.set(e.key, e.after);
  }
  return into;
}

function asDocs(rows: Record<string, string | null>[]): Map<string, unknown> {
  return new Map(rows.map((r) => [r['userId']!, Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null))]));
}

describe('PostgreSQL snapshot', () => {
  it('full, then incremental with insert, update, delete and unchanged rows; events equal the change rows', async () => {
    const rec1 = testRecorder('r1');
    const full = await run(
      [u('001', { age: 30, active: true }), u('002', { meta: { a: [1] } }), u('003'), u('004', { deleted_mark: 1 })],
      'full',
      {
        recorder: rec1,
        runId: 'r1',
      },
    );
    expect(full).toEqual({ total: 3, upserted: 3, deleted: 0 });
    expect(await tableRows()).toEqual([
      { userId: '001', name: 'n001', updateTime: '2024-05-01 12:00:00', age: '30', active: 'true', meta: null, deleted_mark: null },
      { userId: '002', name: 'n002', updateTime: '2024-05-01 12:00:00', age: null, active: null, meta: '{"a":[1]}', deleted_mark: null },
      { userId: '003', name: 'n003', updateTime: '2024-05-01 12:00:00', age: null, active: null, meta: null, deleted_mark: null },
    ]);
    expect(rec1.events.map((e) => [e.op, e.key])).toEqual([
      ['insert', '001'],
      ['insert', '002'],
      ['insert', '003'],
    ]);
    expect(rec1.events[0]!.after).toEqual({ userId: '001', name: 'n001', updateTime: '2024-05-01 12:00:00', age: '30', active: 'true' });

    const xminBefore = (await db.query(`SELECT "userId", xmin::text AS x FROM ${table}`)).rows as { userId: string; x: string }[];
    const rec2 = testRecorder('r2');
    const inc = await run(
      [
        u('001', { age: 30, active: true }), // unchanged
        u('002', { name: '王芳', email: 'w@ecnu.edu.cn', meta: { a: [1] } }), // update + new column
        u('005', { email: 'tab\there\nnew \\ line' }), // insert
        { userId: '003', deleted_mark: 1 }, // delete
        { userId: '999', deleted_mark: 1 }, // delete of an unknown key: nothing
      ],
      'incremental',
      { recorder: rec2, runId: 'r2' },
    );
    expect(inc).toEqual({ total: 3, upserted: 2, deleted: 1 });
    const rows = await tableRows();
    expect(rows.map((r) => [r['userId'], r['name'], r['email']])).toEqual([
      ['001', 'n001', null],
      ['002', '王芳', 'w@ecnu.edu.cn'],
      ['005', 'n005', 'tab\there\nnew \\ line'],
    ]);
    expect(rec2.events.map((e) => [e.op, e.key, [...e.changed].sort()])).toEqual([
      ['update', '002', ['email', 'name']],
      ['delete', '003', ['name', 'updateTime', 'userId']],
      ['insert', '005', ['email', 'name', 'updateTime', 'userId']],
    ]);
    // The unchanged row was not rewritten.
    const xminAfter = (await db.query(`SELECT xmin::text AS x FROM ${table} WHERE "userId" = '001'`)).rows[0] as { x: string };
    expect(xminAfter.x).toBe(xminBefore.find((r) => r.userId === '001')!.x);

    const stored = await changeRows();
    expect(stored).toEqual(
      [...rec1.events, ...rec2.events].map(({ run, seq, op, key, before, after, changed }) => ({
        run,
        seq,
        op,
        key,
        before,
        after,
        changed,
      })),
    );
    expect(replay(stored as never)).toEqual(asDocs(rows));
    expect(await snapshot().mark()).toBe('r2');
  });

  it('a run sent again changes nothing and records nothing', async () => {
    const rows = [u('001'), u('002', { age: 3 })];
    await run(rows, 'full', { recorder: testRecorder('a') });
    const before = await tableRows();
    const again = testRecorder('b');
    expect(await run(rows, 'full', { recorder: again })).toEqual({ total: 2, upserted: 0, deleted: 0 });
    expect(await run(rows, 'incremental', { recorder: again })).toEqual({ total: 2, upserted: 0, deleted: 0 });
    expect(again.events).toEqual([]);
    expect(await tableRows()).toEqual(before);
  });

  it('a full refresh removes keys no longer sent, and readers never see the table empty or half-done', async () => {
    await run([u('001'), u('002'), u('003')], 'full');
    const rec = testRecorder('r');
    const p = await prepare([u('002', { name: 'changed' }), u('004')], 'full', { recorder: rec });
    // Between prepare and commit the transaction is open: another session sees the old table.
    const reader = await pgClient((await db.query('SELECT current_database() AS d')).rows[0].d);
    // A TRUNCATE (or any lock that shuts readers out) makes this reader fail rather than wait.
    await reader.query(`SET lock_timeout = '3s'`);
    try {
      expect((await reader.query(`SELECT "userId", name FROM ${table} ORDER BY 1`)).rows).toEqual([
        { userId: '001', name: 'n001' },
        { userId: '002', name: 'n002' },
        { userId: '003', name: 'n003' },
      ]);
      await p.commit();
      expect((await reader.query(`SELECT "userId", name FROM ${table} ORDER BY 1`)).rows).toEqual([
        { userId: '002', name: 'changed' },
        { userId: '004', name: 'n004' },
      ]);
    } finally {
      await reader.end();
    }
    expect(p.result).toEqual({ total: 2, upserted: 2, deleted: 2 });
    expect(rec.events.map((e) => [e.op, e.key])).toEqual([
      ['delete', '001'],
      ['update', '002'],
      ['delete', '003'],
      ['insert', '004'],
    ]);
  });

  it('schema growth: a new field becomes a column, rows without it keep NULL; fields differing in case share one', async () => {
    await run([u('001'), u('002')], 'full');
    await run([u('002', { phone: '123' }), u('003', { Phone: '456' })], 'incremental');
    const rows = await tableRows();
    expect(Object.keys(rows[0]!)).toEqual(['userId', 'name', 'updateTime', 'phone']);
    expect(rows.map((r) => r['phone'])).toEqual([null, '123', '456']);
  });

  it('abort rolls back everything, including a table created by the run', async () => {
    const p = await prepare([u('001')], 'full', { runId: 'x' });
    await p.abort();
    await closeAll();
    expect((await db.query(`SELECT to_regclass('${table}') AS t`)).rows[0].t).toBeNull();
    await run([u('001')], 'full');
    const p2 = await prepare([u('002', { extra: 'x' })], 'incremental', { recorder: testRecorder() });
    await p2.abort();
    expect(await tableRows()).toEqual([{ userId: '001', name: 'n001', updateTime: '2024-05-01 12:00:00' }]);
    expect((await db.query(`SELECT count(*)::int AS n FROM ${table}_changes`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n).toBe(0);
  });

  it('a connection killed between prepare and commit rolls back, and the next run converges', async () => {
    await run([u('001'), u('002')], 'full', { runId: 'r1', recorder: testRecorder('r1') });
    const p = await prepare([u('001', { name: 'new' }), { userId: '002', deleted_mark: 1 }, u('003')], 'incremental', {
      runId: 'r2',
      recorder: testRecorder('r2'),
    });
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'idsync on %'`,
    );
    const err = await p.commit().catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: ExitCode.network });
    expect((err as Error).message).toMatch(
      /^cannot commit the snapshot to table public\.ecnu_users .*: lost the connection to PostgreSQL .*; the next run finds out/,
    );
    expect((await tableRows()).map((r) => [r['userId'], r['name']])).toEqual([
      ['001', 'n001'],
      ['002', 'n002'],
    ]);
    expect(await snapshot().mark()).toBe('r1');
    expect((await changeRows()).map((r) => r['run'])).toEqual(['r1', 'r1']);

    const rec = testRecorder('r3');
    await run([u('001', { name: 'new' }), { userId: '002', deleted_mark: 1 }, u('003')], 'incremental', { runId: 'r3', recorder: rec });
    expect((await tableRows()).map((r) => [r['userId'], r['name']])).toEqual([
      ['001', 'new'],
      ['003', 'n003'],
    ]);
    expect(rec.events.map((e) => [e.op, e.key])).toEqual([
      ['update', '001'],
      ['delete', '002'],
      ['insert', '003'],
    ]);
    expect(replay((await changeRows()) as never)).toEqual(asDocs(await tableRows()));
  });

  it('a connection killed during the merge (before prepare returns) rolls back', async () => {
    await run([u('001')], 'full');
    const s = snapshot();
    await s.preflight();
    const pid = (
      await db.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'idsync on %'`)
    ).rows[0].pid as number;
    // A lock the merge will queue behind, so that the kill lands in the middle of it.
    const blocker = await pgClient((await db.query('SELECT current_database() AS d')).rows[0].d);
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
    const pending = s
      .prepare(await writeTestSpool(dir, [u('001', { name: 'x' }), u('002')]), { mode: 'incremental', table, updateField: 'updateTime' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    // Waits for the merge to block on the table lock: an event in the server, not a timer.
    await blocker.query(
      `DO $$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = ${pid} AND wait_event_type = 'Lock') LOOP PERFORM pg_sleep(0.01); END LOOP; END $$`,
    );
    await blocker.query(`SELECT pg_terminate_backend(${pid})`);
    await blocker.query('ROLLBACK');
    await blocker.end();
    expect(await pending).toMatchObject({ exitCode: ExitCode.network });
    expect((await tableRows()).map((r) => [r['userId'], r['name']])).toEqual([['001', 'n001']]);
  });
});
