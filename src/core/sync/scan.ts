import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ApiClient } from '../api-client.js';
import { InterruptedError } from '../errors.js';
import type { Provider, Row, SourceDef } from '../provider.js';
import { checkpointFile, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { resumeSpool, SpoolWriter } from './spool-writer.js';

export interface ScanRequest {
  client: ApiClient;
  provider: Provider;
  source: SourceDef;
  params: Record<string, string>;
  since: number | undefined;
  pageSize: number | undefined;
  concurrency: number;
  /** The run's work folder: spool and, for cursor paging, the resume checkpoint. */
  workDir: string;
  /** Echo each page's records as NDJSON text (for `-o -`). */
  echo: ((text: string) => Promise<void>) | undefined;
  signal: AbortSignal;
  /** Each record the spool keeps, with its key, as it arrives (see SnapshotLoad). */
  onKept?: (row: Row, key: string) => void;
  onStart?(info: { resumed: boolean }): void;
  onPage?(progress: { pages: number; records: number; total: number | undefined }): void;
  onWarning?(message: string): void;
  onInfo?(message: string): void;
}

export interface ScanResult {
  spool: SpoolWriter;
  pages: number;
  /** The server's clock at the first page (Date header), unix seconds. */
  serverStart: number | undefined;
  /** The platform's count of rows moved during the scan: the watermark must not move. */
  totalMoved: boolean;
  resumed: boolean;
  startedAt: string;
}

/**
 * Opens the spool, resuming a cursor-paged pull killed earlier from its last durable page, or
 * starting afresh. A checkpoint that is not resumed is removed before the spool is rewritten:
 * were this run killed before its own first checkpoint, the old one would point into the new spool.
 */
async function openSpool(req: ScanRequest, spec: Parameters<typeof SpoolWriter.open>[1]) {
  const spoolPath = path.join(req.workDir, 'spool.ndjson');
  const cp = req.source.paging === 'cursor' ? await readCheckpoint(req.workDir) : undefined;
  let spool: SpoolWriter | undefined;
  if (cp && cp.since === (req.since ?? null)) {
    // A spool that cannot be read back (damaged on disk) failed every later run with it: the
    // checkpoint stayed. Starting over costs one full scan and loses nothing.
    spool = await resumeSpool(spoolPath, spec, cp.spoolBytes).catch((err: unknown) => {
      req.onWarning?.(
        `cannot resume the interrupted pull of ${req.source.name} (${err instanceof Error ? err.message : String(err)}); starting over`,
      );
      return undefined;
    });
  }
  const checkpoint = spool !== undefined ? cp : undefined;
  if (cp && !checkpoint) await fs.rm(checkpointFile(req.workDir), { force: true });
  spool ??= await SpoolWriter.open(spoolPath, spec);
  return { spool, checkpoint };
}

/** Every page of the pull into the spool, in order; the outputs are written afterwards. */
export async function scan(req: ScanRequest): Promise<ScanResult> {
  const { source, provider } = req;
  const { spool, checkpoint: cp } = await openSpool(req, {
    keyFields: source.keyFields,
    updateField: provider.sync.updateField,
    isDeleted: provider.sync.isDeleted,
    dropDeleted: req.since === undefined,
    ...(req.onKept ? { onKept: req.onKept } : {}),
  });
  const resumed = cp !== undefined;
  req.onStart?.({ resumed });
  if (cp) req.onInfo?.(`resuming an interrupted pull of ${source.name} after ${cp.pages} pages (${spool.count} records)`);
  // The interrupted run streamed these records to its own stdout, and failed: whoever read them
  // then had a failed run's output. This run's stdout must hold every record on its own.
  if (cp && req.echo && spool.bytes > 0) {
    for await (const text of createReadStream(spool.path, { end: spool.bytes - 1, encoding: 'utf8', highWaterMark: 1 << 20 })) {
      await req.echo(text as string);
    }
  }

  let pages = cp?.pages ?? 0;
  let serverStart = cp ? (cp.serverStart ?? undefined) : undefined;
  let totalMoved = false;
  const startedAt = cp?.startedAt ?? new Date().toISOString();
  let lastTotal: number | undefined;
  try {
    for await (const page of provider.pages(req.client, {
      source,
      params: req.params,
      since: req.since,
      pageSize: req.pageSize,
      concurrency: req.concurrency,
      signal: req.signal,
      ...(cp ? { resumeCursor: cp.cursor } : {}),
      onWarning: (m) => {
        totalMoved = true;
        req.onWarning?.(m);
      },
    })) {
      if (req.signal.aborted) throw new InterruptedError(String(req.signal.reason));
      serverStart ??= page.serverTime;
      const text = await spool.append(page.rows, `${source.name} page ${page.index}`, req.echo !== undefined);
      // Emptying the spooled page lets V8 collect its records young. Why: suspended frames
      // (this loop's, the page iterator's) keep the last page reachable while the next one is
      // parsed, so with pages fetched ahead every page was promoted to the old generation:
      // ~190 MB of old-space garbage per million records, ~50 MB more peak RSS (measured).
      page.rows.length = 0;
      if (req.echo && text) await req.echo(text);
      pages += 1;
      lastTotal = page.total ?? lastTotal;
      if (source.paging === 'cursor' && page.cursor !== undefined) {
        await spool.sync();
        await writeCheckpoint(req.workDir, {
          version: 1,
          since: req.since ?? null,
          cursor: page.cursor,
          spoolBytes: spool.bytes,
          pages,
          serverStart: serverStart ?? null,
          startedAt,
        });
      }
      req.onPage?.({ pages, records: spool.received, total: lastTotal });
    }
    if (req.signal.aborted) throw new InterruptedError(String(req.signal.reason));
    // Only a cursor-paged spool outlives the run (it is what a resumed pull continues); a
    // page-numbered one is a temp file that the outputs copy and fsync themselves, so
    // flushing it to disk too only doubled the disk writes (~220 MB at a million records).
    if (source.paging === 'cursor') await spool.sync();
  } finally {
    await spool.close();
  }
  spool.forgetKeys();
  if (spool.hasDuplicateKeys) {
    req.onWarning?.(
      'some records came twice (the platform changed rows during the scan); the last copy of each is kept, and the next run asks for this window again',
    );
  }
  return { spool, pages, serverStart, totalMoved, resumed, startedAt };
}
