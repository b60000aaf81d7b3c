import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../fs/atomic-json.js';
import { jobSchema, type JobState } from '../state.js';

/**
 * The commit journal of a run with a snapshot. Written, fsync'd, before the snapshot commits;
 * removed once the state is saved. A run killed in between leaves it, and the next run of the
 * job reads the snapshot's mark to tell whether the commit happened: if so it saves `state`
 * (the run's events, kept in the job folder, are then delivered by the next changes file); if
 * not, the run never happened and its events are dropped.
 */
const journalSchema = z.object({
  version: z.literal(1),
  run: z.string(),
  seq: z.number().int().positive(),
  markAfterCommit: z.string(),
  state: jobSchema,
  /**
   * The run's changes file, complete in its temp file, renamed into place only after the state
   * is saved: the next run tells from the file's inode whether that rename happened.
   */
  delivery: z
    .object({ temp: z.string(), dest: z.string(), dev: z.number(), ino: z.number(), from: z.number().int().nonnegative() })
    .optional(),
});

export type Journal = z.infer<typeof journalSchema>;

const EVENTS = /^(\d{8})-(r[0-9A-Za-z-]+)\.ndjson$/;

/** A job's own folder: its commit journal and the events not yet delivered in a changes file. */
export class JobFolder {
  private constructor(readonly dir: string) {}

  static of(jobsDir: string, source: string, jobKey: string): JobFolder {
    return new JobFolder(path.join(jobsDir, `${source}-${createHash('sha256').update(jobKey).digest('hex').slice(0, 16)}`));
  }

  get journalFile(): string {
    return path.join(this.dir, 'journal.json');
  }

  eventsFile(seq: number, run: string): string {
    return path.join(this.dir, `${String(seq).padStart(8, '0')}-${run}.ndjson`);
  }

  async readJournal(): Promise<Journal | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.journalFile, 'utf8');
    } catch {
      return undefined;
    }
    // A journal is written atomically; one that does not parse was not ours to trust.
    const parsed = journalSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  }

  async writeJournal(journal: Journal): Promise<void> {
    await writeJsonAtomic(this.journalFile, journal);
  }

  /**
   * Whether the changes file of the journal's run reached its name: the file there is the one
   * the run wrote (same inode), or the temp file is gone (renamed, then the consumer moved or
   * removed it). Only a temp file still there, the run's own, says the rename never happened.
   */
  static async delivered(d: NonNullable<Journal['delivery']>): Promise<boolean> {
    const same = async (file: string) => {
      const st = await fs.stat(file).catch(() => undefined);
      return st !== undefined && st.dev === d.dev && st.ino === d.ino;
    };
    if (await same(d.dest)) return true;
    return !(await same(d.temp));
  }

  async removeJournal(): Promise<void> {
    await fs.rm(this.journalFile, { force: true });
  }

  /** Events files of committed runs, oldest first. */
  async eventFiles(): Promise<{ seq: number; file: string }[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    return names
      .map((n) => ({ m: EVENTS.exec(n), n }))
      .filter((x): x is { m: RegExpExecArray; n: string } => x.m !== null)
      .map(({ m, n }) => ({ seq: Number(m[1]), file: path.join(this.dir, n) }))
      .sort((a, b) => a.seq - b.seq);
  }

  /**
   * Drops events already delivered (seq ≤ delivered) and those of runs that never committed
   * (seq > committed), and any temp file a killed run left.
   */
  async prune(state: JobState | undefined): Promise<void> {
    const delivered = state?.deliveredThrough ?? 0;
    const committed = state?.runs ?? 0;
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    for (const n of names) {
      const m = EVENTS.exec(n);
      const stale = m ? Number(m[1]) <= delivered || Number(m[1]) > committed : n.endsWith('.tmp');
      if (stale) await fs.rm(path.join(this.dir, n), { force: true });
    }
  }

  async remove(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
