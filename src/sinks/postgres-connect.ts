import os from 'node:os';
import pg from 'pg';
import { AuthError, IdsyncError, NetworkError } from '../core/errors.js';
import { findPassword, sslOptions, type PostgresTarget } from './postgres-url.js';

const passwordHelp = 'set PGPASSWORD (in an owner-only env file), or add a line to ~/.pgpass (mode 0600)';

/** Error codes of the client library and the OS that mean "could not reach the server". */
const unreachable = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ENOENT',
]);

/** Names the server in messages; the password never appears (it is not in `label`). */
function where(t: PostgresTarget): string {
  return `PostgreSQL ${t.label}`;
}

/**
 * One line for the user from a node-postgres or socket error. SQLSTATE codes:
 * https://www.postgresql.org/docs/15/errcodes-appendix.html
 */
export function postgresError(err: unknown, t: PostgresTarget, doing: string, whenLost = ''): IdsyncError {
  if (err instanceof IdsyncError) return err;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]! : String(err);
  if (/not queryable|Connection terminated|socket has been ended/i.test(message) && doing !== 'cannot connect') {
    return new NetworkError(`${doing}: lost the connection to ${where(t)} (${message})${whenLost}`, { cause: err });
  }
  if (unreachable.has(code) || /timeout expired|Connection terminated/i.test(message)) {
    const reason = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'unknown host' : message;
    return new NetworkError(`${doing}: cannot reach ${where(t)}: ${reason}`, { cause: err });
  }
  if (code === '28P01')
    return new AuthError(`${doing}: ${where(t)} rejected the password of user ${t.user}; ${passwordHelp}`, { cause: err });
  if (code === '28000') return new AuthError(`${doing}: ${where(t)} refused user ${t.user}: ${message}`, { cause: err });
  if (code === '3D000') return new IdsyncError(`${doing}: database ${t.database} does not exist on ${t.host}:${t.port}`, 1, { cause: err });
  if (code === '57P01' || code === '57P02' || code === '57P03' || code.startsWith('08')) {
    return new NetworkError(`${doing}: lost the connection to ${where(t)} (${message})${whenLost}`, { cause: err });
  }
  if (code === '42501') return new IdsyncError(`${doing}: permission denied on ${where(t)}: ${message}`, 1, { cause: err });
  if (code === '53100') return new IdsyncError(`${doing}: ${where(t)} is out of disk space`, 1, { cause: err });
  if (/password must be a string|SASL|no password/i.test(message)) {
    return new AuthError(`${doing}: ${where(t)} asks for a password and none was found; ${passwordHelp}`, { cause: err });
  }
  return new IdsyncError(`${doing}: ${where(t)}: ${message}`, 1, { cause: err });
}

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  /** Seconds to wait for the server to answer the connection (default 10). */
  connectTimeout?: number;
}

/**
 * Opens one connection. The password is handed to node-postgres as a function, so that it
 * is looked up only when the server asks and never lands in the client's enumerable config.
 */
export async function connectPostgres(t: PostgresTarget, opts: ConnectOptions = {}): Promise<pg.Client> {
  let ssl: ReturnType<typeof sslOptions>;
  try {
    ssl = sslOptions(t);
  } catch (err) {
    throw new IdsyncError(`cannot read sslrootcert ${t.sslrootcert}: ${(err as Error).message}`);
  }
  try {
    return await attempt(t, ssl, opts);
  } catch (err) {
    // sslmode=prefer: a server without TLS answers the SSL request with a refusal; libpq then
    // connects in plain text, and so do we.
    if (t.sslmode === 'prefer' && /does not support SSL/i.test((err as Error).message)) return attempt(t, false, opts);
    throw err;
  }
}

async function attempt(t: PostgresTarget, ssl: ReturnType<typeof sslOptions>, opts: ConnectOptions): Promise<pg.Client> {
  const env = opts.env ?? process.env;
  let missing = false;
  const client = new pg.Client({
    host: t.host,
    port: t.port,
    database: t.database,
    user: t.user,
    password: () => {
      const p = findPassword(t, env);
      if (p === undefined) missing = true;
      return p ?? '';
    },
    ssl,
    application_name: `idsync on ${os.hostname()} pid ${process.pid}`.slice(0, 63),
    connectionTimeoutMillis: (opts.connectTimeout ?? 10) * 1000,
    keepAlive: true,
  });
  // A connection dropped while idle emits 'error' on the client: without a listener that
  // would crash the process; the next query reports it instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    if (/does not support SSL/i.test((err as Error).message) && t.sslmode === 'prefer') throw err;
    const code = (err as { code?: unknown }).code;
    if (missing && (code === '28P01' || code === '28000')) {
      throw new AuthError(`cannot connect: ${where(t)} asks for a password and none was found; ${passwordHelp}`, { cause: err });
    }
    throw postgresError(err, t, 'cannot connect');
  }
  return client;
}
