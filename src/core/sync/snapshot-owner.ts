import fs from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { StateStore } from '../state.js';
import { jobOptions, resetCommand } from './job.js';
import { snapshotKindOf, type SnapshotTarget } from './snapshot-target.js';

/**
 * Refuses a run into a snapshot that another job of the source keeps, under another name (a
 * symbolic link to its folder, a hard link, `localhost` for `127.0.0.1`) or under the same
 * name with other `--param` values. Why: a job is known by the name it was given, so such a run
 * was a job of its own, or a one-off, and changed the snapshot behind the job's back: the job's
 * --since <time> and --changes rules did not hold, and its change feed lost what that run wrote.
 *
 * A file is the other job's if it is the same file (device and inode); a copy is a snapshot of
 * its own. A PostgreSQL table is the other job's if it carries that job's last mark (its last
 * run id), since no address tells two names of one server apart.
 */
export async function refuseAnotherJobsSnapshot(
  store: StateStore,
  source: string,
  key: string,
  target: SnapshotTarget,
  table: string,
): Promise<void> {
  const others = Object.entries((await store.load(source)).jobs).filter(([k, j]) => k !== key && j.snapshot !== null);
  if (others.length === 0) return;
  let owner: (typeof others)[number][1] | undefined;
  if (target.kind === 'postgres') {
    const mark = await target.mark(table);
    if (mark) owner = others.find(([, j]) => snapshotKindOf(j.snapshot!) === 'postgres' && j.snapshotMark === mark)?.[1];
  } else {
    const st = await fs.stat(target.id).catch(() => undefined);
    if (st === undefined) return;
    for (const [, j] of others) {
      if (snapshotKindOf(j.snapshot!) === 'postgres') continue;
      const o = await fs.stat(j.snapshot!).catch(() => undefined);
      if (o !== undefined && o.dev === st.dev && o.ino === st.ino) {
        owner = j;
        break;
      }
    }
  }
  if (owner === undefined) return;
  throw new UsageError(
    `${target.label} is the snapshot of another job of ${source} (${jobOptions(owner.params, owner.snapshot).join(' ')}); ` +
      `run that job as it was started, so that its state and change feed stay whole, or end it first: ` +
      resetCommand({ source, params: owner.params, snapshot: owner.snapshot }),
  );
}
