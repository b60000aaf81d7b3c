/**
 * The PostgreSQL snapshot at scale (`npm run bench -- --only postgres`): against a throwaway
 * PostgreSQL server with its default durability (fsync on), or IDSYNC_BENCH_DATABASE_URL (the
 * password in PGPASSWORD). Per round, each command its own process, measured from outside:
 * a plain `pull -o out.ndjson` (the yardstick); the first run of a job into an empty database
 * (`pull --since last --snapshot postgresql://…`); then 1% of the records changed in the
 * sandbox (8 in 10 edited, 1 in 10 deleted, 1 in 10 new) and the job's incremental run with
 * `--changes`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { repoRoot } from './contenders.js';
import { median, runNode, type Measured } from './measure.js';
import type { SandboxInfo } from './sandbox-server.js';
import { startPgServer } from './throwaway-postgres.js';

const bin = path.join(repoRoot, 'bin/idsync.js');

interface Round {
  pull: Measured;
  first: Measured;
  incremental: Measured & { events: number; changed: number };
}

async function mutate(sandbox: SandboxInfo, op: string, count: number): Promise<number> {
  const res = await fetch(new URL('/__sandbox/mutate', sandbox.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ dataset: 'ecnu-users', op, count }),
  });
  if (!res.ok) throw new Error(`sandbox mutate: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { keys: string[] }).keys.length;
}

/** 1% of the records: 8 in 10 edited, 1 in 10 deleted (tombstones), 1 in 10 new. */
async function onePercent(sandbox: SandboxInfo): Promise<number> {
  const n = Math.max(10, Math.round(sandbox.live / 100));
  return (
    (await mutate(sandbox, 'update', Math.round(n * 0.8))) +
    (await mutate(sandbox, 'delete', Math.round(n * 0.1))) +
    (await mutate(sandbox, 'insert', Math.round(n * 0.1)))
  );
}

async function server(): Promise<{ url: string; password: string; stop(): Promise<void> }> {
  const given = process.env['IDSYNC_BENCH_DATABASE_URL'];
  if (given) return { url: given, password: process.env['PGPASSWORD'] ?? '', stop: async () => {} };
  const s = await startPgServer({ durable: true });
  const admin = new pg.Client({ host: s.host, port: s.port, user: s.user, password: s.password, database: 'postgres' });
  await admin.connect();
  await admin.query('CREATE DATABASE idsync_bench');
  await admin.end();
  return { url: s.url.replace(/\/postgres$/, '/idsync_bench'), password: s.password, stop: () => s.stop() };
}

/** A connected client of the bench's database (the URL carries no password). */
async function connect(url: string, password: string): Promise<pg.Client> {
  const u = new URL(url);
  const c = new pg.Client({
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password,
    database: u.pathname.slice(1),
  });
  await c.connect();
  return c;
}

async function resetTables(url: string, password: string): Promise<void> {
  const c = await connect(url, password);
  await c.query('DROP TABLE IF EXISTS ecnu_users, ecnu_users_changes, idsync_runs');
  await c.end();
}

async function rowCount(url: string, password: string): Promise<number> {
  const c = await connect(url, password);
  try {
    return Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM ecnu_users')).rows[0]!.n);
  } finally {
    await c.end();
  }
}

export async function postgresScenario(sandbox: SandboxInfo, rounds: number, tmp: string): Promise<string> {
  const db = await server();
  const rows: Round[] = [];
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  try {
    for (let round = 1; round <= rounds; round++) {
      const dir = await fs.mkdtemp(path.join(tmp, 'idsync-bench-pg-'));
      try {
        const env: NodeJS.ProcessEnv = {
          PATH: process.env['PATH'] ?? '',
          HOME: dir,
          IDSYNC_HOME: path.join(dir, 'home'),
          IDSYNC_ECNU_BASE_URL: sandbox.url,
          IDSYNC_ECNU_CLIENT_ID: sandbox.clientId,
          IDSYNC_ECNU_CLIENT_SECRET: sandbox.clientSecret,
          PGPASSWORD: db.password,
        };
        const out = path.join(dir, 'out.ndjson');
        const pull = await runNode([bin, 'pull', 'ecnu-users', '-o', out, '--quiet'], env, repoRoot);
        const lines = (await fs.readFile(out, 'utf8')).split('\n').filter(Boolean).length;
        await fs.rm(out);
        await resetTables(db.url, db.password);
        const job = [bin, 'pull', 'ecnu-users', '--since', 'last', '--snapshot', db.url, '--quiet'];
        const first = await runNode(job, env, repoRoot);
        const total = await rowCount(db.url, db.password);
        if (total !== lines) throw new Error(`the first run left ${total} rows, the plain pull wrote ${lines} lines`);
        const changed = await onePercent(sandbox);
        const changes = path.join(dir, 'changes.ndjson');
        const incremental = await runNode([...job, '--changes', changes], env, repoRoot);
        const events = (await fs.readFile(changes, 'utf8')).split('\n').filter(Boolean).length;
        if (events < changed * 0.9) throw new Error(`the incremental run reported ${events} events for ${changed} changes`);
        rows.push({ pull, first, incremental: { ...incremental, events, changed } });
        console.error(
          `  round ${round}/${rounds} postgres: pull ${s(pull.wallMs)}, first run ${s(first.wallMs)}, ` +
            `1% incremental ${s(incremental.wallMs)} (${events} events)`,
        );
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await db.stop();
  }
  return formatPostgres(sandbox.live, rows);
}

function formatPostgres(records: number, rows: readonly Round[]): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const mb = (kb: number): string => `${Math.round(kb / 1024)} MB`;
  const line = (name: string, pick: (r: Round) => Measured): string =>
    `| ${name} | ${s(median(rows.map((r) => pick(r).wallMs)))} | ${rows.map((r) => s(pick(r).wallMs)).join(', ')} | ${mb(Math.max(...rows.map((r) => pick(r).maxRssKb)))} |`;
  const pull = median(rows.map((r) => r.pull.wallMs));
  const first = median(rows.map((r) => r.first.wallMs));
  const inc = median(rows.map((r) => r.incremental.wallMs));
  return [
    `### PostgreSQL snapshot, ${records} records`,
    '',
    '| command | median | rounds | peak RSS (max) |',
    '|---|---:|---|---:|',
    line('plain `pull ecnu-users -o out.ndjson`', (r) => r.pull),
    line('first run: `pull --since last --snapshot postgresql://…` into an empty database', (r) => r.first),
    line('1% changed, then `pull --since last --snapshot postgresql://… --changes c.ndjson`', (r) => r.incremental),
    '',
    `- first run / plain pull: **${(first / pull).toFixed(2)}×** (target ≤ 2×)`,
    `- 1% incremental: **${s(inc)}** (target ≤ 10 s); ${rows[0]?.incremental.changed ?? 0} records changed, ${rows[0]?.incremental.events ?? 0} events`,
    `- peak RSS: first run ${mb(Math.max(...rows.map((r) => r.first.maxRssKb)))}, incremental ${mb(Math.max(...rows.map((r) => r.incremental.maxRssKb)))} (target ≤ 200 MB)`,
  ].join('\n');
}
