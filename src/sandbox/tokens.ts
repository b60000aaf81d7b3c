import { randomBytes } from 'node:crypto';
import type { SandboxClock } from './clock.js';

export type Provider = 'ecnu' | 'tongji';

export interface Grant {
  provider: Provider;
  clientId: string;
  /** Set for password and authorization-code tokens: the person "me" refers to. */
  userId?: string;
  /** Server-clock unix seconds; moving the clock forward expires tokens. */
  expiresAt: number;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Issued access tokens of both platforms. Several live tokens per client may coexist. */
export class TokenStore {
  private readonly grants = new Map<string, Grant>();
  private readonly clock: SandboxClock;
  readonly lifetime: number;

  constructor(clock: SandboxClock, lifetimeSeconds: number) {
    this.clock = clock;
    this.lifetime = lifetimeSeconds;
  }

  issue(provider: Provider, clientId: string, userId?: string): string {
    const now = this.clock.nowSec();
    const token = provider === 'ecnu' ? randomBytes(16).toString('hex') : this.jwt(clientId, now);
    const grant: Grant = { provider, clientId, expiresAt: now + this.lifetime };
    if (userId !== undefined) grant.userId = userId;
    this.grants.set(token, grant);
    return token;
  }

  /** The grant behind a token of this provider, or undefined when unknown, expired or revoked. */
  check(token: string | undefined, provider: Provider): Grant | undefined {
    if (token === undefined) return undefined;
    const grant = this.grants.get(token);
    if (!grant || grant.provider !== provider) return undefined;
    if (this.clock.nowSec() >= grant.expiresAt) {
      this.grants.delete(token);
      return undefined;
    }
    return grant;
  }

  revokeAll(): void {
    this.grants.clear();
  }

  /** Tongji's gateway is Keycloak-like: its access token is a JWT (API.md). Unsigned here. */
  private jwt(clientId: string, now: number): string {
    const header = { alg: 'RS256', typ: 'JWT', kid: 'sandbox' };
    const payload = {
      exp: now + this.lifetime,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      iss: 'http://sandbox/auth/realms/tongji',
      typ: 'Bearer',
      azp: clientId,
      scope: 'profile',
    };
    return `${b64url(header)}.${b64url(payload)}.${randomBytes(32).toString('base64url')}`;
  }
}
