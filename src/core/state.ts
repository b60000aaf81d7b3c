import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { IdsyncError } from './errors.js';
import { writeJsonAtomic } from './fs/atomic-json.js';

export const STATE_VERSION = 1;

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

const entrySchema = z.object({
  params: z.record(z.string(), z.string()),
  /** The next `--since last` asks for changes after this (unix seconds); null: a full pull. */
  watermark: z.number().int().positive().nullable(),
  /** The snapshot this state was merged into; another snapshot needs a full pull first. */
  snapshot: z.string().nullable(),
  lastRun: lastRunSchema,
});

const fileSchema = z.object({
  version: z.literal(STATE_VERSION),
  source: z.string(),
  entries: z.record(z.string(), entrySchema),
});

export type StateEntry = z.infer<typeof entrySchema>;
export type StateFile = z.infer<typeof fileSchema>;

/** One state per distinct set of --param values: a filtered pull must not move another's watermark. */
export function paramsKey(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k] ?? '')}`)
    .join('&');
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
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: STATE_VERSION, source, entries: {} };
      throw new IdsyncError(`cannot read state file ${file}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new IdsyncError(`state file ${file} is not valid JSON; fix it or run 'idsync state reset ${source}'`);
    }
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

  async get(source: string, params: Readonly<Record<string, string>>): Promise<StateEntry | undefined> {
    return (await this.load(source)).entries[paramsKey(params)];
  }

  async put(source: string, entry: StateEntry): Promise<void> {
    const file = await this.load(source);
    file.entries[paramsKey(entry.params)] = entry;
    await writeJsonAtomic(this.fileOf(source), file);
  }

  async list(): Promise<StateFile[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return [];
    }
    const files = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    return Promise.all(files.map((n) => this.load(n.slice(0, -'.json'.length))));
  }

  async reset(source: string): Promise<boolean> {
    try {
      await fs.rm(this.fileOf(source));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}
