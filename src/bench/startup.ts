/**
 * `npm run bench -- --startup`: how long the CLI takes to start, against bare node.
 *
 * - `--version` beside `node -e 0`: what loading the program costs before any work.
 * - A `lookup` of one person with a cached token beside a bare `fetch` of the same URL in node
 *   (the token given to it): what idsync adds to one request. The sandbox answers at once, so
 *   the difference is start-up, not the network.
 * Goals (issue #12): `--version` at most 3× bare node, the lookup at most 2× the bare fetch.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sandboxClientEnv, startSandbox } from '../sandbox/index.js';
import { repoRoot } from './contenders.js';
import { median, runNode } from './measure.js';

interface Case {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface StartupResult {
  rounds: number;
  medians: Record<string, number>;
  load: [number, number];
}

const bin = path.join(repoRoot, 'bin/idsync.js');
const bareFetch = `const r = await fetch(process.env.URL, { headers: { authorization: 'Bearer ' + process.env.TOKEN } });
if (r.status !== 200) throw new Error('HTTP ' + r.status);
process.stdout.write(JSON.stringify(await r.json()).slice(0, 0));`;

export async function runStartup(rounds: number, tmp: string): Promise<StartupResult> {
  const sandbox = await startSandbox({ port: 0 });
  const home = await fs.mkdtemp(path.join(tmp, 'idsync-bench-startup-'));
  const loadBefore = os.loadavg()[0] as number;
  try {
    const env = { PATH: process.env['PATH'] ?? '', HOME: home, IDSYNC_HOME: home, ...sandboxClientEnv(sandbox) };
    const person = String(sandbox.truth('ecnu-users')[0]?.['userId']);
    const lookup = ['lookup', person, '--provider', 'ecnu', '--format', 'ndjson'];
    // The first lookup fetches and caches the token; every measured one reads it from the cache.
    await runNode([bin, ...lookup], env, repoRoot);
    const token = await clientToken(sandbox.url, sandbox.credentials.ecnu);
    const url = `${sandbox.url}/api/v1/user/info?userId=${encodeURIComponent(person)}`;
    const cases: Case[] = [
      { name: 'node -e 0', args: ['-e', '0'], env },
      { name: 'idsync --version', args: [bin, '--version'], env },
      { name: 'bare fetch (node)', args: ['--input-type=module', '-e', bareFetch], env: { ...env, URL: url, TOKEN: token } },
      { name: 'idsync lookup (cached token)', args: [bin, ...lookup], env },
    ];
    const wall = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    for (let round = 0; round < rounds; round += 1) {
      for (const c of cases) wall.get(c.name)?.push((await runNode(c.args, c.env, repoRoot)).wallMs);
    }
    const medians = Object.fromEntries([...wall].map(([name, xs]) => [name, median(xs)]));
    return { rounds, medians, load: [loadBefore, os.loadavg()[0] as number] };
  } finally {
    await sandbox.close();
    await fs.rm(home, { recursive: true, force: true });
  }
}

async function clientToken(base: string, creds: { clientId: string; clientSecret: string }): Promise<string> {
  const res = await fetch(`${base}/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: creds.clientId, client_secret: creds.clientSecret }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`the sandbox gave no token (HTTP ${res.status})`);
  return body.access_token;
}

export function formatStartup(r: StartupResult): string {
  const m = r.medians;
  const ms = (name: string) => m[name] as number;
  const ratio = (a: string, b: string) => (ms(a) / ms(b)).toFixed(2);
  const rows = Object.keys(m).map((name) => `| ${name} | ${ms(name).toFixed(0)} ms |`);
  return [
    `### Start-up (${r.rounds} rounds, alternating; median wall time from spawn to exit)`,
    '',
    '| command | wall time (median) |',
    '|---|---:|',
    ...rows,
    '',
    `- \`idsync --version\` / \`node -e 0\`: **${ratio('idsync --version', 'node -e 0')}×** (goal ≤ 3×)`,
    `- cached-token \`lookup\` / bare \`fetch\`: **${ratio('idsync lookup (cached token)', 'bare fetch (node)')}×** (goal ≤ 2×)`,
    `- 1-minute load average: ${r.load[0].toFixed(2)} before, ${r.load[1].toFixed(2)} after`,
  ].join('\n');
}
