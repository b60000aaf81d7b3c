import type { ApiClient } from '../core/api-client.js';
import { CredentialStore, resolveCredentials } from '../core/auth/credential-store.js';
import { TokenCache, type CachedToken } from '../core/auth/token-cache.js';
import { loginHint, storedUserToken } from '../core/auth/user-token.js';
import { UsageError } from '../core/errors.js';
import { resolveEndpoints } from '../core/endpoints.js';
import { homePaths, resolveHome } from '../core/home.js';
import type { PeopleDirectory } from '../core/people.js';
import type { ProviderId } from '../core/provider.js';
import { findLookupKind } from './lookup-kinds.js';
import { runLookup } from './run-lookup.js';

/**
 * Who a user token belongs to, asked of the platform's own-record lookup without an id (ECNU's
 * /api/v1/user/info, "me", seeds/001). undefined when the platform does not say (info answers
 * only for people in school) or has no such lookup.
 */
export async function whoAmI(client: ApiClient, people: PeopleDirectory): Promise<string | undefined> {
  if (people.selfKind === undefined) return undefined;
  let userId: string | undefined;
  await runLookup(
    client,
    people,
    { kind: findLookupKind(people, people.selfKind), ids: undefined, concurrency: 1 },
    {
      onRecord: (row) => {
        if (userId === undefined && (typeof row['userId'] === 'string' || typeof row['userId'] === 'number'))
          userId = String(row['userId']);
      },
      onNotFound: () => undefined,
      onFailure: () => undefined,
      onWarning: () => undefined,
    },
  );
  return userId;
}

/** The signed-in person's stored token, expired or not; undefined when nobody signed in. */
export function signedInUser(provider: ProviderId, env: NodeJS.ProcessEnv): CachedToken | undefined {
  try {
    const home = homePaths(resolveHome(env));
    const { baseUrl, tokenUrl } = resolveEndpoints(provider, env);
    const { creds } = resolveCredentials(provider, env, new CredentialStore(home.root));
    return storedUserToken({ provider, baseUrl, tokenUrl, credentials: creds, cache: new TokenCache(home.root) });
  } catch {
    return undefined; // bad configuration is reported by openSession, with its own message
  }
}

/**
 * No ids means "me": without a signed-in person that is most likely forgotten ids, so say both
 * ways out, before any request.
 */
export function requireSignedInUser(provider: ProviderId, env: NodeJS.ProcessEnv): CachedToken {
  const user = signedInUser(provider, env);
  if (!user) throw new UsageError(`give at least one userId, or sign in as a person first: ${loginHint(provider)}`);
  return user;
}
