import type { ApiClient } from '../core/api-client.js';
import { UsageError } from '../core/errors.js';
import { joinUrl, type HttpResponse } from '../core/http.js';
import { decodeJsonBody } from '../core/json-body.js';
import type { PeopleDirectory } from '../core/people.js';

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
    throw new UsageError(
      `the path must start with a single '/' and stay on the platform (like /api/v1/user/info), not ${JSON.stringify(raw)}`,
    );
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
export async function getRawAnswer(client: ApiClient, people: PeopleDirectory, target: ApiTarget): Promise<RawAnswer> {
  let json: unknown;
  const res = await client.getRaw(target.path, target.query, (r: HttpResponse) => {
    json = parseJson(r, target.path);
    // Only an object can carry the envelope; other JSON passes through as it came.
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
      people.checkAnswer({ body: json, serverTime: undefined, headers: r.headers }, target.path);
    }
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
