import type { Dispatcher } from 'undici';
import { AuthError, NetworkError, UpstreamError } from './errors.js';
import {
  describeNetworkError,
  formatBytes,
  httpRequest,
  isTransientNetworkError,
  networkReason,
  joinUrl,
  requestLine,
  serverTimeOf,
  type HttpResponse,
} from './http.js';
import { decodeJsonBody } from './json-body.js';
import { parseRetryAfter, retryDetail, retrying, type RetryEvent, type RetryPolicy } from './retry.js';
import { platformText } from './terminal-text.js';

/** Where bearer tokens come from: client credentials, or a signed-in person. */
export interface TokenSource {
  get(): Promise<string>;
  invalidate(token: string): void;
}

export interface ApiClientOptions {
  provider: string;
  baseUrl: URL;
  tokens: TokenSource;
  dispatcher: Dispatcher;
  retry: RetryPolicy;
  log: (message: string) => void;
  signal?: AbortSignal;
  now?: () => number;
  /** Injected in tests so that no real time passes. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Each retry as it is about to wait: the command layer shows it (spinner, --verbose). */
  onRetry?: (event: RetryEvent) => void;
  /** Largest answer accepted (default: http.ts's defaultMaxBodyBytes). */
  maxBodyBytes?: number;
}

export interface JsonAnswer {
  body: unknown;
  /** The server's clock (Date header) in unix seconds. */
  serverTime: number | undefined;
  headers: Record<string, string | undefined>;
}

export interface ClientStats {
  requests: number;
  retries: number;
  reauths: number;
}

/**
 * Authenticated GETs with the retry policy: transient failures (network, 5xx, 429, torn or
 * malformed bodies, transient platform codes reported by `check`, a token endpoint that cannot
 * be reached) back off and retry in one loop (retry.ts); a rejected token is dropped and the
 * request retried once with a fresh one; anything else fails at once.
 */
export class ApiClient {
  readonly stats: ClientStats = { requests: 0, retries: 0, reauths: 0 };
  readonly #o: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.#o = options;
  }

  get provider(): string {
    return this.#o.provider;
  }

  /**
   * GET a JSON answer; `check` validates it and throws UpstreamError (transient or not).
   * With `ready`, the body is received at once but decoded and parsed only once `ready`
   * settles, still inside the retry loop. Why: pages fetched ahead of the consumer used to sit
   * parsed (~2 MB of objects each) long enough to be promoted to the old generation, so every
   * page became old-space garbage; a received body waits as one Buffer, off the heap.
   */
  async getJson(
    path: string,
    query: Record<string, string>,
    check?: (answer: JsonAnswer) => void,
    ready?: Promise<void>,
  ): Promise<JsonAnswer> {
    return this.#send(path, query, 'application/json', ready, (res) => {
      const body = decodeJsonBody(res, `${this.#o.provider} ${path}`);
      const answer: JsonAnswer = { body, serverTime: serverTimeOf(res.headers), headers: res.headers };
      check?.(answer);
      return answer;
    });
  }

  /** GET raw bytes (photos); `check` may throw as for getJson. */
  async getRaw(path: string, query: Record<string, string>, check?: (res: HttpResponse) => void, accept = '*/*'): Promise<HttpResponse> {
    return this.#send(path, query, accept, undefined, (res) => {
      check?.(res);
      return res;
    });
  }

  async #send<T>(
    path: string,
    query: Record<string, string>,
    acceptType: string,
    ready: Promise<void> | undefined,
    accept: (res: HttpResponse) => T,
  ): Promise<T> {
    const o = this.#o;
    const now = o.now ?? Date.now;
    const url = joinUrl(o.baseUrl, path, query);
    let reauthorised = false;
    return retrying(
      {
        policy: o.retry,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.now ? { now: o.now } : {}),
        ...(o.sleep ? { sleep: o.sleep } : {}),
        onRetry: (event) => {
          this.stats.retries += 1;
          o.log(retryDetail(event));
          o.onRetry?.(event);
        },
      },
      async (attempt) => {
        for (;;) {
          const token = await o.tokens.get();
          const res = await this.#request(url, token, acceptType);
          if (isTokenRejected(res)) {
            o.tokens.invalidate(token);
            this.stats.reauths += 1;
            o.log(
              `${o.provider}: access token rejected (${platformText(res.headers['x-ca-error-code'] ?? res.status, 40)}); getting a new one`,
            );
            if (!reauthorised) {
              reauthorised = true;
              continue;
            }
            // A fresh token refused as well. Tokens can be revoked at any moment (a gateway
            // restart, a key rotation, another client's login): failing the whole pull at the
            // second refusal lost runs under revocations, so further refusals back off and
            // count as attempts; only a steady run of them means missing permissions.
            throw new RejectedTokenError(
              `${o.provider} rejected a freshly issued access token for ${path} (HTTP ${res.status}); check the application's permissions`,
            );
          }
          if (res.status === 429 || res.status >= 500) {
            const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now());
            throw new UpstreamError(`${o.provider} answered HTTP ${res.status} for ${path}`, {
              transient: true,
              status: res.status,
              ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
            });
          }
          if (res.status >= 300 && res.status < 400) {
            // undici follows no redirects, and neither should a bearer token.
            const to = res.headers['location'];
            throw new UpstreamError(
              `${o.provider} answered HTTP ${res.status} for ${path}, a redirect${to ? ` to ${platformText(to, 120)}` : ''} that idsync does not follow; check the base URL`,
              { status: res.status },
            );
          }
          if (res.status >= 400 || res.status < 200)
            throw new UpstreamError(describeHttpError(o.provider, path, res), { status: res.status });
          if (ready) {
            // Time spent waiting for our turn is not the platform's: keep it out of the budget.
            const waitFrom = now();
            await ready;
            attempt.excludeFromBudget(now() - waitFrom);
          }
          return accept(res);
        }
      },
    );
  }

  /** One HTTP exchange, logged for --verbose; network failures become NetworkErrors. */
  async #request(url: URL, token: string, acceptType: string): Promise<HttpResponse> {
    const o = this.#o;
    const now = o.now ?? Date.now;
    const started = now();
    this.stats.requests += 1;
    try {
      const res = await httpRequest(o.dispatcher, url, {
        headers: { authorization: `Bearer ${token}`, accept: acceptType },
        timeoutMs: o.retry.timeoutMs,
        ...(o.maxBodyBytes !== undefined ? { maxBodyBytes: o.maxBodyBytes } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      o.log(requestLine('GET', url, `${res.status}, ${formatBytes(res.body.length)}`, now() - started));
      return res;
    } catch (err) {
      if (o.signal?.aborted) throw err;
      if (err instanceof UpstreamError) {
        o.log(requestLine('GET', url, err.reason, now() - started));
        throw err;
      }
      o.log(requestLine('GET', url, networkReason(err), now() - started));
      throw new NetworkError(`${o.provider}: ${url.pathname}: ${describeNetworkError(err)}`, {
        cause: err,
        transient: isTransientNetworkError(err),
        reason: networkReason(err),
      });
    }
  }
}

/** The second refusal in a row: retried with backoff, like a transient failure. */
class RejectedTokenError extends AuthError {
  readonly transient = true;
  readonly reason = 'access token rejected';
}

/** ECNU's gateway marks a bad token with X-Ca-Error-Code A401OT (API.md); Tongji answers a bare 401. */
function isTokenRejected(res: HttpResponse): boolean {
  return res.status === 401 || res.headers['x-ca-error-code'] === 'A401OT';
}

function describeHttpError(provider: string, path: string, res: HttpResponse): string {
  const text = res.body.subarray(0, 2000).toString('utf8').replace(/\s+/g, ' ').trim();
  const gateway = res.headers['x-ca-error-message'] ?? res.headers['x-ca-error-code'];
  const why =
    res.status === 403
      ? 'the application is not allowed to call this interface'
      : res.status === 404
        ? 'no such interface'
        : platformText((gateway ?? text) || 'no details', 160);
  const requestId = res.headers['x-ca-request-id'];
  return `${provider} answered HTTP ${res.status} for ${path}: ${why}${requestId ? ` (requestId ${platformText(requestId, 80)})` : ''}`;
}
