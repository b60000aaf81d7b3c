import fs from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { byKey, readNdjson } from '../support/ndjson.js';

/** Issue 10: the change feed says exactly what each run changed in the snapshot. */

interface Event {
  run: string;
  seq: number;
  at: string;
  op: 'insert' | 'update' | 'delete';
  key: string;
  activeBefore: boolean;
  activeAfter: boolean;
  changed: string[];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 23 });
});
afterAll(async () => {
  await sandbox.close();
});

const readEvents = async (file: string) => (await readNdjson(file)) as unknown as Event[];

/** Applies events in order; each one must start from what the replay holds (exactly once). */
export function replay(state: Map<string, Record<string, unknown>>, events: Event[]): void {
  for (const e of events) {
    expect(state.get(e.key) ?? null, `${e.run}#${e.seq} ${e.op} ${e.key}`).toEqual(e.before);
    if (e.after === null) state.delete(e.key);
    else state.set(e.key, e.after);
  }
}

describe('change feed into an NDJSON snapshot', () => {
  it('first all inserts; then exactly the updates, departures, deletions and inserts; re-sent rows are silent', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 'staff.ndjson');
    const changes = path.join(home, 'changes.ndjson');
    const dataset = 'ecnu-staff';
    const key = sandbox.keyField(dataset);
    const run = async (since = 'last') => {
      const r = await idsync(['pull', dataset, '--since', since, '--snapshot', snap, '--changes', changes], env);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      return { events: await readEvents(changes), stderr: String(r.stderr) };
    };
    const state = new Map<string, Record<string, unknown>>();

    const first = await run();
    expect(first.events.length).toBe(sandbox.truth(dataset).length);
    expect(first.events.every((e) => e.op === 'insert' && e.before === null && !e.activeBefore)).toBe(true);
    expect(first.events.map((e) => e.seq)).toEqual(first.events.map((_, i) => i + 1));
    expect(new Set(first.events.map((e) => e.run)).size).toBe(1);
    replay(state, first.events);

    const updated = sandbox.mutate({ dataset, op: 'update', count: 3 });
    const departed = sandbox.mutate({ dataset, op: 'depart', count: 2 });
    const deleted = sandbox.mutate({ dataset, op: 'delete', count: 2 });
    const inserted = sandbox.mutate({ dataset, op: 'insert', count: 2 });
    const second = await run();
    const byOp = (op: Event['op']) =>
      second.events
        .filter((e) => e.op === op)
        .map((e) => e.key)
        .sort();
    expect(byOp('update')).toEqual([...updated, ...departed].sort());
    expect(byOp('delete')).toEqual([...deleted].sort());
    expect(byOp('insert')).toEqual([...inserted].sort());
    for (const e of second.events.filter((x) => departed.includes(x.key))) {
      expect([e.activeBefore, e.activeAfter]).toEqual([true, false]);
      expect(e.changed).toContain('status');
    }
    for (const e of second.events) {
      expect(e.changed.length).toBeGreaterThan(0);
      if (e.op === 'update') for (const f of e.changed) expect(e.before![f]).not.toEqual(e.after![f]);
    }
    replay(state, second.events);

    // Nothing changed: the overlap window re-sends rows, a full refresh re-sends them all.
    for (const since of ['last', '0']) {
      const quiet = await run(since);
      expect(quiet.events).toEqual([]);
      expect(await fs.stat(changes).then((s) => s.size)).toBe(0);
    }
    const snapRows = await readNdjson(snap);
    expect(new Map([...state].sort())).toEqual(new Map(snapRows.map((r) => [String(r[key]), r])));
    expect(byKey(snapRows, key).size).toBe(sandbox.truth(dataset).length);

    // The README's filter for "who left today".
    sandbox.mutate({ dataset, op: 'depart', count: 1 });
    await run();
    const left = await execa('jq', ['-r', 'select(.activeBefore and (.activeAfter | not)) | .key', changes]);
    expect(left.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it("a consumer emptying or editing a delivered changes file in place does not touch the next runs' feed", async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 's.ndjson');
    const changes = path.join(home, 'c.ndjson');
    const args = ['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', snap, '--changes', changes];
    const state = new Map<string, Record<string, unknown>>();
    expect((await idsync(args, env)).exitCode).toBe(0);
    replay(state, await readEvents(changes));
    // Processed, then emptied in place (same inode), as a script might to mark it done.
    await fs.truncate(changes, 0);
    const updated = sandbox.mutate({ dataset: 'ecnu-postdocs', op: 'update', count: 2 });
    expect((await idsync(args, env)).exitCode).toBe(0);
    const second = await readEvents(changes);
    expect(second.map((e) => e.key).sort()).toEqual([...updated].sort());
    replay(state, second);
    // Edited in place this time: appended to.
    await fs.appendFile(changes, '{"not":"an event"}\n');
    const gone = sandbox.mutate({ dataset: 'ecnu-postdocs', op: 'delete', count: 1 });
    expect((await idsync(args, env)).exitCode).toBe(0);
    const third = await readEvents(changes);
    expect(third.map((e) => [e.op, e.key])).toEqual(gone.map((k) => ['delete', k]));
    replay(state, third);
    expect(state).toEqual(byKey(await readNdjson(snap), sandbox.keyField('ecnu-postdocs')));
  });

  it('a run killed after saving its state but before its changes file appeared has its events delivered by the next run', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 'staff.ndjson');
    const changes = path.join(home, 'changes.ndjson');
    const run = async () => {
      const r = await idsync(['pull', 'ecnu-staff', '--since', 'last', '--snapshot', snap, '--changes', changes, '--verbose'], env);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      return { events: await readEvents(changes), stderr: String(r.stderr) };
    };
    const state = new Map<string, Record<string, unknown>>();
    replay(state, (await run()).events);
    sandbox.mutate({ dataset: 'ecnu-staff', op: 'update', count: 3 });
    const second = await run();
    expect(second.events.length).toBeGreaterThan(0);
    // Undo the rename the run did last: as if killed between saving its state and the rename.
    const [folder] = await fs.readdir(path.join(home, 'jobs'));
    const journal = JSON.parse(await fs.readFile(path.join(home, 'jobs', folder!, 'journal.json'), 'utf8')) as {
      delivery: { temp: string };
    };
    await fs.rename(changes, journal.delivery.temp);
    const third = await run();
    expect(third.stderr).toMatch(/changes file of run r\S+ never appeared/);
    expect(third.events).toEqual(second.events);
    replay(state, third.events);
    await expect(fs.stat(journal.delivery.temp)).rejects.toThrow();
    // A delivered file the consumer has since removed is not delivered again.
    await fs.rm(changes);
    sandbox.mutate({ dataset: 'ecnu-staff', op: 'update', count: 1 });
    const fourth = await run();
    expect(fourth.events.every((e) => e.run !== second.events[0]!.run)).toBe(true);
    replay(state, fourth.events);
    const key = sandbox.keyField('ecnu-staff');
    expect(new Map([...byKey(await readNdjson(snap), key)].sort())).toEqual(new Map([...state].sort()));
  });

  it('a full refresh reports the people no longer sent as deletions', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 's.ndjson');
    const changes = path.join(home, 'c.ndjson');
    const args = ['pull', 'ecnu-postdocs', '--snapshot', snap, '--changes', changes];
    expect((await idsync(args, env)).exitCode).toBe(0);
    const gone = sandbox.mutate({ dataset: 'ecnu-postdocs', op: 'delete', count: 2 });
    expect((await idsync(args, env)).exitCode).toBe(0);
    const events = await readEvents(changes);
    expect(events.map((e) => [e.op, e.key]).sort()).toEqual(gone.map((k) => ['delete', k]).sort());
  });
});

describe('change feed across file systems', () => {
  const mounts: string[] = [];
  /** A small tmpfs at `dir`, where mounting works (root in a container that allows it). */
  const mountTmpfs = async (dir: string): Promise<boolean> => {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const m = await execa('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', dir], { reject: false });
    if (m.exitCode === 0) mounts.push(dir);
    return m.exitCode === 0;
  };
  afterAll(async () => {
    for (const m of mounts) await execa('umount', [m], { reject: false });
  });

  it('copies where it cannot link or rename: work folder, job folder and changes file on three file systems', async (ctx) => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    // The run's work folder (where a first SQLite run records its events) and the changes
    // file's folder each on a tmpfs of their own; the job's folder stays on the disk.
    if (!(await mountTmpfs(path.join(home, 'work'))) || !(await mountTmpfs(path.join(home, 'out')))) ctx.skip();
    const db = path.join(home, 's.sqlite');
    const changes = path.join(home, 'out', 'c.ndjson');
    const args = ['pull', 'ecnu-postdocs', '--since', 'last', '--snapshot', db, '--changes', changes];
    const state = new Map<string, Record<string, unknown>>();
    for (let round = 0; round < 2; round++) {
      const r = await idsync(args, env);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const events = await readEvents(changes);
      if (round === 0) expect(events.map((e) => e.op)).toEqual(sandbox.truth('ecnu-postdocs').map(() => 'insert'));
      replay(state, events);
      expect((await fs.stat(changes)).nlink).toBe(1); // a copy, not a link
      sandbox.mutate({ dataset: 'ecnu-postdocs', op: 'update', count: 2 });
    }
    const sqlite = new Database(db, { readonly: true });
    try {
      expect(state.size).toBe(sqlite.prepare('SELECT count(*) FROM ecnu_postdocs').pluck().get() as number);
    } finally {
      sqlite.close();
    }
  });
});

describe('change feed into an SQLite snapshot', () => {
  it("appends each run's events to <table>_changes in the same transaction, and re-asks are silent on Tongji", async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const db = path.join(home, 'staff.sqlite');
    const changes = path.join(home, 'changes.ndjson');
    const all: Event[] = [];
    const run = async () => {
      const r = await idsync(['pull', 'tongji-staff', '--since', 'last', '--snapshot', db, '--changes', changes], env);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const events = await readEvents(changes);
      all.push(...events);
      return events;
    };
    expect((await run()).length).toBe(sandbox.truth('tongji-staff').length);
    const departed = sandbox.mutate({ dataset: 'tongji-staff', op: 'depart', count: 2 });
    const updated = sandbox.mutate({ dataset: 'tongji-staff', op: 'update', count: 2 });
    const second = await run();
    expect(second.map((e) => e.key).sort()).toEqual([...departed, ...updated].sort());
    for (const e of second.filter((x) => departed.includes(x.key))) expect([e.activeBefore, e.activeAfter]).toEqual([true, false]);
    // Tongji re-asks the whole day every run: nothing new, nothing reported.
    expect(await run()).toEqual([]);

    const sqlite = new Database(db, { readonly: true });
    try {
      const rows = sqlite
        .prepare('SELECT run, sequence, op, key, before, after, changed FROM tongji_staff_changes ORDER BY rowid')
        .all() as {
        run: string;
        sequence: number;
        op: string;
        key: string;
        before: string | null;
        after: string | null;
        changed: string;
      }[];
      expect(
        rows.map((r) => ({
          ...r,
          before: r.before && JSON.parse(r.before),
          after: r.after && JSON.parse(r.after),
          changed: JSON.parse(r.changed),
        })),
      ).toEqual(
        all.map((e) => ({ run: e.run, sequence: e.seq, op: e.op, key: e.key, before: e.before, after: e.after, changed: e.changed })),
      );
      // Replaying the events rebuilds the table: every non-NULL column, as text.
      const state = new Map<string, Record<string, unknown>>();
      replay(state, all);
      const table = sqlite.prepare('SELECT * FROM tongji_staff').all() as Record<string, string | null>[];
      expect(state.size).toBe(table.length);
      for (const row of table) {
        const kept = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null));
        expect(state.get(String(row['userId']))).toEqual(kept);
      }
    } finally {
      sqlite.close();
    }
  });
});
