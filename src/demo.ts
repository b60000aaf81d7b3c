/**
 * `npm run demo`: the whole cycle on made-up people, offline and without credentials —
 * sandbox up, full pull, some people change, incremental pull, and where everything went.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sandboxClientEnv, startSandbox, type Sandbox } from './sandbox/index.js';
import { shellWord } from './core/shell-word.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'idsync.js');
const outDir = path.join(process.cwd(), 'idsync-demo');
// What a reader can type after `npm ci`: there is no `idsync` on PATH (`npx idsync` works too).
const shown = `node ${path.relative(process.cwd(), bin) || bin}`;

function run(sandbox: Sandbox, args: string[]): Promise<void> {
  const env = { ...process.env, IDSYNC_HOME: path.join(outDir, 'home'), ...sandboxClientEnv(sandbox) };
  process.stderr.write(`\n$ ${shown} ${args.map(shellWord).join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`idsync ${args[0]} exited with ${code}`))));
  });
}

async function lines(file: string): Promise<number> {
  return (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean).length;
}

async function main(): Promise<void> {
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.mkdir(outDir, { recursive: true });
  const sandbox = await startSandbox({ port: 0 });
  const rel = (f: string) => path.relative(process.cwd(), path.join(outDir, f));
  try {
    process.stderr.write(`Sandbox of both platforms serving made-up people at ${sandbox.url}\n`);

    await run(sandbox, ['sources']);
    await run(sandbox, ['pull', 'ecnu-staff', '-o', rel('staff-full.csv'), '--snapshot', rel('staff.ndjson')]);

    const updated = sandbox.mutate({ dataset: 'ecnu-staff', op: 'update', count: 3 });
    const departed = sandbox.mutate({ dataset: 'ecnu-staff', op: 'depart', count: 1 });
    const deleted = sandbox.mutate({ dataset: 'ecnu-staff', op: 'delete', count: 1 });
    const inserted = sandbox.mutate({ dataset: 'ecnu-staff', op: 'insert', count: 2 });
    process.stderr.write(
      `\nMeanwhile on the platform: updated ${updated.join(', ')}; departed ${departed.join(', ')}; ` +
        `deleted ${deleted.join(', ')}; new ${inserted.join(', ')}\n`,
    );

    await run(sandbox, [
      'pull',
      'ecnu-staff',
      '--since',
      'last',
      '-o',
      rel('staff-fetched.ndjson'),
      '--snapshot',
      rel('staff.ndjson'),
      '--changes',
      rel('staff-changes.ndjson'),
    ]);
    await run(sandbox, ['pull', 'tongji-students', '--snapshot', rel('tongji-students.sqlite')]);
    await run(sandbox, ['state', 'show']);

    const snapshot = await lines(path.join(outDir, 'staff.ndjson'));
    const fetched = await lines(path.join(outDir, 'staff-fetched.ndjson'));
    const events = await lines(path.join(outDir, 'staff-changes.ndjson'));
    const changed = updated.length + departed.length + deleted.length + inserted.length;
    process.stderr.write(
      [
        '',
        'What the demo wrote:',
        `  ${rel('staff-full.csv')}         the full pull, for Excel (UTF-8 with BOM)`,
        `  ${rel('staff-fetched.ndjson')}   the incremental run's records: ${fetched}, the deleted one with deleted_mark 1`,
        ...(fetched > changed
          ? [
              `  (${fetched} records for ${changed} changes: each run reaches back --overlap, 300 s, so records changed just before it come again)`,
            ]
          : []),
        `  ${rel('staff-changes.ndjson')}   the change feed: ${events} events, exactly what changed in the snapshot (insert, update, delete)`,
        `  ${rel('staff.ndjson')}           the merged snapshot: ${snapshot} people, one line each, deletions applied`,
        `  ${rel('tongji-students.sqlite')} Tongji students as an SQLite table (tongji_students)`,
        `  ${rel('home')}                   IDSYNC_HOME: token cache and sync state`,
        '',
        'Try (the sandbox has stopped; these read what the demo left):',
        `  IDSYNC_HOME=${rel('home')} ${shown} state show`,
        `  jq -c 'select(.activeBefore and (.activeAfter | not)) | {key, changed}' ${rel('staff-changes.ndjson')}   # who left`,
        `  sqlite3 ${rel('tongji-students.sqlite')} 'select statusCode, count(*) from tongji_students group by 1'`,
        '',
      ].join('\n'),
    );
  } finally {
    await sandbox.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
