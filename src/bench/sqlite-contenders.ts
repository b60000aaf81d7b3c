/**
 * The SQLite snapshot contenders (issue 10, item 5): a job's first run into a new snapshot,
 * with and without a change feed, and an incremental run after 1% of the records changed. Each
 * is checked against the sandbox: the snapshot holds exactly its live records, and a change
 * feed has one event per changed record.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Contender, Invocation, RunSetup } from './contender-types.js';
import { digestFile } from './measure.js';

const TABLE = 'ecnu_users';
/** Share of the records the incremental contenders change before their timed run. */
export const MUTATED_SHARE = 0.01;

function count(file: string, table: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT count(*) FROM "${table}"`).pluck().get() as number;
  } finally {
    db.close();
  }
}

/** The snapshot's rows, which must be the sandbox's live records. */
function liveRows(name: string, snap: string, live: number): number {
  const rows = count(snap, TABLE);
  if (rows !== live) throw new Error(`${name}: the snapshot has ${rows} rows, the sandbox ${live} live records`);
  return rows;
}

async function expectLines(file: string, n: number, what: string): Promise<void> {
  const { lines } = await digestFile(file);
  if (lines !== n) throw new Error(`${what} has ${lines} lines, expected ${n}`);
}

/** Changes `n` live records on the sandbox (its admin endpoint stamps them now). */
async function mutate(url: string, n: number): Promise<void> {
  const res = await fetch(`${url}/__sandbox/mutate`, {
    method: 'POST',
    body: JSON.stringify({ dataset: 'ecnu-users', op: 'update', count: n }),
  });
  if (!res.ok) throw new Error(`mutate: HTTP ${res.status} ${await res.text()}`);
}

type Env = (setup: RunSetup) => NodeJS.ProcessEnv;

export function sqliteContenders(bin: string, idsyncEnv: Env): Contender[] {
  const files = (dir: string) => ({
    out: path.join(dir, 'out.ndjson'),
    snap: path.join(dir, 's.sqlite'),
    changes: path.join(dir, 'changes.ndjson'),
  });
  const pullArgs = (dir: string, withChanges: boolean, out = files(dir).out): string[] => {
    const f = files(dir);
    return [
      bin,
      'pull',
      'ecnu-users',
      '--since',
      'last',
      '-o',
      out,
      '--snapshot',
      f.snap,
      ...(withChanges ? ['--changes', f.changes] : []),
      '--quiet',
    ];
  };
  const first = (name: string, withChanges: boolean): Contender => ({
    name,
    about: `node bin/idsync.js pull ecnu-users --since last -o out.ndjson --snapshot s.sqlite${withChanges ? ' --changes changes.ndjson' : ''} --quiet (a job's first run: full, new database)`,
    invoke: (setup): Invocation => {
      const f = files(setup.dir);
      const live = setup.sandbox.live;
      return {
        args: pullArgs(setup.dir, withChanges),
        env: idsyncEnv(setup),
        output: f.out,
        sameBytes: true,
        check: async () => {
          const rows = liveRows(name, f.snap, live);
          if (!withChanges) return `${rows} rows`;
          await expectLines(f.changes, live, 'the changes file');
          const events = count(f.snap, `${TABLE}_changes`);
          if (events !== live) throw new Error(`${name}: ${TABLE}_changes has ${events} rows, expected ${live}`);
          return `${rows} rows, ${live} insert events (file and table)`;
        },
      };
    },
  });
  const incremental = (name: string, withChanges: boolean): Contender => {
    let changed = 0;
    return {
      name,
      about:
        `after an untimed first run, ${MUTATED_SHARE * 100}% of the records changed on the sandbox, then the same command` +
        `${withChanges ? ' with --changes' : ''} (timed: the incremental run into the full database)`,
      prepare: async (setup) => {
        const { runNode } = await import('./measure.js');
        await runNode(pullArgs(setup.dir, withChanges, path.join(setup.dir, 'first.ndjson')), idsyncEnv(setup), setup.dir);
        changed = Math.round(setup.sandbox.live * MUTATED_SHARE);
        await mutate(setup.sandbox.url, changed);
      },
      invoke: (setup): Invocation => {
        const f = files(setup.dir);
        const live = setup.sandbox.live;
        return {
          args: pullArgs(setup.dir, withChanges),
          env: idsyncEnv(setup),
          output: f.out,
          sameBytes: false,
          // The run also asks again for its overlap window: at least every changed record.
          minLines: changed,
          check: async () => {
            const rows = liveRows(name, f.snap, live);
            if (!withChanges) return `${rows} rows`;
            await expectLines(f.changes, changed, 'the changes file');
            return `${rows} rows, ${changed} update events`;
          },
        };
      },
    };
  };
  return [
    first('idsync-sqlite', false),
    first('idsync-sqlite-changes', true),
    incremental('sqlite-incr', false),
    incremental('sqlite-incr-changes', true),
  ];
}
