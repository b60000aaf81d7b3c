import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { AuthError, NetworkError, UpstreamError } from '../errors.js';
import { httpRequest, isTransientNetworkError, describeNetworkError } from '../http.js';
import type { RetryPolicy } from '../retry.js';
import { backoffDelay, parseRetryAfter, wait } from '../retry.js';
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

  async #fetch(): Promise<string> {
    const { tokenUrl, credentials, retry, log } = this.#o;
    const now = this.#o.now ?? Date.now;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    }).toString();
    const started = now();
    for (let attempt = 1; ; attempt += 1) {
      let failure: Error;
      let retryAfterMs: number | undefined;
      try {
        const res = await httpRequest(this.#o.dispatcher, tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body,
          timeoutMs: retry.timeoutMs,
          ...(this.#o.signal ? { signal: this.#o.signal } : {}),
        });
        if (res.status === 429 || res.status >= 500) {
          retryAfterMs = parseRetryAfter(res.headers['retry-after']);
          failure = new UpstreamError(`${this.#o.provider} token endpoint answered HTTP ${res.status}`, {
            transient: true,
            status: res.status,
          });
        } else if (res.status >= 400) {
          throw new AuthError(
            `${this.#o.provider} refused the client credentials for client id '${credentials.clientId}' (HTTP ${res.status}${oauthError(res.body)})`,
          );
        } else {
          const parsed = tokenAnswer.safeParse(safeJson(res.body));
          if (!parsed.success) {
            failure = new UpstreamError(`${this.#o.provider} token endpoint sent an answer without access_token`, {
              transient: true,
            });
          } else {
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
      } catch (err) {
        if (err instanceof AuthError || this.#o.signal?.aborted) throw err;
        if (!isTransientNetworkError(err)) {
          throw new NetworkError(`cannot reach ${tokenUrl.origin}: ${describeNetworkError(err)}`, { cause: err });
        }
        failure = new NetworkError(`cannot reach ${tokenUrl.origin}: ${describeNetworkError(err)}`, { cause: err });
      }
      if (attempt >= retry.attempts || now() - started > retry.totalMs) throw failure;
      const delay = Math.max(backoffDelay(retry, attempt), retryAfterMs ?? 0);
      log(`retry ${attempt}/${retry.attempts - 1} of the token request in ${delay} ms: ${failure.message}`);
      await wait(delay, this.#o.signal);
    }
  }
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The OAuth error code (never the request, which holds the secret). */
function oauthError(body: Buffer): string {
  const json = safeJson(body) as { error?: unknown } | undefined;
  return json && typeof json.error === 'string' ? `: ${json.error.slice(0, 80)}` : '';
}
