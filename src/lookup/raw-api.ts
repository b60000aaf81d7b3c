import type { ApiClient, JsonAnswer } from '../core/api-client.js';
import { UsageError } from '../core/errors.js';
import { joinUrl } from '../core/endpoints.js';
import type { HttpResponse } from '../core/http.js';
import { decodeJsonBody } from '../core/json-body.js';
import { checkEnvelope } from '../providers/ecnu/envelope.js';
import { fetchSyncPage } from '../providers/ecnu/pages.js';
import { checkTongji } from '../providers/tongji/envelope.js';
import { tongjiPages } from '../providers/tongji/pages.js';
import type { ProviderId, Row } from '../providers/types.js';

/** `idsync api`: one authenticated GET of any platform path, like `gh api`. */

export interface ApiTarget {
  path: string;
  query: Record<string, string>;
}

/**
 * The token goes only to the configured platform: a path must start with '/' and, once joined
 * to the base URL, still name the same origin under the same path prefix. Backslashes are
 * refused because URL parsers read them as '/' ('/\evil.example' would be '//evil.example').
 */
export function resolveApiPath(raw: string, baseUrl: URL): ApiTarget {
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\') || /[\u0000-\u001f\u007f\s]/.test(raw)) {
    throw new UsageError(`the path must start with a single '/' and stay on the platform (like /api/v1/user/info), not ${JSON.stringify(raw)}`);
  }
  const parsed = new URL(raw, 'http://placeholder.invalid');
  const query: Record<string, string> = {};
  for (const [k, v] of parsed.searchParams) query[k] = v;
  const url = joinUrl(baseUrl, parsed.pathname, query);
  const prefix = baseUrl.pathname.replace(/\/+$/, '');
  if (parsed.host !== 'placeholder.invalid' || url.origin !== baseUrl.origin || !url.pathname.startsWith(`${prefix}/`)) {
    throw new UsageError(`the path ${JSON.stringify(raw)} leaves the platform's base URL ${baseUrl.href}`);
  }
  return { path: parsed.pathname, query };
}

export interface RawAnswer {
  /** The parsed body when it is JSON. */
  json?: unknown;
  contentType: string;
  body: Buffer;
}

/** One GET; a platform error in the envelope (ECNU errCode, Tongji code) becomes an UpstreamError. */
export async function getRawAnswer(client: ApiClient, provider: ProviderId, target: ApiTarget): Promise<RawAnswer> {
  let json: unknown;
  const res = await client.getRaw(target.path, target.query, (r: HttpResponse) => {
    json = parseJson(r, target.path);
    if (json !== undefined) checkAnswer(provider, { body: json, serverTime: undefined, headers: r.headers }, target.path);
  });
  return { ...(json !== undefined ? { json } : {}), contentType: res.headers['content-type'] ?? '', body: res.body };
}

/**
 * JSON when the answer says so (or says nothing and looks like it); then strictly, as for every
 * other JSON answer (valid UTF-8, not absurdly deep). Anything else passes through as bytes.
 */
function parseJson(res: HttpResponse, path: string): unknown {
  const type = res.headers['content-type'];
  const looksJson = /^\s*[[{]/.test(res.body.subarray(0, 16).toString('latin1'));
  if (type ? !/json/i.test(type) : !looksJson) return undefined;
  return decodeJsonBody(res, path);
}

/** Only answers that carry the envelope are judged; other JSON passes through as it came. */
function checkAnswer(provider: ProviderId, answer: JsonAnswer, path: string): void {
  const body = answer.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  if (provider === 'ecnu' && 'errCode' in body) checkEnvelope(answer, path);
  if (provider === 'tongji' && 'code' in body) checkTongji(answer, path);
}

/**
 * --paginate: every record of every page. ECNU numbers its pages (pageNum from 1, pageSize,
 * totalNum, data.rows: seeds/000); Tongji hands back sinceUserId with data.userInfos (seeds/002).
 * A pageNum or sinceUserId given by the user is where paging starts.
 */
export async function* paginate(client: ApiClient, provider: ProviderId, target: ApiTarget, signal?: AbortSignal): AsyncGenerator<Row> {
  const { path } = target;
  if (provider === 'ecnu') {
    const query: Record<string, string> = { ...target.query, pageSize: target.query['pageSize'] ?? '1000' };
    const first = Number(query['pageNum'] ?? '1');
    if (!Number.isInteger(first) || first < 1) throw new UsageError(`pageNum must be a whole number from 1, not '${query['pageNum']}'`);
    delete query['pageNum'];
    for (let pageNum = first; ; pageNum += 1) {
      const page = await fetchSyncPage(client, path, query, pageNum);
      yield* page.rows;
      const size = page.pageSize ?? Number(query['pageSize']);
      if (page.rows.length === 0 || pageNum * size >= page.total) return;
    }
  }
  const { sinceUserId, ...params } = target.query;
  const source = { name: 'api', provider, path, keyFields: ['userId'], paging: 'cursor', requiredParams: [], description: path } as const;
  // 45 requests/s: under Tongji's 50 per application and IP (API.md).
  const pages = tongjiPages(
    client,
    { source, params, since: undefined, pageSize: undefined, concurrency: 1, ...(sinceUserId ? { resumeCursor: sinceUserId } : {}), ...(signal ? { signal } : {}) },
    45,
  );
  for await (const page of pages) yield* page.rows;
}
