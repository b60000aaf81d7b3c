import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { resolveEndpoints } from '../core/endpoints.js';
import { IdsyncError } from '../core/errors.js';
import { openSession } from '../core/session.js';
import { platformText } from '../core/terminal-text.js';
import { consentWarning, createMasker, maskedNote } from '../lookup/mask-id-number.js';
import { getRawAnswer, resolveApiPath } from '../lookup/raw-api.js';
import { providerIds, type ProviderId } from '../core/provider.js';
import { directoryOf } from '../providers/index.js';
import { collectParam, oneOf } from './option-parsers.js';

interface ApiFlags {
  provider: ProviderId;
  param?: Record<string, string>;
  paginate?: boolean;
  asUser?: boolean;
  reveal?: boolean;
}

export function registerApi(program: Command, ctx: CliContext): void {
  program
    .command('api')
    .description('one authenticated GET of any platform path, printing the JSON answer (like gh api)')
    .argument('<path>', "a path on the platform, starting with '/' (a query string may follow)")
    .requiredOption('--provider <provider>', 'ecnu or tongji', oneOf(providerIds))
    .option('--param <key=value>', 'a query parameter, repeatable', collectParam)
    .option('--paginate', 'follow the paging (ECNU pageNum/totalNum, Tongji sinceUserId) and print one record a line')
    .option('--as-user', 'use the signed-in person’s token (idsync auth user-login) instead of the application’s')
    .option('--reveal', 'show ID-card numbers unmasked (only with the person’s consent)')
    .action(async (rawPath: string, flags: ApiFlags) => api(ctx, rawPath, flags));
}

async function api(ctx: CliContext, rawPath: string, flags: ApiFlags): Promise<void> {
  const { console: con } = ctx;
  const { baseUrl } = resolveEndpoints(flags.provider, ctx.env);
  const parsed = resolveApiPath(rawPath, baseUrl);
  const target = { path: parsed.path, query: { ...parsed.query, ...(flags.param ?? {}) } };
  if (flags.reveal) con.warn(consentWarning, { always: true });
  // The same privacy default as lookup: ID-card numbers masked unless --reveal.
  const masker = createMasker(Boolean(flags.reveal));
  const session = openSession({
    provider: flags.provider,
    env: ctx.env,
    log: (m) => con.debug(m),
    signal: ctx.signal,
    ...(flags.asUser ? { auth: 'user' as const } : {}),
  });
  const people = directoryOf(flags.provider);
  try {
    if (flags.paginate) {
      const rows = people.paginate(session.client, target.path, target.query, ctx.signal);
      for await (const row of rows) await con.data(`${JSON.stringify(masker.apply(row))}\n`);
    } else {
      const answer = await getRawAnswer(session.client, people, target);
      if (answer.json !== undefined) {
        const body = masker.apply(answer.json);
        await con.data(`${con.stdout.isTTY ? JSON.stringify(body, null, 2) : JSON.stringify(body)}\n`);
      } else if (con.stdout.isTTY && !/^text\//i.test(answer.contentType)) {
        throw new IdsyncError(
          `the answer is ${platformText(answer.contentType || 'untyped', 60)} (${answer.body.length} bytes), not JSON; redirect standard output to a file to keep it`,
        );
      } else {
        // Raw bytes (a photo) for a pipe or a file, exactly as sent; process.stdout takes a Buffer.
        const out = con.stdout as unknown as { write(chunk: Uint8Array): boolean; once(e: 'drain', l: () => void): unknown };
        if (!out.write(answer.body)) await new Promise<void>((resolve) => out.once('drain', resolve));
      }
    }
  } finally {
    await session.close();
  }
  if (masker.masked > 0) con.info(maskedNote(masker.masked));
}
