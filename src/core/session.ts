import type { Dispatcher } from 'undici';
import { ApiClient } from './api-client.js';
import { ClientTokenSource } from './auth/client-token.js';
import { CredentialStore, resolveCredentials } from './auth/credential-store.js';
import { TokenCache } from './auth/token-cache.js';
import { resolveEndpoints } from './endpoints.js';
import { homePaths, resolveHome, type HomePaths } from './home.js';
import { createDispatcher } from './http.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry.js';
import type { ProviderId } from '../providers/types.js';

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
  connections?: number;
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
  const tokens = new ClientTokenSource({
    provider: opts.provider,
    tokenUrl: endpoints.tokenUrl,
    credentials: creds,
    cache: new TokenCache(home.root),
    dispatcher,
    retry,
    log: opts.log,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const client = new ApiClient({
    provider: opts.provider,
    baseUrl: endpoints.baseUrl,
    tokens,
    dispatcher,
    retry,
    log: opts.log,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { home, client, dispatcher, close: () => dispatcher.close() };
}
