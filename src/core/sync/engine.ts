import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ApiClient } from '../api-client.js';
import { InterruptedError } from '../errors.js';
import type { HomePaths } from '../home.js';
import { acquireLock } from '../lock.js';
import { paramsKey, StateStore, type StateEntry } from '../state.js';
import type { Provider, SourceDef } from '../../providers/types.js';
// Not the sinks' index: it loads exceljs and better-sqlite3, ~0.4 s and ~25 MB of RSS that an
// NDJSON or CSV output never uses (measured at start-up); the snapshot sinks load on demand.
import { prepareOutput } from '../../sinks/output.js';
import type { OutputFormat, PreparedWrite, SnapshotResult } from '../../sinks/types.js';
import { removeStaleTemps } from '../../sinks/atomic-file.js';
import { checkpointFile, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { resumeSpool, SpoolWriter } from './spool-writer.js';
import { checkPrivateTarget, checkWritableTarget } from './targets.js';
import { nextWatermark } from './watermark.js';

export type SinceSpec = { kind: 'last' } | { kind: 'full' } | { kind: 'at'; unix: number };

export interface PullJob {
  provider: Provider;
  source: SourceDef;
  params: Record<string, string>;
  since: SinceSpec;
  /** '-' for stdout, else an absolute path. */
  out?: { target: string; format: OutputFormat; csvRaw?: boolean };
  /** Absolute path of the snapshot (NDJSON, or SQLite by extension). */
  snapshot?: string;
  pageSize?: number;
  concurrency: number;
  overlapSeconds: number;
  waitSeconds?: number;
}

export interface PullEvents {
  onStart?(info: { mode: 'full' | 'incremental'; since: number | undefined; resumed: boolean }): void;
  onPage?(progress: { pages: number; records: number; total: number | undefined }): void;
  onWarning?(message: string): void;
  onInfo?(message: string): void;
}

export interface PullDeps {
  home: HomePaths;
  client: ApiClient;
  signal: AbortSignal;
  /** Writes data to stdout with back-pressure. */
  stdout(text: string): Promise<void>;
  /** Copies a finished file to stdout (CSV/XLSX with -o -). */
  pipeFile(file: string): Promise<void>;
  events: PullEvents;
}

export interface PullResult {
  mode: 'full' | 'incremental';
  since: number | undefined;
  watermark: number | undefined;
  records: number;
  deleted: number;
  pages: number;
  outputs: string[];
  snapshot: SnapshotResult | undefined;
  resumed: boolean;
}

/**
 * One pull: pages → spool → outputs → state. The order of a successful run is: every page in
 * the spool, every output written to a temp file and fsync'd, every output renamed (or
 * committed) into place, then the state saved. A run that fails or dies at any point before
 * leaves the previous outputs and state as they were, so `--since last` loses nothing.
 */
export async function runPull(job: PullJob, deps: PullDeps): Promise<PullResult> {
  const { source, provider } = job;
  if (job.out && job.out.target !== '-') checkWritableTarget(job.out.target, 'output');
  if (job.snapshot) checkPrivateTarget(job.snapshot, 'snapshot');
  const lock = await acquireLock(deps.home.locksDir, source.name, {
    ...(job.waitSeconds !== undefined ? { waitSeconds: job.waitSeconds } : {}),
    signal: deps.signal,
    onWait: (m) => deps.events.onInfo?.(m),
  });
  const workDir = path.join(deps.home.workDir, workName(source.name, job.params));
  let keepWork = false;
  try {
    // A run killed with SIGKILL leaves its temp files next to the outputs; clear them now (under
    // the lock) rather than at the next write, so they do not linger through a long scan.
    for (const target of [job.out?.target, job.snapshot]) if (target && target !== '-') await removeStaleTemps(target);
    const store = new StateStore(deps.home.stateDir);
    const previous = await store.get(source.name, job.params);
    const since = resolveSince(job, previous, deps.events);
    const mode = since === undefined ? 'full' : 'incremental';
    await fs.mkdir(workDir, { recursive: true, mode: 0o700 });
    const spec = {
      keyFields: source.keyFields,
      updateField: provider.sync.updateField,
      isDeleted: provider.sync.isDeleted,
      dropDeleted: mode === 'full',
    };
    const spoolPath = path.join(workDir, 'spool.ndjson');

    // A cursor-paged pull killed earlier resumes from its last durable page.
    const cp = source.paging === 'cursor' ? await readCheckpoint(workDir) : undefined;
    let spool: SpoolWriter | undefined;
    if (cp && cp.since === (since ?? null)) {
      // A spool that cannot be read back (damaged on disk) failed every later run with it: the
      // checkpoint stayed. Starting over costs one full scan and loses nothing.
      spool = await resumeSpool(spoolPath, spec, cp.spoolBytes).catch((err: unknown) => {
        deps.events.onWarning?.(`cannot resume the interrupted pull of ${source.name} (${err instanceof Error ? err.message : String(err)}); starting over`);
        return undefined;
      });
    }
    const resumed = spool !== undefined && cp !== undefined;
    // A checkpoint that is not resumed must go before the spool is rewritten: were this run
    // killed before its own first checkpoint, the old one would point into the new spool.
    if (cp && !resumed) await fs.rm(checkpointFile(workDir), { force: true });
    spool ??= await SpoolWriter.open(spoolPath, spec);
    deps.events.onStart?.({ mode, since, resumed });
    if (resumed) deps.events.onInfo?.(`resuming an interrupted pull of ${source.name} after ${cp.pages} pages (${spool.count} records)`);

    let pages = resumed ? cp.pages : 0;
    let serverStart = resumed ? (cp.serverStart ?? undefined) : undefined;
    let totalMoved = false;
    const startedAt = resumed ? cp.startedAt : new Date().toISOString();
    const streamNdjson = job.out?.target === '-' && job.out.format === 'ndjson';
    let lastTotal: number | undefined;
    keepWork = source.paging === 'cursor';
    try {
      for await (const page of provider.pages(deps.client, {
        source,
        params: job.params,
        since,
        pageSize: job.pageSize,
        concurrency: job.concurrency,
        signal: deps.signal,
        ...(resumed ? { resumeCursor: cp.cursor } : {}),
        onWarning: (m) => {
          totalMoved = true;
          deps.events.onWarning?.(m);
        },
      })) {
        if (deps.signal.aborted) throw new InterruptedError(String(deps.signal.reason));
        serverStart ??= page.serverTime;
        const text = await spool.append(page.rows, `${source.name} page ${page.index}`, streamNdjson);
        // Emptying the spooled page lets V8 collect its records young. Why: suspended frames
        // (this loop's, the page iterator's) keep the last page reachable while the next one is
        // parsed, so with pages fetched ahead every page was promoted to the old generation:
        // ~190 MB of old-space garbage per million records, ~50 MB more peak RSS (measured).
        page.rows.length = 0;
        if (streamNdjson && text) await deps.stdout(text);
        pages += 1;
        lastTotal = page.total ?? lastTotal;
        if (source.paging === 'cursor' && page.cursor !== undefined) {
          await spool.sync();
          await writeCheckpoint(workDir, {
            version: 1,
            since: since ?? null,
            cursor: page.cursor,
            spoolBytes: spool.bytes,
            pages,
            serverStart: serverStart ?? null,
            startedAt,
          });
        }
        deps.events.onPage?.({ pages, records: spool.received, total: lastTotal });
      }
      if (deps.signal.aborted) throw new InterruptedError(String(deps.signal.reason));
      // Only a cursor-paged spool outlives the run (it is what a resumed pull continues); a
      // page-numbered one is a temp file that the outputs copy and fsync themselves, so
      // flushing it to disk too only doubled the disk writes (~220 MB at a million records).
      if (source.paging === 'cursor') await spool.sync();
    } finally {
      await spool.close();
    }
    spool.forgetKeys();
    if (spool.hasDuplicateKeys) {
      deps.events.onWarning?.('some records came twice (the platform changed rows during the scan); the last copy of each is kept, and the next run asks for this window again');
    }

    const view = spool.toSpool();
    const prepared: PreparedWrite[] = [];
    const outputs: string[] = [];
    let snapshot: SnapshotResult | undefined;
    try {
      if (job.out && job.out.target !== '-') {
        prepared.push(await prepareOutput(view, job.out.target, job.out.format, { sheetName: source.name, csvRaw: job.out.csvRaw === true }));
        outputs.push(job.out.target);
      }
      if (job.snapshot) {
        const { prepareSnapshot } = await import('../../sinks/index.js');
        const snap = await prepareSnapshot(view, job.snapshot, {
          mode,
          table: source.name.replace(/-/g, '_'),
          updateField: provider.sync.updateField,
        });
        prepared.push(snap);
        snapshot = snap.result;
        outputs.push(job.snapshot);
      }
      if (deps.signal.aborted) throw new InterruptedError(String(deps.signal.reason));
      for (const p of prepared) await p.commit();
    } catch (err) {
      for (const p of prepared) await p.abort();
      throw err;
    }
    if (job.out?.target === '-' && !streamNdjson) {
      const tmp = path.join(workDir, `stdout.${job.out.format}`);
      const p = await prepareOutput(view, tmp, job.out.format, { sheetName: source.name, csvRaw: job.out.csvRaw === true });
      await p.commit();
      await deps.pipeFile(tmp);
    }

    const watermark = nextWatermark({
      since,
      maxSeen: spool.maxUpdated,
      serverStart,
      unstable: spool.hasDuplicateKeys || totalMoved,
      granularity: provider.sync.granularity,
      overlapSeconds: job.overlapSeconds,
    });
    await store.put(source.name, {
      params: job.params,
      watermark: watermark ?? null,
      snapshot: job.snapshot ?? null,
      lastRun: {
        finishedAt: new Date().toISOString(),
        mode,
        since: since ?? null,
        records: spool.received,
        pages,
        deleted: spool.deleted,
        serverTime: serverStart ?? null,
        maxUpdated: spool.maxUpdatedText ?? null,
        durationMs: Date.now() - Date.parse(startedAt),
      },
    });
    keepWork = false;
    return { mode, since, watermark, records: spool.received, deleted: spool.deleted, pages, outputs, snapshot, resumed };
  } finally {
    if (!keepWork) await fs.rm(workDir, { recursive: true, force: true });
    await lock.release();
  }
}

function resolveSince(job: PullJob, previous: StateEntry | undefined, events: PullEvents): number | undefined {
  if (job.since.kind === 'full') return undefined;
  if (job.since.kind === 'at') {
    if (job.snapshot && !existsSync(job.snapshot)) {
      events.onWarning?.(`snapshot ${job.snapshot} does not exist yet: it will hold only the changes since the given time`);
    }
    return job.since.unix;
  }
  const mark = previous?.watermark ?? undefined;
  if (mark === undefined) {
    events.onInfo?.('no saved state for this source: doing a full pull');
    return undefined;
  }
  // The state moved with another snapshot (or none): merging into this one would leave a hole.
  if (job.snapshot && (previous?.snapshot !== job.snapshot || !existsSync(job.snapshot))) {
    events.onInfo?.(`snapshot ${job.snapshot} is missing or was not kept by the previous run: doing a full pull`);
    return undefined;
  }
  return mark;
}

function workName(source: string, params: Record<string, string>): string {
  const key = paramsKey(params);
  return key ? `${source}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}` : source;
}
