import { createHash, randomBytes } from 'node:crypto';
import type { SandboxClock } from './clock.js';
import type { DatasetStore } from './datasets.js';
import {
  basicCredentials,
  bearerToken,
  empty,
  formBody,
  json,
  methodNotAllowed,
  requestId,
  type Reply,
  type SandboxRequest,
} from './http-util.js';
import type { Grant, TokenStore } from './tokens.js';
import { SANDBOX_CREDENTIALS, SANDBOX_PASSWORD } from './types.js';

/** A code is single-use and lives about 10 s (API.md). */
const CODE_LIFETIME_MS = 10_000;

interface PendingCode {
  clientId: string;
  redirectUri: string;
  userId: string;
  challenge: string | undefined;
  method: string;
  expiresAtMs: number;
}

const oauthError = (status: number, error: string, description: string): Reply => json(status, { error, error_description: description });

/** ECNU's OAuth2: client credentials, password, and authorization code with optional PKCE. */
export class EcnuAuth {
  private readonly codes = new Map<string, PendingCode>();
  private readonly store: DatasetStore;
  private readonly tokens: TokenStore;
  private readonly clock: SandboxClock;

  constructor(store: DatasetStore, tokens: TokenStore, clock: SandboxClock) {
    this.store = store;
    this.tokens = tokens;
    this.clock = clock;
  }

  /** The grant behind the request's bearer token, or the gateway's 401 (seeds: X-Ca-Error-Code A401OT). */
  authenticate(req: SandboxRequest): Grant | Reply {
    const grant = this.tokens.check(bearerToken(req), 'ecnu');
    if (grant) return grant;
    return empty(401, {
      'x-ca-error-code': 'A401OT',
      'x-ca-error-message': 'Invalid OAuth Token',
      'x-ca-request-id': requestId(),
    });
  }

  token(req: SandboxRequest): Reply {
    if (req.method !== 'POST') return methodNotAllowed();
    const form = formBody(req);
    const basic = basicCredentials(req);
    const clientId = basic?.id ?? form.get('client_id');
    const secret = basic?.secret ?? form.get('client_secret');
    const own = SANDBOX_CREDENTIALS.ecnu;
    if (clientId !== own.clientId || secret !== own.clientSecret) {
      return oauthError(401, 'invalid_client', 'Client authentication failed');
    }
    const grantType = form.get('grant_type');
    let userId: string | undefined;
    if (grantType === 'password') {
      const username = form.get('username') ?? '';
      if (!this.store.findEcnu(username, ['ecnu-users']) || form.get('password') !== SANDBOX_PASSWORD) {
        return oauthError(400, 'invalid_grant', 'Bad user credentials');
      }
      userId = username;
    } else if (grantType === 'authorization_code') {
      const result = this.redeem(form, clientId);
      if (typeof result !== 'string') return result;
      userId = result;
    } else if (grantType !== 'client_credentials') {
      return grantType
        ? oauthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`)
        : oauthError(400, 'invalid_request', 'grant_type is required');
    }
    const token = this.tokens.issue('ecnu', clientId, userId);
    return json(200, { access_token: token, token_type: 'Bearer', expires_in: this.tokens.lifetime, scope: 'ECNU-Basic' });
  }

  /** Signs in a fixed demo person (or login_hint) without a login page and redirects back. */
  authorize(req: SandboxRequest): Reply {
    if (req.method !== 'GET') return methodNotAllowed();
    const q = req.url.searchParams;
    if (q.get('client_id') !== SANDBOX_CREDENTIALS.ecnu.clientId) return oauthError(400, 'invalid_client', 'unknown client_id');
    const redirectUri = q.get('redirect_uri');
    let target: URL;
    try {
      target = new URL(redirectUri ?? '');
    } catch {
      return oauthError(400, 'invalid_request', 'redirect_uri is required and must be an absolute URL');
    }
    const state = q.get('state');
    if (state !== null) target.searchParams.set('state', state);
    const redirect = (): Reply => empty(302, { location: target.href });
    if (q.get('response_type') !== 'code') {
      target.searchParams.set('error', 'unsupported_response_type');
      return redirect();
    }
    const method = q.get('code_challenge_method') ?? 'plain';
    const hint = q.get('login_hint');
    const userId = hint ?? this.store.demoUserId;
    if (method !== 'S256' && method !== 'plain') {
      target.searchParams.set('error', 'invalid_request');
      return redirect();
    }
    if (!userId || !this.store.findEcnu(userId, ['ecnu-users'])) {
      target.searchParams.set('error', 'access_denied');
      return redirect();
    }
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, {
      clientId: SANDBOX_CREDENTIALS.ecnu.clientId,
      redirectUri: redirectUri as string,
      userId,
      challenge: q.get('code_challenge') ?? undefined,
      method,
      expiresAtMs: this.clock.nowMs() + CODE_LIFETIME_MS,
    });
    target.searchParams.set('code', code);
    return redirect();
  }

  /** The person a code was issued for, or the OAuth error. The code is gone either way. */
  private redeem(form: URLSearchParams, clientId: string): string | Reply {
    const code = form.get('code') ?? '';
    const pending = this.codes.get(code);
    this.codes.delete(code);
    const invalid = (why: string): Reply => oauthError(400, 'invalid_grant', why);
    if (!pending || this.clock.nowMs() >= pending.expiresAtMs) return invalid('code is invalid, used or expired');
    if (pending.clientId !== clientId) return invalid('code was issued to another client');
    if (form.get('redirect_uri') !== pending.redirectUri) return invalid('redirect_uri does not match');
    if (pending.challenge !== undefined) {
      const verifier = form.get('code_verifier');
      if (!verifier) return invalid('code_verifier is required');
      const derived = pending.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (derived !== pending.challenge) return invalid('code_verifier does not match code_challenge');
    }
    return pending.userId;
  }
}
