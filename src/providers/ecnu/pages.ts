import type { ApiClient, JsonAnswer } from '../../core/api-client.js';
import { UpstreamError } from '../../core/errors.js';
import { platformText } from '../../core/terminal-text.js';
import type { Page, PageRequest, Row } from '../../core/provider.js';
import { checkEnvelope, syncDataSchema } from './envelope.js';

interface FetchedPage {
  rows: Row[];
  total: number;
  serverTime: number | undefined;
  pageSize: number | undefined;
}

export async function fetchSyncPage(
  client: ApiClient,
  path: string,
  query: Record<string, string>,
  pageNum: number,
  ready?: Promise<void>,
): Promise<FetchedPage> {
  let page: FetchedPage | undefined;
  const check = (answer: JsonAnswer) => {
    const env = checkEnvelope(answer, path);
    const data = syncDataSchema.safeParse(env.data);
    if (!data.success) {
      const issue = data.error.issues[0];
      throw new UpstreamError(
        `ecnu sent a malformed page ${pageNum} for ${path} (data.${platformText(issue?.path.join('.') ?? '', 60)}: ${issue?.message ?? 'invalid'}), requestId ${platformText(env.requestId ?? 'none', 80)}`,
        { transient: true, reason: 'malformed page' },
      );
    }
    // The answer's own array, not zod's copy of it: then one array holds the page's records
    // and the engine can let go of all of them at once (see runPull).
    const rows = data.data.rows ? (env.data as { rows: unknown[] }).rows : [];
    for (let i = 0; i < rows.length; i += 1) {
      const row = rows[i];
      if (row === null || typeof row !== 'object' || Array.isArray(row)) {
        throw new UpstreamError(`ecnu sent a row that is not an object (page ${pageNum}, row ${i + 1}) for ${path}`);
      }
    }
    page = {
      rows: rows as Row[],
      total: data.data.totalNum,
      serverTime: answer.serverTime,
      pageSize: data.data.pageSize ?? undefined,
    };
  };
  await client.getJson(path, { ...query, pageNum: String(pageNum) }, check, ready);
  if (!page) throw new UpstreamError(`ecnu page ${pageNum} of ${path} was not read`);
  return page;
}

/**
 * Page-number paging (seeds/000): ts, pageSize, pageNum from 1, full. Once the first page gives
 * totalNum, later pages are fetched `concurrency` at a time and yielded in page order.
 * totalNum can move while the platform changes rows; the scan then follows the newest total
 * and says so, and the engine's watermark makes the next incremental run pick up what moved.
 */
export async function* ecnuPages(client: ApiClient, req: PageRequest, defaultPageSize: number): AsyncGenerator<Page> {
  const asked = req.pageSize ?? defaultPageSize;
  const query: Record<string, string> = {
    ...req.params,
    ts: String(req.since ?? 0),
    pageSize: String(asked),
    // Any value of `full` asks for every row, departed and deleted ones included (seeds/000).
    full: '1',
  };
  const path = req.source.path;
  const first = await fetchSyncPage(client, path, query, 1);
  // Should the platform cap pageSize below what we asked, page numbers count in its size.
  const size = first.pageSize && first.pageSize < asked ? first.pageSize : asked;
  if (size !== asked) query['pageSize'] = String(size);
  let total = first.total;
  const lastPage = () => Math.max(1, Math.ceil(total / size));
  // A page that cannot be what its own totalNum says means rows went missing: a run that ended
  // on it, or skipped them, would move the watermark past them, and a full refresh would
  // delete them (and report them gone in the change feed). Refused, so nothing is written.
  const incomplete = (n: number, rows: number, why: string) =>
    new UpstreamError(
      `ecnu page ${n} of ${path} has ${rows} rows where totalNum ${total} and pageSize ${size} say ${why}; the answer is incomplete, nothing was written`,
      { reason: 'incomplete page' },
    );
  if (first.rows.length > Math.min(total, size)) throw incomplete(1, first.rows.length, `at most ${Math.min(total, size)}`);
  if (first.rows.length < size && lastPage() > 1) throw incomplete(1, first.rows.length, `${size}`);
  // totalNum may grow while the platform changes rows, but not without bound: a scan that
  // follows a total growing on every page never ends.
  const maxTotal = 2 * total + 10 * size;
  let totalWarned = false;
  yield { rows: first.rows, index: 1, total, ...(first.serverTime !== undefined ? { serverTime: first.serverTime } : {}) };
  if (first.rows.length < size && lastPage() <= 1) return;

  const inflight = new Map<number, Promise<FetchedPage>>();
  // A page fetched ahead is parsed only when its turn comes (see ApiClient.getJson's `ready`).
  const turns = new Map<number, () => void>();
  let next = 2;
  const fill = () => {
    while (inflight.size < req.concurrency && next <= lastPage()) {
      const turn = new Promise<void>((resolve) => turns.set(next, resolve));
      const p = fetchSyncPage(client, path, query, next, turn);
      p.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
      inflight.set(next, p);
      next += 1;
    }
  };
  try {
    for (let n = 2; ; n += 1) {
      fill();
      const pending = inflight.get(n);
      if (!pending) return;
      turns.get(n)?.();
      turns.delete(n);
      const page = await pending;
      inflight.delete(n);
      if (page.total !== total) {
        // Said once: the scan goes on with the newest total, and the watermark holds.
        if (!totalWarned) {
          req.onWarning?.(
            `totalNum changed from ${total} to ${page.total} during the scan (rows changed on the platform); a row may have slipped past, so the next run asks for this window again`,
          );
        }
        totalWarned = true;
        if (page.total > maxTotal) {
          throw new UpstreamError(
            `ecnu's totalNum for ${path} grew from ${first.total} to ${page.total} during one scan; stopping instead of following it`,
            {
              reason: 'totalNum runaway',
            },
          );
        }
        total = Math.max(total, page.total);
      } else if (n < lastPage() && page.rows.length < size) {
        throw incomplete(n, page.rows.length, `${size}`);
      }
      yield { rows: page.rows, index: n, total, ...(page.serverTime !== undefined ? { serverTime: page.serverTime } : {}) };
      if (n >= lastPage() && page.rows.length < size) return;
      if (n >= lastPage() && n * size >= total) return;
    }
  } finally {
    // Let requests still in flight settle quietly when the consumer stops early.
    for (const p of inflight.values()) p.catch(() => undefined);
    for (const open of turns.values()) open();
  }
}
