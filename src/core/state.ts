import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { IdsyncError } from './errors.js';
import { writeJsonAtomic } from './fs/atomic-json.js';

export const STATE_VERSION = 2;

const lastRunSchema = z.object({
  finishedAt: z.string(),
  mode: z.enum(['full', 'incremental']),
  since: z.number().nullable(),
  records: z.number().int().nonnegative(),
  pages: z.number().int().nonnegative(),
  deleted: z.number().int().nonnegative(),
  /** The server's clock at the start of the run (Date header), unix seconds. */
  serverTime: z.number().nullable(),
  /** Newest update time seen, as the platform wrote it. */
  maxUpdated: z.string().nullable(),
  durationMs: z.number().nonnegative(),
});

/** Version 1 kept one entry per --param set, whatever the snapshot (or none) it was merged into. */
const v1EntrySchema = z.object({
  params: z.record(z.string(), z.string()),
  watermark: z.number().int().positive().nullable(),
  snapshot: z.string().nullable(),
  lastRun: lastRunSchema,
});

/**
 * One job: a source, a --param set and a snapshot target (or none). Only the job's own runs
 * move it (CLI.md, "The job and its state").
 */
export const jobSchema = z.object({
  params: z.record(z.string(), z.string()),
  /** The snapshot's identity: an absolute path, or a database URL without its password. */
  snapshot: z.string().nullable(),
  /** The next `--since last` asks for changes after this (unix seconds); null: a full pull. */
  watermark: z.number().int().positive().nullable(),
  /**
   * What the snapshot looked like when this job last committed it (a file's device and inode,
   * a database's last run id). Anything else there means it was replaced: a full pull follows.
   * Null for jobs carried over from version 1, which recorded no such mark.
   */
  snapshotMark: z.string().nullable(),
  /** Runs committed so far; the next run's number is this plus one. */
  runs: z.number().int().nonnegative(),
  /** The last committed run. */
  lastRunId: z.string().nullable(),
  /** Set once the job wrote a changes file: from then on every run must write one. */
  changesFed: z.boolean(),
  /** Events of runs up to this number have been delivered in a changes file. */
  deliveredThrough: z.number().int().nonnegative(),
  lastRun: lastRunSchema,
});

const fileSchema = z.object({
  version: z.literal(STATE_VERSION),
  source: z.string(),
  jobs: z.record(z.string(), jobSchema),
});

const v1FileSchema = z.object({
  version: z.literal(1),
  source: z.string(),
  entries: z.record(z.string(), v1EntrySchema),
});

export type JobState = z.infer<typeof jobSchema>;
export type StateFile = z.infer<typeof fileSchema>;
export type LastRun = JobState['lastRun'];

/** One state per distinct set of --param values: a filtered pull must not move another's watermark. */
export function paramsKey(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k] ?? '')}`)
    .join('&');
}

/** The key of a job in its source's state file. */
export function jobKey(params: Readonly<Record<string, string>>, snapshot: string | null): string {
  return `${paramsKey(params)} -> ${snapshot ?? '(no snapshot)'}`;
}

/** Each version 1 entry becomes the job for the snapshot it recorded (or the job with none). */
function upgrade(v1: z.infer<typeof v1FileSchema>): StateFile {
  const jobs: Record<string, JobState> = {};
  for (const e of Object.values(v1.entries)) {
    jobs[jobKey(e.params, e.snapshot)] = {
      params: e.params,
      snapshot: e.snapshot,
      watermark: e.watermark,
      snapshotMark: null,
      runs: 0,
      lastRunId: null,
      changesFed: false,
      deliveredThrough: 0,
      lastRun: e.lastRun,
    };
  }
  return { version: STATE_VERSION, source: v1.source, jobs };
}

/** Sync state, one file per source, written atomically and only after the outputs are durable. */
export class StateStore {
  constructor(readonly dir: string) {}

  fileOf(source: string): string {
    return path.join(this.dir, `${source}.json`);
  }

  async load(source: string): Promise<StateFile> {
    const file = this.fileOf(source);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: STATE_VERSION, source, jobs: {} };
      throw new IdsyncError(`cannot read state file ${file}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new IdsyncError(`state file ${file} is not valid JSON; fix it or run 'idsync state reset ${source}'`);
    }
    const old = v1FileSchema.safeParse(json);
    if (old.success) return upgrade(old.data);
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || '(root)';
      throw new IdsyncError(
        `state file ${file} is not a version ${STATE_VERSION} idsync state (${where}: ${issue?.message}); run 'idsync state reset ${source}'`,
      );
    }
    return parsed.data;
  }

  async get(source: string, key: string): Promise<JobState | undefined> {
    return (await this.load(source)).jobs[key];
  }

  async put(source: string, job: JobState): Promise<void> {
    const file = await this.load(source);
    file.jobs[jobKey(job.params, job.snapshot)] = job;
    await writeJsonAtomic(this.fileOf(source), file);
  }

  /** Every source's state file; one that cannot be read is reported, not fatal to the others. */
  async list(): Promise<{ source: string; file?: StateFile; error?: string }[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return [];
    }
    const sources = names
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .sort()
      .map((n) => n.slice(0, -'.json'.length));
    return Promise.all(
      sources.map((source) =>
        this.load(source).then(
          (file) => ({ source, file }),
          (err: unknown) => ({ source, error: err instanceof Error ? err.message : String(err) }),
        ),
      ),
    );
  }

  /** Forgets one job (by key) or, with no key, every job of the source. */
  async reset(source: string, key?: string): Promise<boolean> {
    if (key !== undefined) {
      const file = await this.load(source);
      if (!file.jobs[key]) return false;
      delete file.jobs[key];
      await writeJsonAtomic(this.fileOf(source), file);
      return true;
    }
    try {
      await fs.rm(this.fileOf(source));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}
