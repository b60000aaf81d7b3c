import type { Dispatcher } from 'undici';
import { ApiClient } from './api-client.js';
import { ClientTokenSource } from './auth/client-token.js';
import { UserTokenSource } from './auth/user-token.js';
import { CredentialStore, resolveCredentials } from './auth/credential-store.js';
import { TokenCache } from './auth/token-cache.js';
import { resolveEndpoints } from './endpoints.js';
import { homePaths, resolveHome, type HomePaths } from './home.js';
import { createDispatcher } from './http.js';
import { defaultRetryPolicy, type RetryEvent, type RetryPolicy } from './retry.js';
import type { ProviderId } from './provider.js';

export interface Session {
  home: HomePaths;
  client: ApiClient;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

export interface SessionOptions {
  provider: ProviderId;
  env: NodeJS.ProcessEnv;
  log: (message: string) => void;
  signal?: AbortSignal;
  retry?: Partial<RetryPolicy>;
  /** Each retry as it is about to wait (the pull spinner shows it). */
  onRetry?: (event: RetryEvent) => void;
  connections?: number;
  /**
   * 'client' (default): the application's client-credentials token. 'user': the token of the
   * person signed in with `idsync auth user-login`, for lookups that mean "me".
   */
  auth?: 'client' | 'user';
}

/**
 * Everything a command needs to talk to one platform. Endpoints and credentials are checked
 * here, before any request, so bad configuration fails fast and offline.
 */
export function openSession(opts: SessionOptions): Session {
  const home = homePaths(resolveHome(opts.env));
  const endpoints = resolveEndpoints(opts.provider, opts.env);
  const { creds } = resolveCredentials(opts.provider, opts.env, new CredentialStore(home.root));
  const dispatcher = createDispatcher(opts.connections);
  const retry = { ...defaultRetryPolicy, ...opts.retry };
  const common = {
    provider: opts.provider,
    baseUrl: endpoints.baseUrl,
    tokenUrl: endpoints.tokenUrl,
    credentials: creds,
    cache: new TokenCache(home.root),
    dispatcher,
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const tokens =
    opts.auth === 'user'
      ? new UserTokenSource({ ...common, timeoutMs: retry.timeoutMs, log: opts.log })
      : new ClientTokenSource({ ...common, retry, log: opts.log });
  const client = new ApiClient({
    provider: opts.provider,
    baseUrl: endpoints.baseUrl,
    tokens,
    dispatcher,
    retry,
    log: opts.log,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
  });
  return { home, client, dispatcher, close: () => dispatcher.close() };
}
