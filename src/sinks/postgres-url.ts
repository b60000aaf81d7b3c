import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { UsageError } from '../core/errors.js';

/** A `--snapshot postgresql://…` target, parsed. Holds no password, ever. */
export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  schema: string;
  sslmode: SslMode;
  sslrootcert: string | undefined;
  service: string | undefined;
  /** The job's name for this database: the URL normalised, without password or TLS options. */
  identity: string;
  /** What messages call it: user@host:port/db, schema. */
  label: string;
}

const sslModes = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
type SslMode = (typeof sslModes)[number];
const knownParams = new Set(['schema', 'sslmode', 'sslrootcert', 'service']);
const passwordHint = 'give it through PGPASSWORD, ~/.pgpass or a service file (pg_service.conf) instead';

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/**
 * Parses `postgresql://USER@HOST[:PORT]/DB[?schema=NAME][&sslmode=…]` (or `postgres://`).
 * A password in the URL is refused: it would sit in the crontab, `ps` and the state file.
 * Messages quote the URL only after the password has been cut out.
 */
export function parsePostgresTarget(raw: string, env: NodeJS.ProcessEnv = process.env): PostgresTarget {
  if (!isPostgresUrl(raw)) throw new UsageError(`--snapshot ${raw}: not a postgresql:// URL`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(
      `--snapshot: cannot read the PostgreSQL URL ${redact(raw)}; expected postgresql://USER@HOST[:PORT]/DB[?schema=NAME]`,
    );
  }
  if (url.password !== '' || /^[^/]*\/\/[^/@]*:[^/@]*@/.test(raw)) {
    throw new UsageError(`--snapshot: a password in the PostgreSQL URL is refused (${redact(raw)}); ${passwordHint}`);
  }
  const shown = redact(raw);
  for (const name of url.searchParams.keys()) {
    if (name === 'password') throw new UsageError(`--snapshot: a password in the PostgreSQL URL is refused (${shown}); ${passwordHint}`);
    if (!knownParams.has(name)) {
      throw new UsageError(`--snapshot ${shown}: unknown parameter '${name}' (known: ${[...knownParams].join(', ')})`);
    }
  }
  const host = decodeURIComponent(url.hostname)
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  if (host === '') throw new UsageError(`--snapshot ${shown}: the URL names no host`);
  const port = url.port === '' ? 5432 : Number(url.port);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/'))
    throw new UsageError(`--snapshot ${shown}: the URL names no database (postgresql://USER@HOST/DB)`);
  const user = decodeURIComponent(url.username) || env['PGUSER'] || os.userInfo().username;
  const schema = url.searchParams.get('schema') ?? 'public';
  if (schema === '') throw new UsageError(`--snapshot ${shown}: schema= is empty`);
  const sslmode = (url.searchParams.get('sslmode') ?? env['PGSSLMODE'] ?? 'prefer') as SslMode;
  if (!sslModes.includes(sslmode)) throw new UsageError(`--snapshot ${shown}: sslmode must be one of ${sslModes.join(', ')}`);
  const identityHost = host.includes(':') ? `[${host}]` : host;
  const identity = `postgresql://${encodeURIComponent(user)}@${identityHost}:${port}/${encodeURIComponent(database)}?schema=${encodeURIComponent(schema)}`;
  return {
    host,
    port,
    database,
    user,
    schema,
    sslmode,
    sslrootcert: url.searchParams.get('sslrootcert') ?? undefined,
    service: url.searchParams.get('service') ?? env['PGSERVICE'] ?? undefined,
    identity,
    label: `${user}@${identityHost}:${port}/${database}, schema ${schema}`,
  };
}

/** The URL with anything between '//' and '@' after a ':' removed. */
export function redact(raw: string): string {
  return raw.replace(/^([^/]*\/\/[^/@:]*):[^/@]*@/, '$1:***@').replace(/([?&]password=)[^&]*/gi, '$1***');
}

/**
 * node-postgres options for libpq's sslmode (https://www.postgresql.org/docs/15/libpq-ssl.html,
 * table 34.1): disable and allow connect in plain text; prefer tries TLS without checking the
 * certificate and falls back to plain text when the server has no TLS (connectPostgres does
 * the fallback); require encrypts without checking; verify-ca checks the chain, verify-full
 * also the host name.
 */
export function sslOptions(t: PostgresTarget): false | ConnectionOptions {
  if (t.sslmode === 'disable' || t.sslmode === 'allow') return false;
  const ca = t.sslrootcert ? fs.readFileSync(t.sslrootcert, 'utf8') : undefined;
  if (t.sslmode === 'require' || t.sslmode === 'prefer') return { rejectUnauthorized: false };
  const opts: ConnectionOptions = { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
  if (t.sslmode === 'verify-ca') opts.checkServerIdentity = () => undefined;
  return opts;
}

/**
 * The password as libpq finds it: PGPASSWORD, then the service file's entry, then the
 * password file (PGPASSFILE or ~/.pgpass), which libpq ignores when group or others can read
 * it (https://www.postgresql.org/docs/15/libpq-pgpass.html). undefined when none matches.
 */
export function findPassword(t: PostgresTarget, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['PGPASSWORD']) return env['PGPASSWORD'];
  const fromService = t.service ? serviceEntry(t.service, env)?.['password'] : undefined;
  if (fromService !== undefined) return fromService;
  const file = env['PGPASSFILE'] || path.join(env['HOME'] || os.homedir(), '.pgpass');
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || (st.mode & 0o077) !== 0) return undefined;
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const host = t.host.startsWith('/') ? 'localhost' : t.host;
  const wanted = [host, String(t.port), t.database, t.user];
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = splitPgpass(line);
    if (fields.length < 5) continue;
    if (wanted.every((w, i) => fields[i] === '*' || fields[i] === w)) return fields.slice(4).join(':');
  }
  return undefined;
}

/** Splits a .pgpass line on ':' with libpq's escapes (\: and \\). */
function splitPgpass(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) cur += line[++i];
    else if (c === ':') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** The key=value lines of section [name] of the connection service file. */
function serviceEntry(name: string, env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const files = [
    env['PGSERVICEFILE'] || path.join(env['HOME'] || os.homedir(), '.pg_service.conf'),
    ...(env['PGSYSCONFDIR'] ? [path.join(env['PGSYSCONFDIR'], 'pg_service.conf')] : []),
  ];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let inSection = false;
    const entry: Record<string, string> = {};
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const section = /^\[(.*)\]$/.exec(line);
      if (section) {
        if (inSection) break;
        inSection = section[1] === name;
        continue;
      }
      const eq = line.indexOf('=');
      if (inSection && eq > 0) entry[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
    if (inSection || Object.keys(entry).length > 0) return entry;
  }
  return undefined;
}
