import { createHash } from 'node:crypto';
import type pg from 'pg';
import { InterruptedError, LockedError } from '../core/errors.js';

/**
 * The advisory-lock key of a snapshot table: 64 bits of SHA-256 over schema and table, so
 * that every host running this job against this table agrees on it (the local lock file
 * cannot see another machine).
 */
export function advisoryKey(schema: string, table: string): string {
  return createHash('sha256').update(`idsync\0${schema}\0${table}`).digest().readBigInt64BE(0).toString();
}

async function holder(client: pg.Client, key: string): Promise<string> {
  try {
    const { rows } = await client.query<{ app: string | null; addr: string | null; since: Date | null }>(
      `SELECT a.application_name AS app, host(a.client_addr) AS addr, a.backend_start AS since
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
          AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint`,
      [key],
    );
    const r = rows[0];
    if (!r) return 'another session';
    const who = r.app || 'another session';
    return `${who}${r.addr ? ` from ${r.addr}` : ''}${r.since ? `, connected since ${r.since.toISOString()}` : ''}`;
  } catch {
    return 'another session';
  }
}

export interface AdvisoryLockOptions {
  /** Seconds to wait for another holder (0: refuse at once), as --wait. */
  wait?: number;
  signal?: AbortSignal;
  onWait?: (message: string) => void;
}

/**
 * Takes the session-level advisory lock for the job's table on `client`, or refuses (exit 6).
 * Waiting is the server's own lock queue bounded by lock_timeout, not a polling loop. A lost
 * connection releases the lock with it. An abort ends the connection, which ends the wait.
 */
export async function takeAdvisoryLock(
  client: pg.Client,
  key: string,
  what: string,
  opts: AdvisoryLockOptions = {},
): Promise<{ release(): Promise<void> }> {
  const release = async (): Promise<void> => {
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
  };
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
  if (rows[0]?.ok) return { release };
  const who = await holder(client, key);
  const waitSeconds = opts.wait ?? 0;
  const refusal = (): LockedError =>
    new LockedError(`another idsync run is writing ${what} (${who}); try again later or pass --wait SECONDS`);
  if (waitSeconds <= 0) throw refusal();
  opts.onWait?.(`waiting for another idsync run writing ${what} to finish (${who})`);
  const signal = opts.signal;
  if (signal?.aborted) throw new InterruptedError(String(signal.reason ?? 'SIGINT'));
  const onAbort = (): void => void client.end().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.query(`SET lock_timeout = ${Math.max(1, Math.round(waitSeconds * 1000))}`);
    await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    await client.query('SET lock_timeout = 0');
    return { release };
  } catch (err) {
    if (signal?.aborted) throw new InterruptedError(typeof signal.reason === 'string' ? signal.reason : 'SIGINT');
    if ((err as { code?: unknown }).code === '55P03') {
      await client.query('SET lock_timeout = 0').catch(() => undefined);
      throw refusal();
    }
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
