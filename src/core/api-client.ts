import type { Dispatcher } from 'undici';
import { AuthError, NetworkError, UpstreamError } from './errors.js';
import { describeNetworkError, httpRequest, isTransientNetworkError, serverTimeOf, type HttpResponse } from './http.js';
import { joinUrl } from './http.js';
import { backoffDelay, parseRetryAfter, wait, type RetryPolicy } from './retry.js';

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
 * malformed bodies, transient platform codes reported by `check`) back off and retry; a
 * rejected token is dropped and the request retried once with a fresh one; anything else
 * fails at once.
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
      let body: unknown;
      try {
        body = JSON.parse(res.body.toString('utf8'));
      } catch {
        // A torn or non-JSON body (a gateway's HTML page) is usually the network's fault.
        throw new UpstreamError(`${this.#o.provider} sent a body that is not JSON (HTTP ${res.status}, ${res.body.length} bytes) for ${path}`, {
          transient: true,
          status: res.status,
        });
      }
      const answer: JsonAnswer = { body, serverTime: serverTimeOf(res.headers), headers: res.headers };
      check?.(answer);
      return answer;
    });
  }

  /** GET raw bytes (photos); `check` may throw as for getJson. */
  async getRaw(
    path: string,
    query: Record<string, string>,
    check?: (res: HttpResponse) => void,
    accept = '*/*',
  ): Promise<HttpResponse> {
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
    const { retry, log, signal } = this.#o;
    const now = this.#o.now ?? Date.now;
    const url = joinUrl(this.#o.baseUrl, path, query);
    let started = now();
    let reauthorised = false;
    for (let attempt = 1; ; attempt += 1) {
      let failure: Error;
      let retryAfterMs: number | undefined;
      try {
        const token = await this.#o.tokens.get();
        this.stats.requests += 1;
        const res = await httpRequest(this.#o.dispatcher, url, {
          headers: { authorization: `Bearer ${token}`, accept: acceptType },
          timeoutMs: retry.timeoutMs,
          ...(signal ? { signal } : {}),
        });
        if (isTokenRejected(res)) {
          this.#o.tokens.invalidate(token);
          this.stats.reauths += 1;
          log(`${this.#o.provider}: access token rejected (${res.headers['x-ca-error-code'] ?? res.status}); getting a new one`);
          if (!reauthorised) {
            reauthorised = true;
            attempt -= 1;
            continue;
          }
          // A fresh token refused as well. Tokens can be revoked at any moment (a gateway
          // restart, a key rotation, another client's login): failing the whole pull at the
          // second refusal lost runs under revocations, so further refusals back off and
          // count as attempts; only a steady run of them means missing permissions.
          failure = new AuthError(`${this.#o.provider} rejected a freshly issued access token for ${path} (HTTP ${res.status}); check the application's permissions`);
        } else if (res.status === 429 || res.status >= 500) {
          retryAfterMs = parseRetryAfter(res.headers['retry-after']);
          failure = new UpstreamError(`${this.#o.provider} answered HTTP ${res.status} for ${path}`, { transient: true, status: res.status });
        } else if (res.status >= 400) {
          throw new UpstreamError(describeHttpError(this.#o.provider, path, res), { status: res.status });
        } else {
          if (ready) {
            // Time spent waiting for our turn is not the platform's: keep it out of totalMs.
            const waitFrom = now();
            await ready;
            started += now() - waitFrom;
          }
          return accept(res);
        }
      } catch (err) {
        if (signal?.aborted) throw err;
        if (err instanceof UpstreamError && err.transient) {
          failure = err;
          retryAfterMs = err.retryAfterMs;
        } else if (isTransientNetworkError(err)) {
          failure = new NetworkError(`${this.#o.provider}: ${path}: ${describeNetworkError(err)}`, { cause: err });
        } else if (err instanceof Error && 'exitCode' in err) {
          throw err;
        } else {
          throw new NetworkError(`${this.#o.provider}: ${path}: ${describeNetworkError(err)}`, { cause: err });
        }
      }
      if (attempt >= retry.attempts || now() - started > retry.totalMs) {
        if (attempt > 1) failure.message += ` (gave up after ${attempt} attempts)`;
        throw failure;
      }
      const delay = Math.max(backoffDelay(retry, attempt), retryAfterMs ?? 0);
      this.stats.retries += 1;
      log(`retry ${attempt}/${retry.attempts - 1} in ${delay} ms: ${failure.message}`);
      await wait(delay, signal);
    }
  }
}

/** ECNU's gateway marks a bad token with X-Ca-Error-Code A401OT (API.md); Tongji answers a bare 401. */
function isTokenRejected(res: HttpResponse): boolean {
  return res.status === 401 || res.headers['x-ca-error-code'] === 'A401OT';
}

function describeHttpError(provider: string, path: string, res: HttpResponse): string {
  const text = res.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 160);
  const gateway = res.headers['x-ca-error-message'] ?? res.headers['x-ca-error-code'];
  const why =
    res.status === 403
      ? 'the application is not allowed to call this interface'
      : res.status === 404
        ? 'no such interface'
        : (gateway ?? text) || 'no details';
  const requestId = res.headers['x-ca-request-id'];
  return `${provider} answered HTTP ${res.status} for ${path}: ${why}${requestId ? ` (requestId ${requestId})` : ''}`;
}
