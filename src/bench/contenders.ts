import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Contender, RunSetup } from './contender-types.js';
import { sqliteContenders } from './sqlite-contenders.js';

export type { Contender, Invocation, RunSetup } from './contender-types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
const bin = path.join(repoRoot, 'bin/idsync.js');
export const PAGE_10K = 10_000;

/** The bench's environment without any IDSYNC_* of the caller's (a real home, real credentials). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IDSYNC_')) env[k] = v;
  return { ...env, ...extra };
}

function idsyncEnv({ sandbox, dir }: RunSetup): NodeJS.ProcessEnv {
  return cleanEnv({
    IDSYNC_HOME: path.join(dir, 'home'),
    IDSYNC_ECNU_BASE_URL: sandbox.url,
    IDSYNC_ECNU_CLIENT_ID: sandbox.clientId,
    IDSYNC_ECNU_CLIENT_SECRET: sandbox.clientSecret,
  });
}

function lean(name: string, script: string, about: string, pageSize?: number): Contender {
  return {
    name,
    about,
    invoke: ({ sandbox, dir }) => {
      const output = path.join(dir, 'out.ndjson');
      return {
        args: [
          path.join(here, script),
          sandbox.url,
          sandbox.clientId,
          sandbox.clientSecret,
          output,
          ...(pageSize ? [String(pageSize)] : []),
        ],
        env: cleanEnv({}),
        output,
        sameBytes: true,
      };
    },
  };
}

export const contenders: readonly Contender[] = [
  {
    name: 'idsync',
    about: 'node bin/idsync.js pull ecnu-users -o out.ndjson --quiet (defaults: page size 5000, concurrency 4)',
    invoke: (setup) => {
      const output = path.join(setup.dir, 'out.ndjson');
      return { args: [bin, 'pull', 'ecnu-users', '-o', output, '--quiet'], env: idsyncEnv(setup), output, sameBytes: true };
    },
  },
  lean('minimal', 'minimal-client.js', 'hand-written undici client: 5000 rows/page, 4 pages in flight, JSON.parse → lines'),
  lean('sdk-loop', 'sdk-loop.js', 'one page at a time like the ECNU Go SDK: 2000 rows/page, fetch → parse → write'),
  {
    name: 'idsync-snapshot',
    about: 'node bin/idsync.js pull ecnu-users --snapshot snap.ndjson --quiet (external sort by key)',
    invoke: (setup) => {
      const output = path.join(setup.dir, 'snap.ndjson');
      return { args: [bin, 'pull', 'ecnu-users', '--snapshot', output, '--quiet'], env: idsyncEnv(setup), output, sameBytes: false };
    },
  },
  lean('minimal-10k', 'minimal-client.js', `the minimal client at ${PAGE_10K} rows/page, 4 pages in flight`, PAGE_10K),
  {
    name: 'idsync-10k',
    about: `node bin/idsync.js pull ecnu-users -o out.ndjson --page-size ${PAGE_10K} --quiet`,
    invoke: (setup) => {
      const output = path.join(setup.dir, 'out.ndjson');
      const args = [bin, 'pull', 'ecnu-users', '-o', output, '--page-size', String(PAGE_10K), '--quiet'];
      return { args, env: idsyncEnv(setup), output, sameBytes: true };
    },
  },
  ...sqliteContenders(bin, idsyncEnv),
];
