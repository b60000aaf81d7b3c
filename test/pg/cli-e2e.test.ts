import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/core/sync/changes.js';
import { findSource } from '../../src/providers/source-registry.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { cellText } from '../../src/sinks/cell-text.js';
import { postgresSnapshotTarget } from '../../src/sinks/snapshot-postgres-target.js';
import { Died, dying, pullInProcess, replay, sortedByKey } from '../support/change-feed.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { readNdjson } from '../support/ndjson.js';
import { freshDatabase, pgClient, pgServer } from './helpers.js';

type Row = Record<string, unknown>;
let sandbox: Sandbox;
let url: string;
let db: pg.Client;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 14 });
  const fresh = await freshDatabase();
  url = fresh.url;
  db = await pgClient(fresh.name);
});
afterAll(async () => {
  await db.end();
  await sandbox.close();
});

async function jobEnv(): Promise<{ home: string; env: Record<string, string> }> {
  const home = await tempDir();
  return { home, env: sandboxEnv(sandbox, home, { PGPASSWORD: pgServer().env['PGPASSWORD']! }) };
}

/** The platform's truth as the table keeps it: every non-NULL field as text. */
function truthAsTable(dataset: 'ecnu-users' | 'ecnu-staff'): Map<string, Row> {
  const key = sandbox.keyField(dataset);
  return new Map(
    sandbox
      .truth(dataset)
      .map((r) => [
        String(r[key]),
        Object.fromEntries(Object.entries(r).flatMap(([k, v]) => (cellText(v) === undefined ? [] : [[k, cellText(v)]]))),
      ]),
  );
}

async function tableContent(table: string, key: string): Promise<Map<string, Row>> {
  const { rows } = await db.query<Row>(`SELECT * FROM ${table}`);
  return new Map(rows.map((r) => [String(r[key]), Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null))]));
}

describe('pull --snapshot postgresql://', () => {
  it('a job: full, then incremental with every kind of change; the table equals the truth, the change table the changes file', async () => {
    const { home, env } = await jobEnv();
    const changes = path.join(home, 'changes.ndjson');
    const args = ['pull', 'ecnu-users', '--since', 'last', '--snapshot', url, '--changes', changes, '--quiet'];
    const first = await idsync(args, env);
    expect(first.exitCode, String(first.stderr)).toBe(0);
    const key = sandbox.keyField('ecnu-users');
    const state = new Map<string, Row>();
    const firstEvents = (await readNdjson(changes)) as unknown as ChangeEvent[];
    replay(state, firstEvents);
    expect(sortedByKey(await tableContent('ecnu_users', key))).toEqual(sortedByKey(truthAsTable('ecnu-users')));

    for (const op of ['update', 'depart', 'delete', 'insert'] as const) sandbox.mutate({ dataset: 'ecnu-users', op, count: 3 });
    const second = await idsync(args, env);
    expect(second.exitCode, String(second.stderr)).toBe(0);
    const events = (await readNdjson(changes)) as unknown as ChangeEvent[];
    expect(new Set(events.map((e) => e.op))).toEqual(new Set(['update', 'delete', 'insert']));
    replay(state, events);
    expect(sortedByKey(await tableContent('ecnu_users', key))).toEqual(sortedByKey(truthAsTable('ecnu-users')));
    expect(sortedByKey(state)).toEqual(sortedByKey(truthAsTable('ecnu-users')));

    const { rows } = await db.query(
      `SELECT run, sequence AS seq, op, key, before, after, changed FROM ecnu_users_changes WHERE run = $1 ORDER BY sequence`,
      [events[0]!.run],
    );
    expect(rows).toEqual(
      events.map(({ run, seq, op, key: k, before, after, changed }) => ({ run, seq, op, key: k, before, after, changed })),
    );

    // Sent again unchanged (the overlap window): no event.
    const third = await idsync(args, env);
    expect(third.exitCode, String(third.stderr)).toBe(0);
    expect(await readNdjson(changes)).toEqual([]);

    // The state knows the database by its URL without password.
    const shown = await idsync(['state', 'show', '--json'], env);
    expect(String(shown.stdout)).toContain(`${url}?schema=public`);
    expect(String(shown.stdout)).not.toContain(pgServer().env['PGPASSWORD']!);
  });

  it("refuses a run into a job's table under another name of the server (127.1 for 127.0.0.1)", async () => {
    const { home, env } = await jobEnv();
    const table = await freshDatabase();
    const first = await idsync(['pull', 'ecnu-staff', '--since', 'last', '--snapshot', table.url, '--quiet'], env);
    expect(first.exitCode, String(first.stderr)).toBe(0);
    const state = await fs.readFile(path.join(home, 'state', 'ecnu-staff.json'), 'utf8');
    // Another spelling of the throwaway server's address (IDSYNC_TEST_DATABASE_URL may name
    // a server elsewhere, where there is none to test).
    const alias = table.url.replace('@127.0.0.1:', '@127.1:');
    if (alias === table.url) return;
    const requests = sandbox.stats().requests;
    for (const since of ['2024-01-01', 'last']) {
      const r = await idsync(['pull', 'ecnu-staff', '--since', since, '--snapshot', alias], env);
      expect(r.exitCode, String(r.stderr)).toBe(2);
      expect(String(r.stderr)).toMatch(/is the snapshot of another job of ecnu-staff \(--snapshot postgresql:\/\/idsync@127\.0\.0\.1:/);
    }
    expect(sandbox.stats().requests).toBe(requests);
    expect(await fs.readFile(path.join(home, 'state', 'ecnu-staff.json'), 'utf8')).toBe(state);
  });

  it('a table with a table of changes refuses a run without --changes from another IDSYNC_HOME', async () => {
    const { home, env } = await jobEnv();
    const table = await freshDatabase();
    const first = await idsync(
      ['pull', 'ecnu-staff', '--since', 'last', '--snapshot', table.url, '--changes', path.join(home, 'c.ndjson'), '--quiet'],
      env,
    );
    expect(first.exitCode, String(first.stderr)).toBe(0);
    const other = await jobEnv();
    const requests = sandbox.stats().requests;
    const r = await idsync(['pull', 'ecnu-staff', '--since', 'last', '--snapshot', table.url], other.env);
    expect(r.exitCode, String(r.stderr)).toBe(2);
    expect(String(r.stderr)).toContain('keeps a table of changes (ecnu_staff_changes)');
    expect(sandbox.stats().requests).toBe(requests);
  });

  it('refuses a password in the URL (exit 2) before any request, without echoing it', async () => {
    const { env } = await jobEnv();
    const before = sandbox.stats().requests;
    const withPw = url.replace('idsync@', 'idsync:Hunter2-secret@');
    const r = await idsync(['pull', 'ecnu-users', '--snapshot', withPw], env);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/^idsync: .*password in the PostgreSQL URL is refused.*PGPASSWORD/);
    expect(String(r.stderr) + String(r.stdout)).not.toContain('Hunter2');
    expect(sandbox.stats().requests).toBe(before);
  });

  it('wrong password: exit 3; unreachable: exit 5; both before any page is fetched', async () => {
    const { env } = await jobEnv();
    const pages = () => sandbox.stats().requests;
    const before = pages();
    const wrong = await idsync(['pull', 'ecnu-users', '--snapshot', url], { ...env, PGPASSWORD: 'not-it-42' });
    expect(wrong.exitCode, String(wrong.stderr)).toBe(3);
    expect(String(wrong.stderr)).not.toContain('not-it-42');
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const down = await idsync(['pull', 'ecnu-users', '--snapshot', `postgresql://idsync@127.0.0.1:${port}/x`], env);
    expect(down.exitCode, String(down.stderr)).toBe(5);
    expect(String(down.stderr).trim().split('\n')).toHaveLength(1);
    expect(pages()).toBe(before);
  });
});

describe('exactly once with a PostgreSQL snapshot', () => {
  it('a run that dies after COMMIT has its changes delivered by the next run, once', async () => {
    const { home, env } = await jobEnv();
    const changes = path.join(home, 'changes.ndjson');
    const args = ['pull', 'ecnu-staff', '--since', 'last', '--snapshot', url, '--changes', changes, '--quiet'];
    expect((await idsync(args, env)).exitCode).toBe(0);
    const state = new Map<string, Row>();
    replay(state, (await readNdjson(changes)) as unknown as ChangeEvent[]);

    const departed = sandbox.mutate({ dataset: 'ecnu-staff', op: 'depart', count: 2 });
    const target = postgresSnapshotTarget(url, findSource('ecnu-staff', path.join(home, 'sources.json')).keyFields, env);
    const died = await pullInProcess('ecnu-staff', env, dying(target, 'after'), changes);
    await target.close();
    expect(died).toBeInstanceOf(Died);

    const next = await idsync(args, env);
    expect(next.exitCode, String(next.stderr)).toBe(0);
    const events = (await readNdjson(changes)) as unknown as ChangeEvent[];
    expect(events.map((e) => e.key)).toEqual(expect.arrayContaining(departed));
    replay(state, events);
    const key = sandbox.keyField('ecnu-staff');
    expect(sortedByKey(state)).toEqual(sortedByKey(await tableContent('ecnu_staff', key)));
    expect((await idsync(args, env)).exitCode).toBe(0);
    expect(await readNdjson(changes)).toEqual([]);
    await fs.rm(home, { recursive: true, force: true });
  });
});
