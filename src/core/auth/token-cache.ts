import fs from 'node:fs';
import type Conf from 'conf';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { checkSecretFile, ensurePrivateDir } from '../secure-dir.js';
import { openPrivateConf } from './private-conf.js';

export interface CachedToken {
  provider: string;
  accessToken: string;
  /** Epoch ms after which the token must not be used (already shortened by a safety margin). */
  expiresAt: number;
  kind: 'client' | 'user';
  /** For user tokens: who signed in, as far as we know. */
  subject?: string;
  refreshToken?: string;
}

type Stored = Record<string, CachedToken>;

/**
 * Tokens survive between runs (a nightly cron reuses the token of the previous hour's run)
 * in an owner-only file. Entries are keyed by a hash of provider, base URL, token URL and
 * client, so switching the base URL or client never reuses a foreign token: with the token URL
 * pinned, a key without the base URL once sent server A's token to server B.
 */
export class TokenCache {
  readonly #home: string;
  #store: Conf<Stored> | undefined;
  readonly #now: () => number;

  constructor(home: string, now: () => number = Date.now) {
    this.#home = home;
    // An existing home is checked at once (StrictModes), before any request; a missing one is
    // created only when something is written.
    if (fs.existsSync(home)) ensurePrivateDir(home);
    checkSecretFile(path.join(home, 'tokens.json'));
    this.#now = now;
  }

  /** Opened on first use; reading a missing file creates nothing (see CredentialStore). */
  #conf(): Conf<Stored> {
    if (!this.#store) {
      this.#store = openPrivateConf<Stored>(this.#home, 'tokens', true);
    }
    return this.#store;
  }

  #exists(): boolean {
    return this.#store !== undefined || fs.existsSync(path.join(this.#home, 'tokens.json'));
  }

  /**
   * The secret is part of the key (hashed, never stored): a token obtained with the old
   * secret must not make a wrong or revoked secret look valid.
   */
  static key(parts: {
    provider: string;
    baseUrl: string;
    tokenUrl: string;
    clientId: string;
    clientSecret?: string;
    kind: string;
  }): string {
    return createHash('sha256')
      .update(`${parts.provider}\n${parts.baseUrl}\n${parts.tokenUrl}\n${parts.clientId}\n${parts.clientSecret ?? ''}\n${parts.kind}`)
      .digest('hex')
      .slice(0, 32);
  }

  get(key: string): CachedToken | undefined {
    if (!this.#exists()) return undefined;
    const entry = this.#conf().get(key);
    if (!entry || typeof entry.accessToken !== 'string' || typeof entry.expiresAt !== 'number') return undefined;
    return entry.expiresAt > this.#now() ? entry : undefined;
  }

  /** Valid or not: status reports expired tokens too. */
  all(): Array<[string, CachedToken]> {
    return this.#exists() ? Object.entries(this.#conf().store) : [];
  }

  set(key: string, token: CachedToken): void {
    this.#conf().set(key, token);
  }

  delete(key: string): void {
    if (this.#exists()) this.#conf().delete(key);
  }

  deleteWhere(pred: (token: CachedToken, key: string) => boolean): number {
    let n = 0;
    for (const [key, token] of this.all()) {
      if (pred(token, key)) {
        this.#conf().delete(key);
        n += 1;
      }
    }
    return n;
  }
}
