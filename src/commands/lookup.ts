import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { ExitCode, IdsyncError, UsageError } from '../core/errors.js';
import { inferProvider } from '../core/auth/configured-providers.js';
import { resolveHome } from '../core/home.js';
import { terminalWidth } from '../core/table.js';
import type { LookupKind, PeopleDirectory } from '../core/people.js';
import { readAllStdin, readIds, stdinIsPiped, type IdSources } from '../lookup/id-input.js';
import { findLookupKind } from '../lookup/lookup-kinds.js';
import { consentWarning, createMasker, maskedNote, maskIdNumber } from '../lookup/mask-id-number.js';
import { createRecordWriter, defaultFormat, recordFormats, type RecordFormat } from '../lookup/record-output.js';
import { runLookup } from '../lookup/run-lookup.js';
import { requireSignedInUser } from '../lookup/signed-in-user.js';
import { providerIds, type ProviderId } from '../core/provider.js';
import { directories, directoryOf } from '../providers/index.js';
import { intInRange, nonEmpty, oneOf } from './option-parsers.js';
import { openPeopleSession } from './people-session.js';

interface LookupFlags {
  provider?: ProviderId;
  fields?: string[];
  kind?: string;
  byIdcard?: boolean;
  format?: RecordFormat;
  idsFile?: string;
  concurrency: number;
  reveal?: boolean;
}

const kindHelp = providerIds.map((p) => `${p}: ${directories[p].kinds.map((k) => k.name).join(', ')}`).join('; ');

export function registerLookup(program: Command, ctx: CliContext): void {
  program
    .command('lookup')
    .description('look people up by userId (or by ID-card number); without ids, the signed-in person')
    .argument('[userId...]', "userIds; '-' reads more from standard input, one a line")
    .addOption(
      new Option('--provider <provider>', 'ecnu or tongji (default: the only platform configured, or the one that has --kind)').argParser(
        oneOf(providerIds),
      ),
    )
    .option('--kind <kind>', `what to ask (${kindHelp}); default ecnu info, tongji student`)
    .option('--by-idcard', 'the arguments are ID-card numbers (zjhm): find the people holding them (ecnu)')
    .addOption(
      new Option('--format <format>', 'ndjson, json or table (default: table on a terminal, else ndjson)').argParser(oneOf(recordFormats)),
    )
    .option('--fields <a,b,c>', 'only these fields, in this order (every format)', fieldList)
    .option('--ids-file <file>', 'read userIds from FILE, one a line', nonEmpty)
    .option('--concurrency <n>', 'requests at once', intInRange(1, 32), 4)
    .option('--reveal', 'show ID-card numbers unmasked (only with the person’s consent)')
    .action(async (args: string[], flags: LookupFlags) => lookup(ctx, args, flags));
}

async function lookup(ctx: CliContext, args: string[], flags: LookupFlags): Promise<void> {
  const { console: con } = ctx;
  const people = directoryOf(inferProvider(flags.provider, { env: ctx.env, home: resolveHome(ctx.env), candidates: providersFor(flags) }));
  const kind = chooseKind(people, flags);
  const bySecret = kind === people.idSearch;
  const show = (value: string) => (bySecret && !flags.reveal ? maskIdNumber(value) : value);
  const what = bySecret ? 'ID-card number' : 'userId';
  const ids = await readIds(await withPipedIds(ctx, args, flags), { what, show });
  const me = ids.length === 0;
  if (me && !kind.allowsMe) {
    throw new UsageError(
      people.kinds.some((k) => k.allowsMe)
        ? `give at least one ${what}: ${bySecret ? '--by-idcard' : `--kind ${kind.name}`} cannot answer for the signed-in person`
        : `give at least one ${what}: ${people.provider} lookups cannot answer for a signed-in person`,
    );
  }
  const signedIn = me ? requireSignedInUser(kind.provider, ctx.env) : undefined;
  if (flags.reveal) con.warn(consentWarning, { always: true });

  const session = openPeopleSession(ctx, kind.provider, { me, concurrency: flags.concurrency });
  const width = terminalWidth(con.stdout, ctx.env);
  const writer = createRecordWriter(flags.format ?? defaultFormat(con.stdout.isTTY), (text) => con.data(text), {
    ...(flags.fields ? { fields: flags.fields } : {}),
    ...(width !== undefined ? { terminalWidth: width } : {}),
  });
  const masker = createMasker(Boolean(flags.reveal));
  let firstFailure: IdsyncError | undefined;
  try {
    const summary = await runLookup(
      session.client,
      people,
      { kind, ids: me ? undefined : ids, concurrency: flags.concurrency, signal: ctx.signal },
      {
        // Masked after --fields: the note counts only the numbers masked in what is shown.
        onRecord: (row) => writer.add(masker.apply(flags.fields ? onlyFields(row, flags.fields) : row)),
        onNotFound: (id) =>
          con.error(`not found: ${id !== undefined ? show(id) : `${signedIn?.subject ?? 'the signed-in person'} (signed in)`}`),
        onFailure: (failedIds, err) => {
          firstFailure ??= err;
          const who =
            failedIds.length > 1 ? `${show(failedIds[0] as string)} and ${failedIds.length - 1} more` : show(failedIds[0] ?? 'me');
          con.error(`${who}: ${err.message}`);
        },
        onWarning: (m) => con.warn(m),
      },
    );
    await writer.finish();
    warnUnusedFields(ctx, writer.unusedFields(), summary.records > 0);
    if (masker.masked > 0) con.info(maskedNote(masker.masked));
    const asked = me ? 1 : ids.length;
    if (firstFailure) throw new IdsyncError(`lookup: ${summary.failed} of ${asked} failed`, firstFailure.exitCode);
    if (summary.notFound > 0) throw new IdsyncError(`lookup: ${summary.notFound} of ${asked} not found`, ExitCode.partial);
  } finally {
    await session.close();
  }
}

function chooseKind(people: PeopleDirectory, flags: LookupFlags): LookupKind {
  if (!flags.byIdcard) return findLookupKind(people, flags.kind);
  if (!people.idSearch) {
    const able = providerIds.filter((p) => directories[p].idSearch !== undefined);
    throw new UsageError(`--by-idcard is only available from ${able.join(', ')} (its idsearch interface)`);
  }
  if (flags.kind !== undefined) throw new UsageError('--by-idcard and --kind do not go together');
  return people.idSearch;
}

/** Platforms that can answer what was asked: --by-idcard needs idsearch, a --kind may exist on one only. */
function providersFor(flags: LookupFlags): readonly ProviderId[] {
  if (flags.byIdcard) return providerIds.filter((p) => directories[p].idSearch !== undefined);
  if (flags.kind === undefined) return providerIds;
  const having = providerIds.filter((p) => directories[p].kinds.some((k) => k.name === flags.kind));
  return having.length ? having : providerIds;
}

/** No ids given and standard input is a pipe or file: the ids come from there (empty: the signed-in person). */
async function withPipedIds(ctx: CliContext, args: string[], flags: LookupFlags): Promise<IdSources> {
  const sources: IdSources = { args, ...(flags.idsFile !== undefined ? { idsFile: flags.idsFile } : {}), readStdin: () => readAllStdin() };
  if (args.length > 0 || flags.idsFile !== undefined || !stdinIsPiped(ctx.stdin)) return sources;
  const text = await readAllStdin(ctx.stdin);
  if (text.trim() === '') return sources;
  return { ...sources, args: ['-'], readStdin: async () => text };
}

function warnUnusedFields(ctx: CliContext, unused: readonly string[], anyRecord: boolean): void {
  if (!anyRecord) return;
  for (const f of unused) ctx.console.warn(`--fields: no record has a field '${f}'`);
}

function fieldList(raw: string): string[] {
  const fields = raw
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  if (fields.length === 0) throw new InvalidArgumentError('expected field names separated by commas');
  return [...new Set(fields)];
}

/** The record's own fields among `fields` (the writer puts them in that order). */
function onlyFields(row: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const f of fields)
    if (Object.hasOwn(row, f)) Object.defineProperty(kept, f, { value: row[f], enumerable: true, writable: true, configurable: true });
  return kept;
}
