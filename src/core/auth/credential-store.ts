import fs from 'node:fs';
import type Conf from 'conf';
import path from 'node:path';
import { checkSecretFile, ensurePrivateDir } from '../secure-dir.js';
import { openPrivateConf } from './private-conf.js';
import type { ProviderId } from '../provider.js';
import { AuthError } from '../errors.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

type Stored = Partial<Record<ProviderId, ClientCredentials & { savedAt: string }>>;

/** Client credentials saved by `idsync auth login`, in an owner-only file under IDSYNC_HOME. */
export class CredentialStore {
  readonly #home: string;
  #store: Conf<Stored> | undefined;

  constructor(home: string) {
    this.#home = home;
    // An existing home is checked at once (StrictModes), before any request; a missing one is
    // created only when something is written.
    if (fs.existsSync(home)) ensurePrivateDir(home);
    checkSecretFile(path.join(home, 'credentials.json'));
  }

  get path(): string {
    return path.join(this.#home, 'credentials.json');
  }

  /**
   * Opened on first use, and for reading only when the file exists: conf creates the folder
   * when it reads a missing file, and read-only commands (auth status) must create nothing.
   */
  #conf(): Conf<Stored> {
    if (!this.#store) {
      this.#store = openPrivateConf<Stored>(this.#home, 'credentials', false);
    }
    return this.#store;
  }

  #exists(): boolean {
    return this.#store !== undefined || fs.existsSync(this.path);
  }

  get(provider: ProviderId): (ClientCredentials & { savedAt: string }) | undefined {
    return this.#exists() ? this.#conf().get(provider) : undefined;
  }

  set(provider: ProviderId, creds: ClientCredentials): void {
    this.#conf().set(provider, { ...creds, savedAt: new Date().toISOString() });
  }

  delete(provider: ProviderId): boolean {
    if (!this.#exists()) return false;
    const had = this.#conf().has(provider);
    this.#conf().delete(provider);
    return had;
  }
}

export type CredentialOrigin = 'environment' | 'stored';

/**
 * The environment wins over the stored file so that cron and CI can run without `auth login`.
 * Both halves must come from the same place: a stored secret never pairs with an env client id.
 */
export function resolveCredentials(
  provider: ProviderId,
  env: NodeJS.ProcessEnv,
  store: CredentialStore,
): { creds: ClientCredentials; origin: CredentialOrigin } {
  const prefix = `IDSYNC_${provider.toUpperCase()}_`;
  const id = env[`${prefix}CLIENT_ID`];
  const secret = env[`${prefix}CLIENT_SECRET`];
  if (id && secret) return { creds: { clientId: id, clientSecret: secret }, origin: 'environment' };
  if (id || secret) {
    throw new AuthError(`${prefix}CLIENT_ID and ${prefix}CLIENT_SECRET must be set together (only one of them is set)`);
  }
  const stored = store.get(provider);
  if (stored) return { creds: { clientId: stored.clientId, clientSecret: stored.clientSecret }, origin: 'stored' };
  throw new AuthError(
    `no credentials for ${provider}: run 'idsync auth login ${provider} --client-id ID' or set ${prefix}CLIENT_ID and ${prefix}CLIENT_SECRET`,
  );
}
