import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { ExitCode, IdsyncError, UsageError } from '../core/errors.js';
import { idProblem, readAllStdin, readIds } from '../lookup/id-input.js';
import { mapOrdered } from '../lookup/ordered-pool.js';
import { savePhoto, type PhotoOutcome } from '../lookup/save-photo.js';
import { requireSignedInUser } from '../lookup/signed-in-user.js';
import { providerIds, type ProviderId } from '../core/provider.js';
import { directories, directoryOf } from '../providers/index.js';
import { intInRange, nonEmpty, oneOf } from './option-parsers.js';
import { openPeopleSession } from './people-session.js';

/** Beside the user, like a download: `./photos`. */
export const defaultPhotoDir = 'photos';

interface PhotoFlags {
  provider: ProviderId;
  outDir: string;
  idsFile?: string;
  concurrency: number;
  force?: boolean;
}

export function registerPhoto(program: Command, ctx: CliContext): void {
  program
    .command('photo')
    .description('save photos as DIR/<userId>.jpg (ecnu); without ids, the signed-in person’s')
    .argument('[userId...]', "userIds; '-' reads more from standard input, one a line")
    .option('--provider <provider>', 'ecnu (the only platform with photos)', oneOf(providerIds), 'ecnu')
    .option('--out-dir <dir>', 'folder for the photos (created if missing)', nonEmpty, defaultPhotoDir)
    .option('--ids-file <file>', 'read userIds from FILE, one a line', nonEmpty)
    .option('--concurrency <n>', 'downloads at once', intInRange(1, 32), 4)
    .option('--force', 'replace photos already in the folder')
    .action(async (args: string[], flags: PhotoFlags) => photo(ctx, args, flags));
}

async function photo(ctx: CliContext, args: string[], flags: PhotoFlags): Promise<void> {
  const { console: con } = ctx;
  const photos = directoryOf(flags.provider).photo;
  if (!photos) {
    const able = providerIds.filter((p) => directories[p].photo !== undefined);
    throw new UsageError(`photos are only available from ${able.join(', ')} (${flags.provider} has no photo interface)`);
  }
  // Ids become file names: only plain ones (no '/', '\', '..', leading dot), refused before any request.
  const ids = await readIds(
    { args, ...(flags.idsFile !== undefined ? { idsFile: flags.idsFile } : {}), readStdin: () => readAllStdin() },
    { what: 'userId', plain: true },
  );
  const me = ids.length === 0;
  const subject = me ? requireSignedInUser(flags.provider, ctx.env).subject : undefined;
  const dir = await prepareDir(flags.outDir);
  const meFile = subject !== undefined && !idProblem(subject, true) ? subject : 'me';

  const session = openPeopleSession(ctx, flags.provider, { me, concurrency: flags.concurrency });
  const outcomes: PhotoOutcome[] = [];
  try {
    const jobs: Array<{ userId: string | undefined; fileId: string }> = me
      ? [{ userId: undefined, fileId: meFile }]
      : ids.map((id) => ({ userId: id, fileId: id }));
    const results = mapOrdered(jobs, flags.concurrency, (job) =>
      savePhoto(session.client, photos, { dir, userId: job.userId, fileId: job.fileId, force: Boolean(flags.force) }),
    );
    for await (const outcome of results) {
      outcomes.push(outcome);
      if (outcome.status === 'saved') con.debug(`${outcome.id}: saved ${outcome.file} (${outcome.bytes} bytes)`);
    }
  } finally {
    await session.close();
  }
  summarise(ctx, dir, outcomes);
}

/** Creates DIR if missing; a DIR that is a file is a usage error, caught before any request. */
async function prepareDir(raw: string): Promise<string> {
  const dir = path.resolve(raw);
  try {
    // Photos are personal data: a folder created here is the owner's only; an existing one keeps its mode.
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    if (!(await fs.stat(dir)).isDirectory()) throw new Error('not a folder');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--out-dir ${raw} cannot be used: ${code === 'EEXIST' || code === 'ENOTDIR' || !code ? 'not a folder' : code}`);
  }
  return dir;
}

function summarise(ctx: CliContext, dir: string, outcomes: readonly PhotoOutcome[]): void {
  const count = (s: PhotoOutcome['status']) => outcomes.filter((o) => o.status === s).length;
  const failed = outcomes.filter((o): o is Extract<PhotoOutcome, { status: 'failed' }> => o.status === 'failed');
  const skipped = count('skipped');
  ctx.console.info(
    `photos: ${count('saved')} saved, ${skipped} skipped${skipped ? ' (already there; --force replaces them)' : ''}, ${failed.length} failed → ${dir}`,
  );
  // Failures are not silenced by --quiet: each says why, on one line.
  for (const f of failed) ctx.console.error(`${f.id}: ${f.reason}`);
  if (failed.length > 0) throw new IdsyncError(`photo: ${failed.length} of ${outcomes.length} failed`, ExitCode.partial);
}
