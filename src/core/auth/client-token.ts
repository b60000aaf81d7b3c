import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { AuthError, NetworkError, UpstreamError } from '../errors.js';
import { describeNetworkError, httpRequest, isTransientNetworkError, networkReason, requestLine } from '../http.js';
import { decodeJsonBody } from '../json-body.js';
import { parseRetryAfter, retryDetail, retrying, type RetryEvent, type RetryPolicy } from '../retry.js';
import { platformText } from '../terminal-text.js';
import type { ClientCredentials } from './credential-store.js';
import type { CachedToken, TokenCache } from './token-cache.js';
import { TokenCache as TokenCacheClass } from './token-cache.js';

const tokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive().optional(),
  token_type: z.string().optional(),
  refresh_token: z.string().optional(),
});

export interface TokenSourceOptions {
  provider: string;
  /** The API the token is for: part of the cache key, so a token never goes to another server. */
  baseUrl: URL;
  tokenUrl: URL;
  credentials: ClientCredentials;
  cache: TokenCache;
  dispatcher: Dispatcher;
  retry: RetryPolicy;
  log: (message: string) => void;
  signal?: AbortSignal;
  now?: () => number;
}

/** Renew this long before the platform's expiry, so a token never dies in the middle of a request. */
export function safetyMargin(lifetimeMs: number): number {
  return Math.min(5 * 60_000, lifetimeMs / 10);
}

/**
 * OAuth2 client-credentials tokens: cached across runs, fetched once even when many
 * requests ask at the same moment, dropped when the gateway rejects them.
 */
export class ClientTokenSource {
  readonly #o: TokenSourceOptions;
  readonly #key: string;
  #pending: Promise<string> | undefined;

  constructor(options: TokenSourceOptions) {
    this.#o = options;
    this.#key = TokenCacheClass.key({
      provider: options.provider,
      baseUrl: options.baseUrl.href,
      tokenUrl: options.tokenUrl.href,
      clientId: options.credentials.clientId,
      clientSecret: options.credentials.clientSecret,
      kind: 'client',
    });
  }

  async get(): Promise<string> {
    const cached = this.#o.cache.get(this.#key);
    if (cached) return cached.accessToken;
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forget a token the gateway refused, unless another request already replaced it. */
  invalidate(token: string): void {
    const cached = this.#o.cache.get(this.#key);
    if (!cached || cached.accessToken === token) this.#o.cache.delete(this.#key);
  }

  /**
   * `get` with the retry policy, for a caller that is not itself retrying (auth login checks
   * the credentials this way); ApiClient retries around `get` in its own loop instead.
   */
  async verify(onRetry?: (event: RetryEvent) => void): Promise<string> {
    const { retry, log, signal } = this.#o;
    return retrying(
      {
        policy: retry,
        ...(signal ? { signal } : {}),
        onRetry: (e) => {
          log(retryDetail(e));
          onRetry?.(e);
        },
      },
      () => this.get(),
    );
  }

  /** One attempt; transient failures say so (`transient`) and the caller's loop retries them. */
  async #fetch(): Promise<string> {
    const { tokenUrl, credentials, log } = this.#o;
    const now = this.#o.now ?? Date.now;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    }).toString();
    const started = now();
    let res;
    try {
      res = await httpRequest(this.#o.dispatcher, tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        timeoutMs: this.#o.retry.timeoutMs,
        ...(this.#o.signal ? { signal: this.#o.signal } : {}),
      });
    } catch (err) {
      if (this.#o.signal?.aborted || err instanceof UpstreamError) throw err;
      log(requestLine('POST', tokenUrl, networkReason(err), now() - started));
      throw new NetworkError(`cannot reach ${tokenUrl.origin} (token request): ${describeNetworkError(err)}`, {
        cause: err,
        transient: isTransientNetworkError(err),
        reason: networkReason(err),
      });
    }
    log(requestLine('POST', tokenUrl, String(res.status), now() - started));
    if (res.status === 429 || res.status >= 500) {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now());
      throw new UpstreamError(`${this.#o.provider} token endpoint answered HTTP ${res.status}`, {
        transient: true,
        status: res.status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    if (res.status >= 400) {
      throw new AuthError(
        `${this.#o.provider} refused the client credentials for client id '${credentials.clientId}' (HTTP ${res.status}${oauthError(res.body)})`,
      );
    }
    if (res.status >= 300) {
      throw new UpstreamError(
        `${this.#o.provider} token endpoint answered HTTP ${res.status}, a redirect that idsync does not follow; check the token URL`,
        {
          status: res.status,
        },
      );
    }
    const parsed = tokenAnswer.safeParse(decodeJsonBody(res, `${this.#o.provider} token endpoint`));
    if (!parsed.success) {
      throw new UpstreamError(`${this.#o.provider} token endpoint sent an answer without access_token`, {
        transient: true,
        reason: 'no access token',
      });
    }
    const lifetimeMs = (parsed.data.expires_in ?? 3600) * 1000;
    const token: CachedToken = {
      provider: this.#o.provider,
      accessToken: parsed.data.access_token,
      expiresAt: started + lifetimeMs - safetyMargin(lifetimeMs),
      kind: 'client',
    };
    this.#o.cache.set(this.#key, token);
    log(`${this.#o.provider}: new access token, valid ${Math.round(lifetimeMs / 1000)} s`);
    return token.accessToken;
  }
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * `: <error>` and, if asked, `: <error_description>` of an OAuth error answer (never the
 * request, which holds the secret), escaped for the terminal; '' without an error code.
 */
export function oauthError(body: Buffer, withDescription = false): string {
  const json = safeJson(body.subarray(0, 64 * 1024)) as { error?: unknown; error_description?: unknown } | undefined;
  if (!json || typeof json.error !== 'string') return '';
  const why = withDescription && typeof json.error_description === 'string' ? `: ${platformText(json.error_description, 160)}` : '';
  return `: ${platformText(json.error, 80)}${why}`;
}
