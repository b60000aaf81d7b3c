/**
 * What the two hand-written contenders share: a client-credentials token and one GET of a sync
 * page, on undici's request() with a keep-alive pool, the same HTTP stack idsync uses, so
 * that the comparison is about what each client does around it. Tombstones (deleted_mark 1)
 * are left out as idsync's full pull leaves them out, so all contenders write the same lines.
 */
import { Agent, request } from 'undici';

export const SYNC_PATH = '/api/v1/sync/userinfo';
/** idsync's defaults (ECNU page size, `pull --concurrency`): main.ts checks the page size. */
export const MINIMAL_PAGE_SIZE = 5000;
export const MINIMAL_CONCURRENCY = 4;
/** What the official ECNU Go SDK asks for. */
export const SDK_PAGE_SIZE = 2000;

export interface SyncPage {
  totalNum: number;
  rows: Record<string, unknown>[];
}

export async function fetchToken(dispatcher: Agent, base: string, clientId: string, clientSecret: string): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
  const res = await request(`${base}/oauth2/token`, {
    dispatcher,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  const answer = (await res.body.json()) as { access_token?: string };
  if (res.statusCode !== 200 || !answer.access_token) throw new Error(`token: HTTP ${res.statusCode}`);
  return answer.access_token;
}

export async function fetchPage(dispatcher: Agent, base: string, token: string, pageSize: number, pageNum: number): Promise<SyncPage> {
  const url = `${base}${SYNC_PATH}?ts=0&full=1&pageSize=${pageSize}&pageNum=${pageNum}`;
  const res = await request(url, { dispatcher, headers: { authorization: `Bearer ${token}` } });
  const answer = JSON.parse(await res.body.text()) as { errCode?: unknown; data?: SyncPage };
  if (res.statusCode !== 200 || String(answer.errCode) !== '0' || !answer.data) {
    throw new Error(`page ${pageNum}: HTTP ${res.statusCode}, errCode ${String(answer.errCode)}`);
  }
  return answer.data;
}

/** The page's records as NDJSON text, tombstones left out. */
export function pageLines(rows: readonly Record<string, unknown>[]): string {
  let text = '';
  for (const row of rows) {
    if (row['deleted_mark'] === 1 || row['deleted_mark'] === '1') continue;
    text += `${JSON.stringify(row)}\n`;
  }
  return text;
}

export function leanArgs(argv: readonly string[]): {
  base: string;
  clientId: string;
  clientSecret: string;
  out: string;
  pageSize: number | undefined;
} {
  const [base, clientId, clientSecret, out, size] = argv;
  if (!base || !clientId || !clientSecret || !out) throw new Error('usage: <base-url> <client-id> <client-secret> <out-file> [page-size]');
  const pageSize = size === undefined ? undefined : Number(size);
  if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize > 0)) throw new Error(`bad page size: ${size}`);
  return { base, clientId, clientSecret, out, pageSize };
}
