import type { ApiClient } from '../../core/api-client.js';
import { UpstreamError } from '../../core/errors.js';
import { platformText } from '../../core/terminal-text.js';
import { RateLimiter } from '../../core/rate-limit.js';
import { formatShanghai } from '../../core/sync/shanghai-time.js';
import type { Page, PageRequest, Row } from '../../core/provider.js';
import { checkTongji, pageDataSchema } from './envelope.js';

// The platform allows 50 requests/s per application and IP (API.md); stay a little under.
export const REQUESTS_PER_SECOND = 45;

export interface CursorPage {
  rows: Row[];
  next: string | undefined;
  serverTime: number | undefined;
}

/** One page of a cursor-paged endpoint (seeds/002–004): its records and the cursor after it. */
export async function fetchCursorPage(client: ApiClient, path: string, query: Record<string, string>): Promise<CursorPage> {
  const answer = await client.getJson(path, query, (a) => {
    const env = checkTongji(a, path);
    const data = pageDataSchema.safeParse(env.data ?? {});
    if (!data.success) throw new UpstreamError(`tongji sent a malformed page for ${path}`, { transient: true, reason: 'malformed page' });
  });
  const data = pageDataSchema.parse((answer.body as { data?: unknown }).data ?? {});
  const rows = data.userInfos ?? [];
  for (const row of rows) {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new UpstreamError(`tongji sent a row that is not an object for ${path}`);
    }
  }
  const next = data.sinceUserId === null || data.sinceUserId === undefined ? '' : String(data.sinceUserId);
  return { rows: rows as Row[], next: next.trim() === '' ? undefined : next, serverTime: answer.serverTime };
}

/**
 * Cursor paging (seeds/002–004): pass back sinceUserId; stop when it is empty or absent or no
 * rows come. sinceUpdateTime stays the same on every page of one pull. The next request is
 * sent before the current page is handed on, so parsing and writing overlap the network.
 */
export function tongjiPages(client: ApiClient, req: PageRequest): AsyncGenerator<Page> {
  const base: Record<string, string> = { ...(req.source.defaultParams ?? {}), ...req.params };
  if (req.since !== undefined) base['sinceUpdateTime'] = formatShanghai(req.since);
  return cursorPages(client, req.source.path, base, req.resumeCursor, req.signal);
}

/** The pages of `path` with the query `base`, after the cursor `start` (undefined: from the first). */
export async function* cursorPages(
  client: ApiClient,
  path: string,
  base: Readonly<Record<string, string>>,
  start: string | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<Page> {
  const limiter = new RateLimiter(REQUESTS_PER_SECOND);
  const request = async (cursor: string | undefined) => {
    await limiter.take(signal);
    return fetchCursorPage(client, path, cursor ? { ...base, sinceUserId: cursor } : base);
  };
  let cursor = start;
  let pending = request(cursor);
  // Every cursor of this scan: one coming back (A, B, A, …) is a loop however long its cycle,
  // and a run that never ends holds the job's lock for good. One short string per page.
  const seen = new Set<string>(start !== undefined ? [start] : []);
  for (let index = 1; ; index += 1) {
    const page = await pending;
    if (page.rows.length === 0) return;
    if (page.next !== undefined && seen.has(page.next)) {
      throw new UpstreamError(
        `tongji returned a cursor it had returned before (sinceUserId ${platformText(page.next, 80)}, page ${index}) for ${path}; stopping instead of looping`,
      );
    }
    if (page.next !== undefined) seen.add(page.next);
    if (page.next !== undefined) {
      pending = request(page.next);
      pending.catch(() => undefined);
    }
    yield {
      rows: page.rows,
      index,
      ...(page.next !== undefined ? { cursor: page.next } : {}),
      ...(page.serverTime !== undefined ? { serverTime: page.serverTime } : {}),
    };
    if (page.next === undefined) return;
    cursor = page.next;
  }
}
