import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import type { Console } from '../core/console.js';
import { UsageError } from '../core/errors.js';
import { homePaths, resolveHome } from '../core/home.js';
import { openSession } from '../core/session.js';
import { parseSince } from '../core/since.js';
import { findSource } from '../providers/source-registry.js';
import { runPull, type PullResult } from '../core/sync/engine.js';
import { providerOf } from '../providers/index.js';
import { prepareOutput } from '../sinks/output.js';
import { isStandardOutputName } from '../core/fs/target-check.js';
import { snapshotKindOf, type SnapshotTarget } from '../core/sync/snapshot-target.js';
import { outputFormats, type OutputFormat } from '../core/sync/writers.js';
import { didYouMean } from '../core/suggest.js';
import type { Provider, SourceDef } from '../core/provider.js';
import { collectParam, intInRange, nonEmpty, oneOf } from './option-parsers.js';
import { startProgress } from './progress.js';
import { retrySummary } from '../core/retry.js';

interface PullFlags {
  since?: string;
  out?: string;
  format?: OutputFormat;
  csvRaw?: boolean;
  snapshot?: string;
  changes?: string;
  param?: Record<string, string>;
  pageSize?: number;
  concurrency?: number;
  overlap: number;
  wait?: number;
  retries?: number;
  timeout?: number;
}

// The engine sets these itself; a user value would break paging or the watermark.
const reservedParams = new Set(['ts', 'pageSize', 'pageNum', 'full', 'sinceUserId', 'sinceUpdateTime']);

export function registerPull(program: Command, ctx: CliContext): void {
  program
    .command('pull')
    .description('fetch a source (full or incremental) into files, a snapshot and the saved state')
    .argument('<source>', "a source name (see 'idsync sources')")
    .option('--since <when>', "last | 0 | unix seconds | 'YYYY-MM-DD[ HH:mm:ss]' (Asia/Shanghai); default 0, a full pull")
    .option('-o, --out <file>', "write the records this run fetched to FILE ('-' for stdout)", nonEmpty)
    .addOption(
      new Option('--format <format>', 'ndjson, csv or xlsx (default: from the --out extension, else ndjson)').argParser(
        oneOf(outputFormats),
      ),
    )
    .option('--csv-raw', "CSV cells exactly as sent: no leading ' before =, +, -, @ (for programs, not spreadsheets)")
    .option('--snapshot <target>', 'keep the complete current set: FILE.ndjson|.jsonl, FILE.sqlite|.db, or a postgresql:// URL', nonEmpty)
    .option('--changes <file>', 'write what this run changed in the snapshot, one JSON event per line (needs --snapshot)', nonEmpty)
    .option('--param <key=value>', 'a platform parameter, repeatable (ecnu-students: type=本科生)', collectParam)
    .option(
      '--page-size <n>',
      'rows per page, ECNU only (default 5000, at most 10000; Tongji pages are fixed at 1000)',
      intInRange(1, 10_000),
    )
    .option(
      '--concurrency <n>',
      'pages fetched at once, page-numbered sources (default 4; fewer for pages over 5000 rows)',
      intInRange(1, 32),
    )
    .option('--overlap <seconds>', 'how far each incremental run reaches back before the watermark', intInRange(0, 30 * 86400), 300)
    .option('--wait <seconds>', 'wait this long for another run of the same source to finish', intInRange(0, 86400))
    .option(
      '--retries <n>',
      'retries of a request after its first attempt, for transient failures (default 5; 0: one attempt)',
      intInRange(0, 20),
    )
    .option('--timeout <seconds>', 'bound on each request as a whole, headers and body (default 60)', intInRange(1, 3600))
    .action(async (sourceName: string, flags: PullFlags) => {
      summarise(ctx, sourceName, await pull(ctx, sourceName, flags));
    });
}

type PullSummary = PullResult & { elapsedMs: number; retries: number };

async function pull(ctx: CliContext, sourceName: string, flags: PullFlags): Promise<PullSummary> {
  const { console: con, env } = ctx;
  const home = homePaths(resolveHome(env));
  const source = findSource(sourceName, home.sourcesFile);
  const provider = providerOf(source.provider);
  const params = flags.param ?? {};
  for (const key of Object.keys(params)) {
    if (reservedParams.has(key)) throw new UsageError(`--param ${key} is set by idsync itself; use --since and --page-size instead`);
  }
  for (const required of source.requiredParams) {
    if (!params[required]) {
      throw new UsageError(`source ${source.name} needs --param ${required}=VALUE (${source.description})`);
    }
  }
  warnUndocumentedParams(con, source, params);
  const pageSize = checkPageSize(con, source, provider, flags.pageSize);
  const concurrency = flags.concurrency ?? defaultConcurrency(pageSize);
  const since = parseSince(flags.since);
  // With nowhere else to go, the records go to standard output, as with -o - (CLI.md), and
  // --format applies to them there.
  const outFlag = flags.out ?? (flags.snapshot === undefined ? '-' : undefined);
  const out = outFlag === undefined ? undefined : resolveOut(outFlag, flags.format);
  if (!out && flags.format) throw new UsageError('--format applies to --out; add -o FILE or -o -');
  if (flags.csvRaw && out?.format !== 'csv') throw new UsageError('--csv-raw applies to CSV output; add -o FILE.csv or --format csv');
  if (out?.format === 'xlsx' && out.target === '-' && con.stdout.isTTY) {
    throw new UsageError('refusing to write an Excel workbook to a terminal; use -o FILE.xlsx or redirect stdout');
  }
  const snapshot = flags.snapshot === undefined ? undefined : await snapshotTarget(flags.snapshot, source.keyFields, ctx.env);
  if (snapshot && out && out.target === snapshot.id) throw new UsageError('--out and --snapshot must be different files');
  const changes = flags.changes === undefined ? undefined : path.resolve(flags.changes);
  if (changes && !snapshot) throw new UsageError('--changes needs --snapshot: the changes are those of the snapshot');
  if (changes && (changes === out?.target || changes === snapshot?.id)) {
    throw new UsageError('--changes must be a file of its own, not the --out or --snapshot file');
  }

  const session = openSession({
    provider: provider.id,
    env,
    log: (m) => con.debug(m),
    signal: ctx.signal,
    retry: {
      ...(flags.retries !== undefined ? { attempts: flags.retries + 1 } : {}),
      ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout * 1000 } : {}),
    },
    // An unreachable platform must not look like a hang: the spinner shows each retry.
    onRetry: (e) => progress.update(`${source.name}: ${retrySummary(e)}`),
    connections: Math.max(4, concurrency * 2),
  });
  const progress = await startProgress(con, `${source.name}: starting`, { dataOnStdout: out?.target === '-', env });
  const started = Date.now();
  try {
    const result = await runPull(
      {
        provider,
        source,
        params,
        since,
        ...(out ? { out } : {}),
        ...(snapshot ? { snapshot } : {}),
        ...(changes ? { changes } : {}),
        ...(pageSize !== undefined ? { pageSize } : {}),
        concurrency,
        overlapSeconds: flags.overlap,
        ...(flags.wait !== undefined ? { waitSeconds: flags.wait } : {}),
      },
      {
        home: session.home,
        client: session.client,
        signal: ctx.signal,
        stdout: (text) => con.data(text),
        pipeFile: (file) => pipeline(fs.createReadStream(file), process.stdout, { end: false }),
        prepareOutput: flags.csvRaw
          ? (spool, dest, format, opts) => prepareOutput(spool, dest, format, { ...opts, csvRaw: true })
          : prepareOutput,
        isActive: provider.sync.isActive,
        events: {
          onFullPull: (m) => con.notice(m),
          onPage: ({ pages, records, total }) =>
            progress.update(`${source.name}: ${records}${total !== undefined ? `/${total}` : ''} records, ${pages} pages`),
          onWarning: (m) => con.warn(m),
          onInfo: (m) => con.debug(m),
        },
      },
    );
    return { ...result, elapsedMs: Date.now() - started, retries: session.client.stats.retries };
  } finally {
    progress.stop();
    await session.close();
  }
}

/** Allowed, since the platform may know more than its documents, but never silently. */
function warnUndocumentedParams(con: Console, source: SourceDef, params: Readonly<Record<string, string>>): void {
  const documented = source.documentedParams;
  if (documented === undefined) return;
  for (const key of Object.keys(params)) {
    if (documented.includes(key)) continue;
    const known = documented.length ? `documented: ${documented.join(', ')}` : 'its documents list no filter';
    con.warn(
      `--param ${key} is not a documented parameter of ${source.name} (${known}${didYouMean(key, documented)}); sent as given, and its state is kept apart`,
    );
  }
}

/** The page size to ask for; a platform that fixes its own page size gets a warning, not an error. */
function checkPageSize(con: Console, source: SourceDef, provider: Provider, pageSize: number | undefined): number | undefined {
  if (pageSize === undefined) return undefined;
  const fixed = provider.sync.fixedPageSize;
  if (fixed !== undefined) {
    con.warn(`--page-size is ignored for ${source.name}: ${provider.displayName} answers ${fixed} rows a page, always`);
    return undefined;
  }
  if (pageSize > provider.sync.maxPageSize) {
    throw new UsageError(`--page-size for ${provider.id} is at most ${provider.sync.maxPageSize}`);
  }
  return pageSize;
}

/** A `--snapshot` target by its name (CLI.md): anything else is a usage error, caught before any request. */
async function snapshotTarget(raw: string, keyFields: readonly string[], env: NodeJS.ProcessEnv): Promise<SnapshotTarget> {
  const kind = snapshotKindOf(raw);
  if (kind === undefined) {
    throw new UsageError(
      `--snapshot ${raw}: name an NDJSON file (.ndjson, .jsonl), an SQLite database (.sqlite, .db) or a postgresql:// URL`,
    );
  }
  if (kind === 'postgres') {
    // pg loads only for a PostgreSQL snapshot (start-up time of every other run).
    const { postgresSnapshotTarget } = await import('../sinks/snapshot-postgres-target.js');
    return postgresSnapshotTarget(raw, keyFields, env);
  }
  const { fileSnapshotTarget } = await import('../sinks/snapshot-files.js');
  return fileSnapshotTarget(path.resolve(raw), kind);
}

function resolveOut(raw: string, format: OutputFormat | undefined): { target: string; format: OutputFormat } {
  if (raw === '-' || isStandardOutputName(raw)) return { target: '-', format: format ?? 'ndjson' };
  const ext = path.extname(raw).toLowerCase();
  const inferred: OutputFormat = ext === '.csv' ? 'csv' : ext === '.xlsx' ? 'xlsx' : 'ndjson';
  return { target: path.resolve(raw), format: format ?? inferred };
}

function summarise(ctx: CliContext, sourceName: string, r: PullSummary): void {
  const secs = (r.elapsedMs / 1000).toFixed(1);
  const parts = [
    `${sourceName}: ${r.mode} pull${r.resumed ? ' (resumed)' : ''}`,
    `${r.records} records${r.deleted ? ` (${r.deleted} deleted)` : ''}`,
    `${plural(r.pages, 'page')}`,
    `${plural(r.retries, 'retry', 'retries')}`,
    `${secs} s`,
  ];
  let line = parts.join(', ');
  if (r.outputs.length) line += ` → ${r.outputs.join(', ')}`;
  if (r.snapshot) line += ` (snapshot: ${r.snapshot.total} records)`;
  if (r.changes) {
    const c = r.changes;
    line += `; changes: ${c.insert} inserted, ${c.update} updated, ${c.delete} deleted`;
    if (c.delivered !== c.insert + c.update + c.delete) line += ` (${c.delivered} delivered, with an interrupted run's)`;
  }
  if (!r.job) line += ' (one-off: no state saved)';
  ctx.console.info(line);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Records in flight at the default concurrency and page size (4 pages of 5000 rows). */
const RECORDS_IN_FLIGHT = 20_000;

/**
 * Pages fetched at once unless --concurrency says: 4, and fewer for larger pages, so that the
 * records in flight stay at the default's 20000. Why: each page in flight is held whole (its
 * body, then its records), and at 10000 rows a page 4 in flight took peak RSS past 200 MB at
 * a million records (bench/RESULTS.md), for no gain in speed: as many records arrive per round
 * trip as with the default page size.
 */
export function defaultConcurrency(pageSize: number | undefined): number {
  return pageSize === undefined ? 4 : Math.min(4, Math.max(1, Math.floor(RECORDS_IN_FLIGHT / pageSize)));
}
