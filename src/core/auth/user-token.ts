import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { TokenSource } from '../api-client.js';
import { AuthError, NetworkError, UpstreamError } from '../errors.js';
import { describeNetworkError, httpRequest, isTransientNetworkError, networkReason, requestLine } from '../http.js';
import { decodeJsonBody } from '../json-body.js';
import { oauthError, safetyMargin } from './client-token.js';
import type { ClientCredentials } from './credential-store.js';
import { TokenCache, type CachedToken } from './token-cache.js';

/**
 * Tokens of a signed-in person (password or authorization-code grant), kept apart from the
 * application's client tokens: their own cache entry (kind 'user'), never handed to a sync.
 */
export interface UserGrantOptions {
  provider: string;
  /** The API the token is for: part of the cache key (see TokenCache). */
  baseUrl: URL;
  tokenUrl: URL;
  credentials: ClientCredentials;
  cache: TokenCache;
  dispatcher: Dispatcher;
  timeoutMs: number;
  signal?: AbortSignal;
  now?: () => number;
  /** --verbose: each request. */
  log?: (message: string) => void;
}

const tokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive().optional(),
  refresh_token: z.string().min(1).optional(),
});

export const loginHint = (provider: string): string => `'idsync auth user-login ${provider} --web' (or --username USERID --password-stdin)`;

/** Keyed like client tokens (secret included, hashed), so new client credentials mean a new sign-in. */
export function userTokenKey(o: Pick<UserGrantOptions, 'provider' | 'baseUrl' | 'tokenUrl' | 'credentials'>): string {
  const { clientId, clientSecret } = o.credentials;
  return TokenCache.key({ provider: o.provider, baseUrl: o.baseUrl.href, tokenUrl: o.tokenUrl.href, clientId, clientSecret, kind: 'user' });
}

/** The stored entry even when expired (TokenCache.get hides those): expiry needs its own message. */
export function storedUserToken(
  o: Pick<UserGrantOptions, 'provider' | 'baseUrl' | 'tokenUrl' | 'credentials' | 'cache'>,
): CachedToken | undefined {
  const key = userTokenKey(o);
  return o.cache.all().find(([k, t]) => k === key && t.kind === 'user')?.[1];
}

/** Password grant (API.md): the person's own userId and password, plus the client's. */
export function passwordGrant(o: UserGrantOptions, username: string, password: string): Promise<CachedToken> {
  return grant(o, { grant_type: 'password', username, password }, username);
}

/**
 * Authorization-code grant with PKCE. A code is single-use and lives about 10 s (API.md), so it
 * is exchanged at once and never retried: a second attempt could only fail.
 */
export function exchangeCode(o: UserGrantOptions, c: { code: string; redirectUri: string; verifier: string }): Promise<CachedToken> {
  return grant(o, { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier }, undefined);
}

/** Records who signed in, once known (the code grant learns it from a lookup afterwards). */
export function setUserSubject(
  o: Pick<UserGrantOptions, 'provider' | 'baseUrl' | 'tokenUrl' | 'credentials' | 'cache'>,
  subject: string,
): void {
  const token = storedUserToken(o);
  if (token) o.cache.set(userTokenKey(o), { ...token, subject });
}

async function grant(o: UserGrantOptions, form: Record<string, string>, subject: string | undefined): Promise<CachedToken> {
  const now = o.now ?? Date.now;
  const started = now();
  const answer = await postTokenForm(o, form);
  const lifetimeMs = (answer.expires_in ?? 3600) * 1000;
  const token: CachedToken = {
    provider: o.provider,
    accessToken: answer.access_token,
    expiresAt: started + lifetimeMs - safetyMargin(lifetimeMs),
    kind: 'user',
    ...(subject !== undefined ? { subject } : {}),
    ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
  };
  o.cache.set(userTokenKey(o), token);
  return token;
}

async function postTokenForm(o: UserGrantOptions, form: Record<string, string>): Promise<z.infer<typeof tokenAnswer>> {
  const body = new URLSearchParams({ ...form, client_id: o.credentials.clientId, client_secret: o.credentials.clientSecret });
  let res;
  const now = o.now ?? Date.now;
  const started = now();
  try {
    res = await httpRequest(o.dispatcher, o.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      timeoutMs: o.timeoutMs,
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (err) {
    if (err instanceof UpstreamError) throw err;
    o.log?.(requestLine('POST', o.tokenUrl, networkReason(err), now() - started));
    // Transient for the API client's loop when a refresh fails; a code exchange is never retried.
    throw new NetworkError(`cannot reach ${o.tokenUrl.origin} (token request): ${describeNetworkError(err)}`, {
      cause: err,
      transient: isTransientNetworkError(err),
      reason: networkReason(err),
    });
  }
  o.log?.(requestLine('POST', o.tokenUrl, String(res.status), now() - started));
  if (res.status === 429 || res.status >= 500) {
    throw new UpstreamError(`${o.provider} token endpoint answered HTTP ${res.status}; try again later`, { status: res.status });
  }
  if (res.status >= 400) {
    // The OAuth error code and description only: the request (password, secret) is never echoed.
    const why = oauthError(res.body, true);
    throw new AuthError(`${o.provider} refused the sign-in (HTTP ${res.status}, ${why ? why.slice(2) : 'no error code'})`);
  }
  if (res.status >= 300) {
    throw new UpstreamError(
      `${o.provider} token endpoint answered HTTP ${res.status}, a redirect that idsync does not follow; check the token URL`,
      { status: res.status },
    );
  }
  const json = decodeJsonBody(res, `${o.provider} token endpoint`);
  const parsed = tokenAnswer.safeParse(json);
  if (!parsed.success) throw new UpstreamError(`${o.provider} token endpoint sent an answer without access_token`);
  return parsed.data;
}

/**
 * The signed-in person's token for API calls. When it expires it is renewed with the refresh
 * token if the platform gave one; ECNU gives none (API.md), so the person must sign in again.
 */
export class UserTokenSource implements TokenSource {
  readonly #o: UserGrantOptions;
  #pending: Promise<string> | undefined;

  constructor(options: UserGrantOptions) {
    this.#o = options;
  }

  async get(): Promise<string> {
    const o = this.#o;
    const stored = storedUserToken(o);
    if (!stored) throw new AuthError(`not signed in to ${o.provider} as a person; run ${loginHint(o.provider)}`);
    if (stored.expiresAt > (o.now ?? Date.now)()) return stored.accessToken;
    if (!stored.refreshToken) throw expired(o.provider);
    this.#pending ??= this.#refresh(stored).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** The gateway refused the token (revoked, or expired early): only a new sign-in helps. */
  invalidate(token: string): void {
    const stored = storedUserToken(this.#o);
    if (stored?.accessToken === token) this.#o.cache.set(userTokenKey(this.#o), { ...stored, expiresAt: 0 });
  }

  async #refresh(stored: CachedToken): Promise<string> {
    try {
      const token = await grant(this.#o, { grant_type: 'refresh_token', refresh_token: stored.refreshToken as string }, stored.subject);
      return token.accessToken;
    } catch (err) {
      if (err instanceof AuthError) throw expired(this.#o.provider);
      throw err;
    }
  }
}

function expired(provider: string): AuthError {
  return new AuthError(`${provider}: signed-in session expired; run ${loginHint(provider)} to sign in again`);
}
