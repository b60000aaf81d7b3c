import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, request, type Dispatcher } from 'undici';
import { UpstreamError } from './errors.js';
import { isIdNumberField, maskIdNumber } from './id-number.js';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The whole request: connecting, headers and the complete body (CLI.md, --timeout). */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Largest body accepted, counted while it streams in; default `defaultMaxBodyBytes`. */
  maxBodyBytes?: number;
}

/**
 * The largest legal answer is an ECNU page of 10,000 rows, about 10 MB (API.md: pageSize at most
 * 10000); 64 MiB leaves room for wide rows and still stops a hostile or broken server long
 * before memory runs out (a 1 GB page once drove RSS to 6 GB).
 */
export const defaultMaxBodyBytes = 64 * 1024 * 1024;

/**
 * `localhost` always means this machine: it is answered here, never asked of DNS or the hosts
 * file, so a plain-http base URL that passed the loopback check cannot leave the machine.
 */
export function loopbackAwareLookup(
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  if (hostname.toLowerCase() !== 'localhost') {
    (dns.lookup as (h: string, o: LookupOptions, cb: typeof callback) => void)(hostname, options, callback);
    return;
  }
  const both: LookupAddress[] = [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ];
  const wanted = both.filter((a) => !options.family || a.family === options.family);
  if (options.all) callback(null, wanted);
  else callback(null, (wanted[0] as LookupAddress).address, (wanted[0] as LookupAddress).family);
}

/** One keep-alive pool per run, passed down rather than patched in globally. */
export function createDispatcher(connections = 16): Dispatcher {
  return new Agent({
    connections,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connect: { lookup: loopbackAwareLookup },
  });
}

/** The per-request deadline passed: transient (a slow moment), unlike a body that is too large. */
export class RequestTimeoutError extends Error {
  readonly code = 'IDSYNC_REQUEST_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`no complete answer within ${formatSeconds(timeoutMs)}`);
    this.name = 'RequestTimeoutError';
  }
}

/**
 * One request, bounded as a whole. undici's headersTimeout and bodyTimeout only bound the wait
 * for the headers and each silence inside the body (undici docs, Client options), so a server
 * dripping a byte a second would never time out; a deadline aborts the request through its
 * signal instead. The body is counted as it arrives and the request aborted past the cap.
 */
export async function httpRequest(dispatcher: Dispatcher, url: URL, req: HttpRequest): Promise<HttpResponse> {
  const cap = req.maxBodyBytes ?? defaultMaxBodyBytes;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new RequestTimeoutError(req.timeoutMs)), req.timeoutMs);
  const onAbort = () => deadline.abort(req.signal?.reason);
  if (req.signal?.aborted) onAbort();
  else req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await request(url, {
      dispatcher,
      method: req.method ?? 'GET',
      headers: req.headers ?? {},
      body: req.body ?? null,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
      signal: deadline.signal,
    });
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > cap) {
      res.body.destroy();
      throw tooLarge(url, cap, `Content-Length ${declared} bytes`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > cap) {
        // Destroying the body makes undici drop the connection: nothing more is read.
        res.body.destroy();
        throw tooLarge(url, cap, `more than ${size} bytes received and still coming`);
      }
      chunks.push(chunk);
    }
    return { status: res.statusCode, headers, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) };
  } catch (err) {
    if (deadline.signal.reason instanceof RequestTimeoutError && !req.signal?.aborted && !(err instanceof UpstreamError)) {
      throw deadline.signal.reason;
    }
    throw err;
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}

function tooLarge(url: URL, cap: number, seen: string): UpstreamError {
  return new UpstreamError(
    `${url.host}${url.pathname} sent an answer larger than the ${formatBytes(cap)} limit (${seen}); request aborted`,
    {
      reason: 'answer too large',
    },
  );
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatSeconds(ms: number): string {
  return ms < 10_000 && ms % 1000 !== 0 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** "GET https://… → 200, 1.2 MiB, 35 ms": one --verbose line per request, secrets left out. */
export function requestLine(method: string, url: URL, outcome: string, ms: number): string {
  return `${method} ${redactUrl(url)} → ${outcome}, ${ms} ms`;
}

/**
 * Query parameters that could carry a secret; their values never reach a log line. `code` only
 * as the whole name (OAuth's): a filter such as `statusCode=-1` or `deptCode=030` is what a
 * user reads --verbose for. Any name ending in `key` (`appKey`, `api_key`) counts as a secret.
 */
const secretParams = /token|secret|passw|sign|ticket|session|auth|key$|^code$/i;

/**
 * The URL for a --verbose line: secrets in the query replaced (tokens travel in headers anyway),
 * ID-card numbers masked as everywhere else (`lookup --by-idcard` sends one in the query).
 */
export function redactUrl(url: URL): string {
  if (!url.search) return url.href;
  const copy = new URL(url.href);
  for (const name of [...new Set(copy.searchParams.keys())]) {
    if (secretParams.test(name)) copy.searchParams.set(name, '***');
    else if (isIdNumberField(name)) copy.searchParams.set(name, maskIdNumber(copy.searchParams.get(name) ?? ''));
  }
  return copy.href;
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
  'IDSYNC_REQUEST_TIMEOUT',
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

/** What a person reads for the usual network failures (a spinner's few words). */
const plainWords: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'connection timed out',
  EAI_AGAIN: 'name lookup failed for now',
  ENOTFOUND: 'host not found',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_SOCKET: 'connection closed by the other side',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'the answer stalled',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'the answer was cut short',
  IDSYNC_REQUEST_TIMEOUT: 'timed out',
};

function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 4; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

/** A few words for the spinner: "connection refused". */
export function networkReason(err: unknown): string {
  for (const code of codesOf(err)) if (plainWords[code]) return plainWords[code];
  if (err instanceof Error && err.message === 'terminated') return 'connection closed by the other side';
  return 'network error';
}

/**
 * The failure in one line, each distinct message once: undici nests the OS error in `cause`,
 * often with the same text ("connect ECONNREFUSED 127.0.0.1:1" twice).
 */
export function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 4; depth += 1) {
    const code = (e as { code?: unknown }).code;
    const msg = e instanceof Error ? e.message : String(e);
    const part = typeof code === 'string' && !code.startsWith('IDSYNC_') && !msg.includes(code) ? `${msg} (${code})` : msg;
    if (part && !parts.some((p) => p.includes(msg))) parts.push(part);
    e = (e as { cause?: unknown }).cause;
  }
  const detail = parts.join(': ');
  const words = networkReason(err);
  return words !== 'network error' && !detail.toLowerCase().startsWith(words) ? `${words} (${detail})` : detail;
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
