import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeTestSpool } from '../support/spool.js';
import type { Row } from '../../src/core/provider.js';
import { EventRecorder } from '../../src/core/sync/changes.js';
import { prepareSqliteSnapshot, startSqliteLoad } from '../../src/sinks/snapshot-sqlite.js';

// A full pull into a new SQLite snapshot builds the table while the pages arrive
// (sqlite-load.ts). What it commits must be what the spool-reading merge commits: the same
// table, columns, rows, change events and <table>_changes rows.

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-sqlite-load-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const RUN = 'r20261203T100000Z-00000000';
const AT = '2026-12-03T10:00:00.000Z';
const isActive = (r: Row): boolean => r['active'] === '1';

function dump(file: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    return {
      schema: db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'idsync_runs%' ORDER BY name`).all(),
      rows: db.prepare('SELECT rowid, * FROM ecnu_users ORDER BY rowid').all(),
      changes: db.prepare(`SELECT * FROM sqlite_master WHERE name = 'ecnu_users_changes'`).get()
        ? db.prepare('SELECT * FROM ecnu_users_changes ORDER BY sequence').all()
        : [],
      runs: db.prepare('SELECT tbl, run, at, total FROM idsync_runs').all(),
    };
  } finally {
    db.close();
  }
}

/** Builds the snapshot from `rows`, through the load (feeding it `fed`, default all) or not. */
async function build(name: string, rows: Row[], viaLoad: boolean, changes: boolean, fed = rows) {
  const sub = path.join(dir, name);
  await fs.mkdir(sub);
  const spool = await writeTestSpool(sub, rows);
  const file = path.join(sub, 's.sqlite');
  let events = '';
  const recorder = changes ? new EventRecorder(RUN, AT, isActive, async (t) => void (events += t)) : undefined;
  const loadEvents = path.join(sub, 'load-events.ndjson');
  const load = viaLoad
    ? await startSqliteLoad(file, {
        table: 'ecnu_users',
        keyFields: ['userId', 'userid'],
        ...(changes ? { changes: { runId: RUN, runAt: AT, isActive, file: loadEvents } } : {}),
      })
    : undefined;
  if (viaLoad) expect(load).toBeDefined();
  // Whether prepare used the built table (else it fell back to the spool).
  let used = false;
  if (load) {
    const take = load.take.bind(load);
    load.take = async (sp, want) => {
      const t = await take(sp, want);
      used = t !== undefined;
      return t;
    };
  }
  for (const r of fed) load?.add(r, String(r['userId'] ?? r['userid']));
  const p = await prepareSqliteSnapshot(spool, file, {
    mode: 'full',
    table: 'ecnu_users',
    updateField: 'updated_at',
    runId: RUN,
    runAt: AT,
    ...(recorder ? { changes: recorder } : {}),
    ...(load ? { load } : {}),
  });
  await recorder?.flush();
  // Events the load recorded as the rows came are the run's, in place of the recorder's.
  if (p.loadedEvents) {
    expect(events).toBe('');
    events = await fs.readFile(p.loadedEvents.file, 'utf8');
    expect(events.split('\n').filter(Boolean)).toHaveLength(p.loadedEvents.count);
    await fs.rm(p.loadedEvents.file); // commitRun moves it into the job's folder
  }
  await p.commit();
  await load?.discard();
  return { result: p.result, db: dump(file), events, files: (await fs.readdir(sub)).sort(), used };
}

const rows: Row[] = [
  { userId: '3', name: '王芳', updated_at: '2024-05-01 12:00:00', deleted_mark: 0, active: '1', Email: 'w@x' },
  { userId: '1', name: 'b', updated_at: '2024-05-02 12:00:00', deleted_mark: 0, active: '0', meta: { a: [1, 'x'] }, flag: true },
  // A field differing only in case shares the column; a new field arrives late; fields in another order.
  { email: 'lower@x', userId: '2', updated_at: '2024-05-03 12:00:00', name: null, late: 1.5 },
  { userId: '10', name: 'n', updated_at: '2024-05-04 12:00:00', deleted_mark: 0, active: '1' },
];

describe('SQLite snapshot built during the scan', () => {
  it('commits the same table, rows and change events as the merge from the spool', async () => {
    for (const changes of [false, true]) {
      const plain = await build(`plain-${changes}`, rows, false, changes);
      const loaded = await build(`loaded-${changes}`, rows, true, changes);
      expect({ ...loaded, used: false }).toEqual(plain);
      expect(loaded.used).toBe(true);
      expect(loaded.result).toEqual({ total: 4, upserted: 4, deleted: 0 });
      if (changes) expect(loaded.events.trim().split('\n')).toHaveLength(4);
    }
  });

  it('the same with hundreds of records (inserted in batches) and a column arriving mid-batch', async () => {
    const many: Row[] = Array.from({ length: 300 }, (_, i) => ({
      userId: `u${i}`,
      name: `n${i}`,
      updated_at: '2024-05-01 12:00:00',
      active: String(i % 2),
      ...(i === 130 ? { late: 'x' } : {}),
      ...(i === 200 ? { LATE: 'y', other: 2 } : {}),
    }));
    const loaded = await build('many-loaded', many, true, true);
    expect(loaded.used).toBe(true);
    expect({ ...loaded, used: false }).toEqual(await build('many-plain', many, false, true));
  });

  it('falls back to the spool when the load does not match it, leaving no temp file', async () => {
    const twice = [...rows, { ...rows[0]!, name: 'newer' }];
    // A key sent twice (the platform moved rows during the scan): the last copy wins.
    const dup = await build('dup-loaded', twice, true, true);
    expect(dup.used).toBe(false);
    expect(dup).toEqual(await build('dup-plain', twice, false, true));
    // A record the load did not see (a resumed spool).
    const short = await build('short-loaded', rows, true, false, rows.slice(1));
    expect(short.used).toBe(false);
    expect(short).toEqual(await build('short-plain', rows, false, false));
  });

  it('is used only if it recorded the events exactly when the run has a change feed', async () => {
    for (const [recorded, wanted] of [
      [false, true],
      [true, false],
    ] as const) {
      const sub = path.join(dir, `events-${recorded}-${wanted}`);
      await fs.mkdir(sub);
      const spool = await writeTestSpool(sub, rows);
      const file = path.join(sub, 's.sqlite');
      const changes = { runId: RUN, runAt: AT, isActive, file: path.join(sub, 'load-events.ndjson') };
      const load = (await startSqliteLoad(file, { table: 'ecnu_users', keyFields: ['userId'], ...(recorded ? { changes } : {}) }))!;
      for (const r of rows) load.add(r, String(r['userId']));
      expect(await load.take(spool, { events: wanted })).toBeUndefined();
      await load.discard();
      expect(await fs.readdir(sub)).not.toContain('load-events.ndjson');
    }
  });

  it('is not used for a snapshot that exists already', async () => {
    const file = path.join(dir, 'exists.sqlite');
    await fs.writeFile(file, '');
    expect(await startSqliteLoad(file, { table: 'ecnu_users', keyFields: ['userId'] })).toBeUndefined();
  });
});
