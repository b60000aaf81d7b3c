/**
 * The PostgreSQL snapshot at scale (`npm run bench -- --postgres`): against a throwaway
 * PostgreSQL server with its default durability (fsync on), or IDSYNC_BENCH_DATABASE_URL.
 * Per round: a plain `pull -o out.ndjson` (the yardstick), then the first run into an empty
 * database (postgres-load.js: spool, COPY, merge, COMMIT), then a 1% incremental with
 * --changes into that table. The first run's cost is the pull plus the merge the loader
 * reports: the loader spools the file again only because it runs apart from a pull.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { repoRoot } from './contenders.js';
import { median, runNode, type Measured } from './measure.js';
import type { SandboxInfo } from './sandbox-server.js';
import { startPgServer } from './throwaway-postgres.js';

const loader = fileURLToPath(new URL('./postgres-load.js', import.meta.url));
const bin = path.join(repoRoot, 'bin/idsync.js');

interface Round {
  pull: Measured;
  first: Measured & { mergeMs: number };
  incremental: Measured & { mergeMs: number; events: number };
}

/** 1% of the records changed: 8 in 10 edited, 1 in 10 deleted (tombstone), 1 in 10 new keys. */
async function onePercent(from: string, to: string): Promise<number> {
  const lines = (await fs.readFile(from, 'utf8')).split('\n').filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += 100) {
    const r = JSON.parse(lines[i]!) as Record<string, unknown>;
    const kind = (i / 100) % 10;
    if (kind === 0) out.push(JSON.stringify({ ...r, deleted_mark: 1 }));
    else if (kind === 1) out.push(JSON.stringify({ ...r, userId: `new${i}` }));
    else out.push(JSON.stringify({ ...r, name: `${String(r['name'])}·`, updated_at: '2030-01-01 00:00:00' }));
  }
  await fs.writeFile(to, `${out.join('\n')}\n`);
  return out.length;
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

async function resetTables(url: string, password: string): Promise<void> {
  const u = new URL(url);
  const c = new pg.Client({ host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password, database: u.pathname.slice(1) });
  await c.connect();
  await c.query('DROP TABLE IF EXISTS ecnu_users, ecnu_users_changes, idsync_runs');
  await c.end();
}

export async function postgresScenario(sandbox: SandboxInfo, rounds: number, tmp: string): Promise<string> {
  const db = await server();
  const rows: Round[] = [];
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
        await resetTables(db.url, db.password);
        const report = path.join(dir, 'report.json');
        const first = await runNode([loader, '--records', out, '--url', db.url, '--mode', 'full', '--report', report], env, repoRoot);
        const r1 = JSON.parse(await fs.readFile(report, 'utf8')) as { mergeMs: number; total: number };
        if (r1.total !== sandbox.live) throw new Error(`first run left ${r1.total} rows, expected ${sandbox.live}`);
        const inc = path.join(dir, 'inc.ndjson');
        await onePercent(out, inc);
        const incremental = await runNode([loader, '--records', inc, '--url', db.url, '--mode', 'incremental', '--changes', '--report', report], env, repoRoot);
        const r2 = JSON.parse(await fs.readFile(report, 'utf8')) as { mergeMs: number; events: number };
        rows.push({ pull, first: { ...first, mergeMs: r1.mergeMs }, incremental: { ...incremental, mergeMs: r2.mergeMs, events: r2.events } });
        const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
        console.error(
          `  round ${round}/${rounds} postgres: pull ${s(pull.wallMs)}, first-run merge ${s(r1.mergeMs)}, ` +
            `1% incremental ${s(incremental.wallMs)} (${r2.events} events)`,
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
  const pull = median(rows.map((r) => r.pull.wallMs));
  const merge = median(rows.map((r) => r.first.mergeMs));
  const inc = median(rows.map((r) => r.incremental.wallMs));
  const firstRss = Math.max(...rows.map((r) => Math.max(r.first.maxRssKb, r.pull.maxRssKb)));
  const incRss = Math.max(...rows.map((r) => r.incremental.maxRssKb));
  return [
    `### PostgreSQL snapshot, ${records} live records`,
    '',
    '| step | median | rounds | peak RSS |',
    '|---|---:|---|---:|',
    `| plain \`pull -o out.ndjson\` | ${s(pull)} | ${rows.map((r) => s(r.pull.wallMs)).join(', ')} | ${mb(Math.max(...rows.map((r) => r.pull.maxRssKb)))} |`,
    `| first run: merge into an empty database (COPY, key index, COMMIT) | ${s(merge)} | ${rows.map((r) => s(r.first.mergeMs)).join(', ')} | ${mb(Math.max(...rows.map((r) => r.first.maxRssKb)))} |`,
    `| 1% incremental with --changes (whole process) | ${s(inc)} | ${rows.map((r) => s(r.incremental.wallMs)).join(', ')} | ${mb(incRss)} |`,
    '',
    `- first run ≈ pull + merge = ${s(pull + merge)}: **${((pull + merge) / pull).toFixed(2)}×** the plain pull (target ≤ 2×)`,
    `- 1% incremental: **${s(inc)}** (target ≤ 10 s), merge alone ${s(median(rows.map((r) => r.incremental.mergeMs)))}, ${rows[0]?.incremental.events ?? 0} events`,
    `- peak RSS: ${mb(firstRss)} (pull or first-run loader), ${mb(incRss)} (incremental) (target ≤ 200 MB)`,
  ].join('\n');
}
