import type { ApiClient, JsonAnswer } from '../core/api-client.js';
import { UpstreamError } from '../core/errors.js';
import { RateLimiter } from '../core/rate-limit.js';
import { checkEnvelope } from '../providers/ecnu/envelope.js';
import { checkTongji, pageDataSchema } from '../providers/tongji/envelope.js';
import type { Row } from '../core/provider.js';
import type { LookupKind } from './lookup-kinds.js';
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

// The platform allows 50 requests/s per application and IP (API.md); stay a little under.
const TONGJI_PER_SECOND = 45;

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
export async function runLookup(client: ApiClient, req: LookupRequest, events: LookupEvents): Promise<LookupSummary> {
  const { kind } = req;
  const limiter = kind.provider === 'tongji' ? new RateLimiter(TONGJI_PER_SECOND) : undefined;
  const units: Array<readonly string[] | undefined> = req.ids === undefined ? [undefined] : chunk(req.ids, kind.batchSize);
  const summary: LookupSummary = { records: 0, notFound: 0, failed: 0 };
  const run = async (ids: readonly string[] | undefined): Promise<UnitResult> => {
    try {
      await limiter?.take(req.signal);
      return kind.provider === 'ecnu' ? await ecnuUnit(client, kind, ids) : await tongjiUnit(client, kind, ids ?? [], limiter, req.signal, events);
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

/** One ECNU lookup: `data` is an array, empty for an unknown person (seeds/001). */
async function ecnuUnit(client: ApiClient, kind: LookupKind, ids: readonly string[] | undefined): Promise<UnitResult> {
  const id = ids?.[0];
  const query: Record<string, string> = { ...kind.fixedParams, ...(id !== undefined ? { [kind.idParam]: id } : {}) };
  let rows: Row[] = [];
  await client.getJson(kind.path, query, (answer: JsonAnswer) => {
    const env = checkEnvelope(answer, kind.path);
    rows = rowsOf(env.data, kind.path, 'ecnu');
  });
  return { ids, rows, missing: id !== undefined && rows.length === 0 ? [id] : [] };
}

/**
 * Tongji: the sync endpoint filtered by userId (comma-separated for postdoc_info). A batch fits
 * one page (500 ids, 1000 rows a page), but should the platform page anyway, the cursor is
 * followed while asked ids are still missing. Rows are matched to the ids asked: were the filter
 * ignored, the endpoint would answer with everybody. (ECNU rows are not matched: multisearch and
 * idsearch rightly answer with other userIds, the same person's other identities.)
 */
async function tongjiUnit(
  client: ApiClient,
  kind: LookupKind,
  ids: readonly string[],
  limiter: RateLimiter | undefined,
  signal: AbortSignal | undefined,
  events: LookupEvents,
): Promise<UnitResult> {
  const byId = new Map<string, Row[]>(ids.map((id) => [id, []]));
  let foreign = 0;
  let cursor: string | undefined;
  for (let page = 1; ; page += 1) {
    if (page > 1) await limiter?.take(signal);
    const query: Record<string, string> = { ...kind.fixedParams, [kind.idParam]: ids.join(','), ...(cursor ? { sinceUserId: cursor } : {}) };
    let data: { userInfos?: unknown[] | null | undefined; sinceUserId?: string | number | null | undefined } = {};
    await client.getJson(kind.path, query, (answer: JsonAnswer) => {
      const env = checkTongji(answer, kind.path);
      const parsed = pageDataSchema.safeParse(env.data ?? {});
      if (!parsed.success) throw new UpstreamError(`tongji sent a malformed answer for ${kind.path}`, { transient: true });
      data = parsed.data;
    });
    const rows = rowsOf(data.userInfos ?? [], kind.path, 'tongji');
    for (const row of rows) {
      const list = byId.get(String(row['userId']));
      if (list) list.push(row);
      else foreign += 1;
    }
    const next = data.sinceUserId === null || data.sinceUserId === undefined ? '' : String(data.sinceUserId).trim();
    const stillMissing = [...byId.values()].some((list) => list.length === 0);
    if (rows.length === 0 || !next || next === cursor || !stillMissing) break;
    cursor = next;
  }
  if (foreign > 0) events.onWarning(`tongji answered ${foreign} row(s) for people not asked for (${kind.path}); left out`);
  return {
    ids,
    rows: ids.flatMap((id) => byId.get(id) ?? []),
    missing: ids.filter((id) => (byId.get(id) ?? []).length === 0),
  };
}

function rowsOf(data: unknown, path: string, provider: string): Row[] {
  if (data === null || data === undefined) return [];
  const list = Array.isArray(data) ? data : [data];
  for (const row of list) {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new UpstreamError(`${provider} sent a record that is not an object for ${path}`);
    }
  }
  return list as Row[];
}
