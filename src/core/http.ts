import { Agent, request, type Dispatcher } from 'undici';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** One keep-alive pool per run, passed down rather than patched in globally. */
export function createDispatcher(connections = 16): Dispatcher {
  return new Agent({ connections, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000 });
}

export async function httpRequest(dispatcher: Dispatcher, url: URL, req: HttpRequest): Promise<HttpResponse> {
  const res = await request(url, {
    dispatcher,
    method: req.method ?? 'GET',
    headers: req.headers ?? {},
    body: req.body ?? null,
    // headersTimeout bounds the wait for an answer, bodyTimeout each silence inside it: a
    // stalled response fails instead of hanging the nightly job forever.
    headersTimeout: req.timeoutMs,
    bodyTimeout: req.timeoutMs,
    signal: req.signal ?? null,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode, headers, body };
}

const transientCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/** Network-level failures worth another attempt; undici nests the OS error in `cause`. */
export function isTransientNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && transientCodes.has(code)) return true;
    if (e instanceof Error && e.message === 'terminated') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 4; depth += 1) {
    const code = (e as { code?: unknown }).code;
    const msg = e instanceof Error ? e.message : String(e);
    parts.push(typeof code === 'string' && !msg.includes(code) ? `${msg} (${code})` : msg);
    e = (e as { cause?: unknown }).cause;
  }
  return [...new Set(parts)].join(': ');
}

/** The server's clock from its Date header, in unix seconds. */
export function serverTimeOf(headers: Record<string, string | undefined>): number | undefined {
  const date = headers['date'];
  if (!date) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** Appends a path to a base that may itself carry a path prefix (a gateway mounted under /x). */
export function joinUrl(base: URL, path: string, query?: Record<string, string>): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  url.search = '';
  if (query) for (const [k, v] of Object.entries(query)) url.searchParams.append(k, v);
  return url;
}
