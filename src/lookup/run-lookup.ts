import type { ApiClient } from '../core/api-client.js';
import { UpstreamError } from '../core/errors.js';
import type { LookupKind, PeopleDirectory } from '../core/people.js';
import type { Row } from '../core/provider.js';
import { RateLimiter } from '../core/rate-limit.js';
import { chunk, mapOrdered } from './ordered-pool.js';

export interface LookupRequest {
  kind: LookupKind;
  /** undefined: the signed-in person; the id parameter is then left out (seeds/001). */
  ids: readonly string[] | undefined;
  concurrency: number;
  signal?: AbortSignal;
}

/** Results arrive in the order of the ids asked, so NDJSON streams in a stable order. */
export interface LookupEvents {
  onRecord(row: Row): Promise<void> | void;
  /** undefined: the signed-in person. */
  onNotFound(id: string | undefined): void;
  onFailure(ids: readonly string[], err: UpstreamError): void;
  onWarning(message: string): void;
}

export interface LookupSummary {
  records: number;
  notFound: number;
  failed: number;
}

interface UnitResult {
  ids: readonly string[] | undefined;
  rows: Row[];
  missing: string[];
  failure?: UpstreamError;
}

/**
 * Looks people up with bounded concurrency. A platform error about one request (an errCode or
 * code answer) is reported for its ids and the rest go on; anything else (auth, network after
 * every retry) stops the run.
 */
export async function runLookup(
  client: ApiClient,
  people: PeopleDirectory,
  req: LookupRequest,
  events: LookupEvents,
): Promise<LookupSummary> {
  const { kind } = req;
  const limiter = people.requestsPerSecond !== undefined ? new RateLimiter(people.requestsPerSecond) : undefined;
  const pace = async () => limiter?.take(req.signal);
  const units: Array<readonly string[] | undefined> = req.ids === undefined ? [undefined] : chunk(req.ids, kind.batchSize);
  const summary: LookupSummary = { records: 0, notFound: 0, failed: 0 };
  const run = async (ids: readonly string[] | undefined): Promise<UnitResult> => {
    try {
      await pace();
      const answer = await people.lookUp(client, { kind, ids, pace });
      if (answer.warning !== undefined) events.onWarning(answer.warning);
      return { ids, rows: answer.rows, missing: answer.missing };
    } catch (err) {
      // Retried already if transient; an HTTP-level error (403, 404) would repeat for every id.
      if (err instanceof UpstreamError && !err.transient && err.status === undefined) return { ids, rows: [], missing: [], failure: err };
      throw err;
    }
  };
  for await (const result of mapOrdered(units, req.concurrency, run)) {
    if (result.failure) {
      summary.failed += result.ids?.length ?? 1;
      events.onFailure(result.ids ?? [], result.failure);
      continue;
    }
    for (const row of result.rows) {
      summary.records += 1;
      await events.onRecord(row);
    }
    if (result.ids === undefined && result.rows.length === 0) {
      summary.notFound += 1;
      events.onNotFound(undefined);
    }
    for (const id of result.missing) {
      summary.notFound += 1;
      events.onNotFound(id);
    }
  }
  return summary;
}
