import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../fs/atomic-json.js';

/**
 * Progress of a cursor-paged pull, saved after each page is durably in the spool, so that a
 * killed run resumes from its last cursor instead of from scratch (the output files still
 * appear only when the whole pull is complete).
 */
const checkpointSchema = z.object({
  version: z.literal(1),
  since: z.number().nullable(),
  cursor: z.string(),
  spoolBytes: z.number().int().nonnegative(),
  pages: z.number().int().nonnegative(),
  serverStart: z.number().nullable(),
  startedAt: z.string(),
});

export type Checkpoint = z.infer<typeof checkpointSchema>;

export function checkpointFile(workDir: string): string {
  return path.join(workDir, 'checkpoint.json');
}

export async function readCheckpoint(workDir: string): Promise<Checkpoint | undefined> {
  try {
    const parsed = checkpointSchema.safeParse(JSON.parse(await fs.readFile(checkpointFile(workDir), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeCheckpoint(workDir: string, cp: Checkpoint): Promise<void> {
  await writeJsonAtomic(checkpointFile(workDir), cp);
}
