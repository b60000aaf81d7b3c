import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { ChangeEvent, ChangeRecorder } from '../../src/core/sync/changes.js';

/** The test server's URL (no password) and an environment that carries its password. */
export function pgServer(): { url: string; env: NodeJS.ProcessEnv } {
  return { url: inject('pgUrl'), env: { PGPASSWORD: inject('pgPassword'), HOME: '/nonexistent-idsync-home' } };
}

/** A plain client (the test's own view of the server), on `database`. */
export async function pgClient(database?: string): Promise<pg.Client> {
  const u = new URL(inject('pgUrl'));
  const c = new pg.Client({
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: inject('pgPassword'),
    database: database ?? decodeURIComponent(u.pathname.slice(1)),
  });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** A new empty database for one test file; returns its URL (no password). */
export async function freshDatabase(): Promise<{ url: string; name: string }> {
  const name = `idsync_t_${randomBytes(6).toString('hex')}`;
  const admin = await pgClient();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(inject('pgUrl'));
  u.pathname = `/${name}`;
  return { url: u.toString(), name };
}

/**
 * A stand-in for the engine's change recorder: an event when before and after differ in any
 * column, `changed` the columns whose values differ, activity from ECNU's `status`.
 */
export function testRecorder(run = 'run-1', at = '2024-05-01T04:00:00.000Z'): ChangeRecorder & { events: ChangeEvent[] } {
  const events: ChangeEvent[] = [];
  let seq = 0;
  const active = (r: Record<string, unknown> | null): boolean => r !== null && r['status'] !== 'off';
  return {
    events,
    record(key, before, after) {
      const names = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
      const changed = [...names].filter((n) => before?.[n] !== after?.[n]);
      if (changed.length === 0) return undefined;
      const op = before === null ? 'insert' : after === null ? 'delete' : 'update';
      const e: ChangeEvent = {
        run,
        seq: ++seq,
        at,
        op,
        key,
        before,
        after,
        changed,
        activeBefore: active(before),
        activeAfter: active(after),
      };
      events.push(e);
      return e;
    },
  };
}
