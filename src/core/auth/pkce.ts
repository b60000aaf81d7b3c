import { createHash, randomBytes } from 'node:crypto';
import { parseServiceUrl } from '../endpoints.js';
import { joinUrl } from '../http.js';

/**
 * PKCE (RFC 7636) with S256: the code is worthless to anyone who intercepts the redirect
 * without the verifier, which never leaves this process until the token exchange.
 */
export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

export function createPkce(): Pkce {
  // 32 random bytes → 43 base64url characters, the RFC's minimum length and its recommendation.
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256(verifier), method: 'S256' };
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** An unguessable `state` ties the redirect to this login (RFC 6749 §10.12, CSRF). */
export function randomState(): string {
  return randomBytes(16).toString('base64url');
}

/** ECNU's authorize endpoint: `<base>/oauth2/authorize` (API.md), or IDSYNC_ECNU_AUTHORIZE_URL. */
export function resolveAuthorizeUrl(baseUrl: URL, env: NodeJS.ProcessEnv, provider = 'ecnu'): URL {
  const name = `IDSYNC_${provider.toUpperCase()}_AUTHORIZE_URL`;
  const raw = env[name];
  return raw ? parseServiceUrl(raw, name) : joinUrl(baseUrl, '/oauth2/authorize');
}

export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string;
  pkce: Pkce;
}

export function buildAuthorizeUrl(endpoint: URL, req: AuthorizeRequest): URL {
  const url = new URL(endpoint.href);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', req.clientId);
  url.searchParams.set('redirect_uri', req.redirectUri);
  if (req.scope) url.searchParams.set('scope', req.scope);
  url.searchParams.set('state', req.state);
  url.searchParams.set('code_challenge', req.pkce.challenge);
  url.searchParams.set('code_challenge_method', req.pkce.method);
  return url;
}
