import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../src/core/errors.js';
import { parsePostgresTarget } from '../../src/sinks/postgres-url.js';
import { openPostgresSnapshot, type PostgresSnapshot } from '../../src/sinks/snapshot-postgres.js';
import { writeTestSpool } from '../support/spool.js';
import { freshDatabase, pgClient, pgServer } from './helpers.js';

let url: string;
let dbName: string;
let db: pg.Client;
const open: PostgresSnapshot[] = [];
const password = () => pgServer().env['PGPASSWORD']!;

beforeAll(async () => {
  ({ url, name: dbName } = await freshDatabase());
  db = await pgClient(dbName);
});
afterAll(async () => {
  await db.end();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function snap(target: string, env: NodeJS.ProcessEnv = pgServer().env, table = 'ecnu_users'): PostgresSnapshot {
  const s = openPostgresSnapshot(target, { table, keyFields: ['userId', 'userid'], env, connectTimeout: 5 });
  open.push(s);
  return s;
}

/** The error a promise rejects with (the test fails if it resolves). */
async function failure(p: Promise<unknown>): Promise<Error & { exitCode: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { exitCode: number };
  }
  throw new Error('expected a failure');
}

function withPath(p: string): string {
  const u = new URL(url);
  u.pathname = p;
  return u.toString();
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('the PostgreSQL URL', () => {
  it('is normalised into the job identity', () => {
    const t = parsePostgresTarget('postgres://sync@DB.Example.edu/hr?sslmode=require&schema=idm', {});
    expect(t).toMatchObject({ host: 'db.example.edu', port: 5432, database: 'hr', user: 'sync', schema: 'idm', sslmode: 'require' });
    expect(t.identity).toBe('postgresql://sync@db.example.edu:5432/hr?schema=idm');
    expect(parsePostgresTarget('postgresql://sync@h:6543/hr', {}).identity).toBe('postgresql://sync@h:6543/hr?schema=public');
  });

  it.each([
    'postgresql://sync:s3cr3t-pw@db.example.edu/hr',
    'postgres://sync:s3cr3t-pw@db.example.edu:5432/hr?schema=x',
    'postgresql://sync@db.example.edu/hr?password=s3cr3t-pw',
  ])('refuses a password (%s) without echoing it', (raw) => {
    let err: unknown;
    try {
      parsePostgresTarget(raw, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(ExitCode.usage);
    expect((err as Error).message).toMatch(/PGPASSWORD.*pgpass/);
    expect((err as Error).message).not.toContain('s3cr3t');
  });

  it.each([
    ['postgresql://sync@h/', /no database/],
    ['postgresql://sync@h/db?sslmode=sometimes', /sslmode must be one of/],
    ['postgresql://sync@h/db?colour=blue', /unknown parameter 'colour'/],
  ])('refuses %s', (raw, why) => {
    expect(() => parsePostgresTarget(raw, {})).toThrow(why);
  });
});

describe('a PostgreSQL target that cannot be used is refused before any write', () => {
  it('unreachable: exit 5', async () => {
    const port = await closedPort();
    await expect(snap(`postgresql://idsync@127.0.0.1:${port}/x`).preflight()).rejects.toMatchObject({
      exitCode: ExitCode.network,
      message: expect.stringMatching(/cannot reach PostgreSQL .*connection refused/),
    });
  });

  it('wrong password: exit 3, no password in the message', async () => {
    const err = await failure(snap(url, { PGPASSWORD: 'wrong-pw-123', HOME: '/nonexistent' }).preflight());
    expect(err.exitCode).toBe(ExitCode.auth);
    expect(err.message).toMatch(/rejected the password of user idsync/);
    expect(err.message).not.toContain('wrong-pw-123');
    expect(err.message).not.toContain(password());
  });

  it('no password anywhere: exit 3, pointing to PGPASSWORD and ~/.pgpass', async () => {
    await expect(snap(url, { HOME: '/nonexistent' }).preflight()).rejects.toMatchObject({
      exitCode: ExitCode.auth,
      message: expect.stringMatching(/none was found; set PGPASSWORD .* ~\/\.pgpass/),
    });
  });

  it('reads ~/.pgpass (PGPASSFILE) like libpq, and ignores one that others can read', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-pgpass-'));
    try {
      const u = new URL(url);
      const file = path.join(dir, 'pgpass');
      await fs.writeFile(file, `# comment\nother:*:*:*:nope\n127.0.0.1:${u.port}:*:idsync:${password()}\n`, { mode: 0o600 });
      await snap(url, { PGPASSFILE: file }).preflight();
      await fs.chmod(file, 0o644);
      await expect(snap(url, { PGPASSFILE: file }).preflight()).rejects.toMatchObject({ exitCode: ExitCode.auth });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('sslmode: prefer falls back to plain text on a server without TLS, require refuses it', async () => {
    await snap(`${url}?sslmode=prefer`).preflight();
    await snap(`${url}?sslmode=disable`).preflight();
    await expect(snap(`${url}?sslmode=require`).preflight()).rejects.toThrow(/^cannot connect: PostgreSQL .*does not support SSL/);
  });

  it('missing database: one clear line', async () => {
    const err = await failure(snap(withPath('/no_such_db')).preflight());
    expect(err.message).toMatch(/^cannot connect: database no_such_db does not exist on 127\.0\.0\.1:\d+$/);
  });

  it('missing schema: one clear line', async () => {
    const err = await failure(snap(`${url}?schema=nope`).preflight());
    expect(err.message).toMatch(/schema nope does not exist in database idsync_t_\w+ on 127\.0\.0\.1:\d+; create it/);
    expect(err.message).not.toContain('\n');
  });

  it('a table of the same name that idsync did not create is refused and left alone', async () => {
    await db.query('CREATE TABLE hr_people (id int PRIMARY KEY, name text)');
    await db.query(`INSERT INTO hr_people VALUES (1, 'x')`);
    const s = snap(url, pgServer().env, 'hr_people');
    await expect(s.preflight()).rejects.toThrow(
      /table public\.hr_people in idsync_t_\w+ on 127\.0\.0\.1:\d+ exists but was not created by idsync/,
    );
    // Even without the preflight, a full pull does not empty it.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-pg-bad-'));
    const spool = await writeTestSpool(dir, [{ userId: '1', name: 'y' }]);
    const s2 = snap(url, pgServer().env, 'hr_people');
    await expect(s2.prepare(spool, { mode: 'full', table: 'hr_people', updateField: 'updateTime' })).rejects.toThrow(
      /not created by idsync/,
    );
    expect((await db.query('SELECT * FROM hr_people')).rows).toEqual([{ id: 1, name: 'x' }]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("an idsync_runs table that is not idsync's is refused before any page is fetched", async () => {
    await db.query('CREATE SCHEMA foreign_runs');
    await db.query('CREATE TABLE foreign_runs.idsync_runs (tbl text PRIMARY KEY, note text)');
    await expect(snap(`${url}?schema=foreign_runs`, pgServer().env, 'ecnu_users').preflight()).rejects.toThrow(
      /table foreign_runs\.idsync_runs in idsync_t_\w+ on 127\.0\.0\.1:\d+ exists but is not idsync's \(no column run, at, total\)/,
    );
  });

  it('an idsync table keyed by another column is refused', async () => {
    await db.query(`CREATE TABLE other_users ("xh" text PRIMARY KEY)`);
    await db.query(`COMMENT ON TABLE other_users IS 'idsync snapshot: one row per record of other_users, key xh'`);
    await expect(snap(url, pgServer().env, 'other_users').preflight()).rejects.toThrow(/keyed by xh, this source by userId or userid/);
  });
});

describe('the advisory lock', () => {
  it('a second holder is refused with exit 6, naming the first', async () => {
    const a = snap(url);
    await a.lock();
    const err = await failure(snap(url).lock());
    expect(err.exitCode).toBe(ExitCode.locked);
    expect(err.message).toMatch(/another idsync run is writing table public\.ecnu_users .*\(idsync on .* pid \d+/);
    // Another table of the same database is another job.
    await snap(url, pgServer().env, 'tongji_users').lock();
  });

  it('--wait: waits for the holder, and takes the lock when it is released', async () => {
    const a = snap(url);
    await a.lock();
    const messages: string[] = [];
    const b = snap(url);
    const waiting = b.lock({ wait: 60, onWait: (m) => messages.push(m) });
    // The waiter is queued in the server: released in turn, without polling.
    await db.query(
      `DO $$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted) LOOP PERFORM pg_sleep(0.01); END LOOP; END $$`,
    );
    await a.close();
    await waiting;
    expect(messages).toEqual([expect.stringMatching(/^waiting for another idsync run writing table public\.ecnu_users/)]);
    await expect(snap(url).lock()).rejects.toMatchObject({ exitCode: ExitCode.locked });
  });

  it('--wait that runs out refuses with exit 6; an abort ends the wait', async () => {
    await snap(url).lock();
    await expect(snap(url).lock({ wait: 0.2 })).rejects.toMatchObject({ exitCode: ExitCode.locked });
    const ac = new AbortController();
    const waiting = snap(url).lock({ wait: 60, signal: ac.signal, onWait: () => ac.abort('SIGTERM') });
    await expect(waiting).rejects.toMatchObject({ exitCode: ExitCode.interrupted });
  });
});
