import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { ClientTokenSource } from '../core/auth/client-token.js';
import { CredentialStore, resolveCredentials } from '../core/auth/credential-store.js';
import { authorizeInBrowser, openBrowser } from '../core/auth/loopback-redirect.js';
import { resolveAuthorizeUrl } from '../core/auth/pkce.js';
import { TokenCache, type CachedToken } from '../core/auth/token-cache.js';
import { exchangeCode, passwordGrant, setUserSubject, type UserGrantOptions } from '../core/auth/user-token.js';
import { resolveEndpoints } from '../core/endpoints.js';
import { AuthError, UsageError } from '../core/errors.js';
import { homePaths, resolveHome } from '../core/home.js';
import { displayTime, displayZone } from '../core/time-format.js';
import { createDispatcher } from '../core/http.js';
import { defaultRetryPolicy } from '../core/retry.js';
import { providerIds, type ProviderId } from '../core/provider.js';
import { openSession } from '../core/session.js';
import { whoAmI } from '../lookup/signed-in-user.js';
import { directoryOf } from '../providers/index.js';
import { intInRange, oneOf } from './option-parsers.js';
import { promptSecret, readSecretFromStdin } from './secret-prompt.js';

export function registerAuth(program: Command, ctx: CliContext): void {
  const auth = program.command('auth').description('store, check and remove platform credentials');

  auth
    .command('login')
    .description('store client credentials (owner-only file under IDSYNC_HOME) after checking them')
    .argument('<provider>', 'ecnu or tongji', oneOf(providerIds))
    .requiredOption('--client-id <id>', 'the application’s client id')
    .option('--client-secret-stdin', 'read the client secret from standard input instead of asking')
    .option('--no-verify', 'store without asking the platform for a token first')
    .action(async (provider: ProviderId, flags: { clientId: string; clientSecretStdin?: boolean; verify: boolean }) => {
      const home = homePaths(resolveHome(ctx.env));
      const endpoints = resolveEndpoints(provider, ctx.env);
      const clientId = flags.clientId.trim();
      if (!clientId) throw new UsageError('--client-id must not be empty');
      const secret = flags.clientSecretStdin
        ? await readSecretFromStdin()
        : await promptSecret(`${provider} client secret for ${clientId}: `, ctx.signal);
      if (!secret) throw new UsageError('the client secret is empty');
      const store = new CredentialStore(home.root);
      const cache = new TokenCache(home.root);
      if (flags.verify) {
        const dispatcher = createDispatcher(1);
        try {
          await new ClientTokenSource({
            provider,
            baseUrl: endpoints.baseUrl,
            tokenUrl: endpoints.tokenUrl,
            credentials: { clientId, clientSecret: secret },
            cache,
            dispatcher,
            retry: { ...defaultRetryPolicy, attempts: 3 },
            log: (m) => ctx.console.debug(m),
            signal: ctx.signal,
          }).verify();
        } finally {
          await dispatcher.close();
        }
      }
      store.set(provider, { clientId, clientSecret: secret });
      warnEnvironmentOverrides(ctx, provider);
      ctx.console.info(`${provider}: credentials for client ${clientId} ${flags.verify ? 'verified and ' : ''}stored in ${store.path}`);
    });

  auth
    .command('status')
    .description('which credentials and tokens are in use (never prints a secret or a token)')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const home = homePaths(resolveHome(ctx.env));
      const store = new CredentialStore(home.root);
      const cache = new TokenCache(home.root);
      const now = Date.now();
      const rows = providerIds.map((provider) => {
        let credentials: { clientId: string; origin: string } | null = null;
        let secret: { clientId: string; clientSecret: string } | undefined;
        let problem: string | null = null;
        try {
          const { creds, origin } = resolveCredentials(provider, ctx.env, store);
          credentials = { clientId: creds.clientId, origin };
          secret = creds;
        } catch (err) {
          problem = err instanceof AuthError ? err.message : String(err);
        }
        let endpoints: ReturnType<typeof resolveEndpoints> | undefined;
        try {
          endpoints = resolveEndpoints(provider, ctx.env);
        } catch (err) {
          problem ??= (err as Error).message;
        }
        // Only the tokens these credentials and this platform would use: a token cached for
        // another client, secret or base URL says nothing about whether these work.
        const inUse = new Set(
          secret && endpoints
            ? (['client', 'user'] as const).map((kind) =>
                TokenCache.key({ provider, baseUrl: endpoints.baseUrl.href, tokenUrl: endpoints.tokenUrl.href, ...secret, kind }),
              )
            : [],
        );
        const cached = cache.all().filter(([k]) => inUse.has(k));
        const baseUrl = endpoints?.baseUrl.href ?? null;
        const tokens = cached.map(([, t]) => ({ kind: t.kind, expiresAt: new Date(t.expiresAt).toISOString(), valid: t.expiresAt > now }));
        // The person signed in with `auth user-login`, if any (never the token itself).
        const userToken = cached.find(([, t]) => t.kind === 'user')?.[1];
        const user = userToken
          ? { subject: userToken.subject ?? null, expiresAt: new Date(userToken.expiresAt).toISOString(), valid: userToken.expiresAt > now }
          : null;
        return { provider, baseUrl, credentials, tokens, user, problem };
      });
      if (flags.json) {
        await ctx.console.data(`${JSON.stringify({ home: home.root, providers: rows }, null, 2)}\n`);
        return;
      }
      const lines = [`home: ${home.root}`];
      for (const r of rows) {
        const who = r.credentials ? `client ${r.credentials.clientId} (${r.credentials.origin})` : 'not logged in';
        const valid = r.tokens.filter((t) => t.valid && t.kind === 'client');
        const until = valid[0]?.expiresAt;
        const token = until !== undefined ? `token valid until ${displayTime(until)} ${displayZone}` : 'no valid token cached';
        const person = r.user?.subject ?? 'a person';
        const user = !r.user
          ? ''
          : r.user.valid
            ? `; signed in as ${person} until ${displayTime(r.user.expiresAt)} ${displayZone}`
            : `; signed-in session of ${person} expired`;
        lines.push(`${r.provider}: ${who}; ${r.baseUrl ?? 'bad base URL'}; ${token}${user}`);
      }
      await ctx.console.data(`${lines.join('\n')}\n`);
    });

  auth
    .command('logout')
    .description('remove stored credentials and cached tokens of a provider')
    .argument('<provider>', 'ecnu or tongji', oneOf(providerIds))
    .action(async (provider: ProviderId) => {
      const home = homePaths(resolveHome(ctx.env));
      const had = new CredentialStore(home.root).delete(provider);
      const tokens = new TokenCache(home.root).deleteWhere((t) => t.provider === provider);
      ctx.console.info(
        had || tokens
          ? `${provider}: removed stored credentials${tokens ? ` and ${tokens} cached token(s)` : ''}`
          : `${provider}: nothing stored`,
      );
      if (ctx.env[`IDSYNC_${provider.toUpperCase()}_CLIENT_ID`]) {
        ctx.console.warn(`IDSYNC_${provider.toUpperCase()}_CLIENT_ID is still set in the environment`);
      }
    });

  registerUserLogin(auth, ctx);
}

/** Stored credentials are not the ones in use while the environment names others (resolveCredentials). */
function warnEnvironmentOverrides(ctx: CliContext, provider: ProviderId): void {
  const prefix = `IDSYNC_${provider.toUpperCase()}_`;
  const set = [`${prefix}CLIENT_ID`, `${prefix}CLIENT_SECRET`].filter((name) => ctx.env[name]);
  if (set.length)
    ctx.console.warn(
      `${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set in the environment and override${set.length > 1 ? '' : 's'} the stored credentials; unset ${set.length > 1 ? 'them' : 'it'} to use these`,
    );
}

interface UserLoginFlags {
  username?: string;
  passwordStdin?: boolean;
  web?: boolean;
  browser: boolean;
  port?: number;
  scope: string;
  timeout: number;
}

/**
 * Signing in as a person (API.md: password grant, or authorization code with PKCE through a
 * loopback redirect). Lookups and photos without a userId then answer for that person.
 */
function registerUserLogin(auth: Command, ctx: CliContext): void {
  auth
    .command('user-login')
    .description('sign in as a person (ecnu): --username U for the password grant, or --web for the browser')
    .argument('<provider>', 'ecnu', oneOf(providerIds))
    .option('--username <userId>', 'password grant: the person’s userId')
    .option('--password-stdin', 'password grant: read the password from standard input instead of asking')
    .option('--web', 'authorization-code grant with PKCE: sign in in a browser, redirected to 127.0.0.1')
    .option('--no-browser', 'with --web: only print the sign-in URL (the default without a terminal or in CI)')
    .option('--port <n>', 'with --web: loopback port for the redirect (default: any free port)', intInRange(1, 65535))
    .option('--scope <scope>', 'with --web: the scope to ask for', 'ECNU-Basic')
    .option('--timeout <seconds>', 'with --web: how long to wait for the browser', intInRange(10, 3600), 300)
    .action(async (provider: ProviderId, flags: UserLoginFlags) => {
      if (provider !== 'ecnu') throw new UsageError(`signing in as a person is only supported for ecnu, not ${provider}`);
      if (Boolean(flags.web) === Boolean(flags.username))
        throw new UsageError('give either --username USERID (password grant) or --web (browser sign-in)');
      if (flags.web && flags.passwordStdin) throw new UsageError('--password-stdin goes with --username, not --web');
      const home = homePaths(resolveHome(ctx.env));
      const endpoints = resolveEndpoints(provider, ctx.env);
      const { creds } = resolveCredentials(provider, ctx.env, new CredentialStore(home.root));
      const authorizeEndpoint = flags.web ? resolveAuthorizeUrl(endpoints.baseUrl, ctx.env, provider) : undefined;
      const password = flags.username !== undefined ? await askPassword(flags) : undefined;
      const dispatcher = createDispatcher(1);
      const grantOptions: UserGrantOptions = {
        provider,
        baseUrl: endpoints.baseUrl,
        tokenUrl: endpoints.tokenUrl,
        credentials: creds,
        cache: new TokenCache(home.root),
        dispatcher,
        timeoutMs: defaultRetryPolicy.timeoutMs,
        signal: ctx.signal,
        log: (m) => ctx.console.debug(m),
      };
      try {
        const token =
          password !== undefined
            ? await passwordGrant(grantOptions, (flags.username as string).trim(), password)
            : await signInWithBrowser(ctx, flags, grantOptions, authorizeEndpoint as URL);
        ctx.console.info(
          `${provider}: signed in${token.subject ? ` as ${token.subject}` : ''} until ${displayTime(token.expiresAt)} ${displayZone}; token kept in ${home.tokensFile}`,
        );
      } finally {
        await dispatcher.close();
      }
    });

  auth
    .command('user-logout')
    .description('forget the signed-in person (the application’s credentials stay)')
    .argument('<provider>', 'ecnu or tongji', oneOf(providerIds))
    .action(async (provider: ProviderId) => {
      const home = homePaths(resolveHome(ctx.env));
      const removed = new TokenCache(home.root).deleteWhere((t) => t.provider === provider && t.kind === 'user');
      ctx.console.info(removed ? `${provider}: signed out (${removed} token(s) removed)` : `${provider}: nobody signed in`);
    });
}

/** Authorization code with PKCE: print (and maybe open) the URL, wait for the redirect, exchange at once. */
async function signInWithBrowser(
  ctx: CliContext,
  flags: UserLoginFlags,
  grant: UserGrantOptions,
  authorizeEndpoint: URL,
): Promise<CachedToken> {
  // No browser for cron, CI or a pipe: the URL on stderr is enough there.
  const interactive = Boolean(process.stderr.isTTY) && !ctx.env['CI'];
  const answer = await authorizeInBrowser({
    authorizeEndpoint,
    clientId: grant.credentials.clientId,
    scope: flags.scope,
    timeoutMs: flags.timeout * 1000,
    signal: ctx.signal,
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    onUrl: (url) => {
      // Written whatever --quiet says: without it nobody can sign in.
      ctx.console.stderr.write(`Open this URL in a browser to sign in to ${grant.provider}:\n${url.href}\n`);
      if (flags.browser && interactive) openBrowser(url.href);
    },
  });
  const token = await exchangeCode(grant, answer);
  const subject = await identify(ctx, grant.provider as ProviderId);
  if (subject === undefined) return token;
  setUserSubject(grant, subject);
  return { ...token, subject };
}

/** Who the code grant signed in: asked of the platform, since the token does not say. */
async function identify(ctx: CliContext, provider: ProviderId): Promise<string | undefined> {
  const session = openSession({
    provider,
    env: ctx.env,
    log: (m) => ctx.console.debug(m),
    signal: ctx.signal,
    auth: 'user',
    retry: { attempts: 2 },
  });
  try {
    return await whoAmI(session.client, directoryOf(provider));
  } catch (err) {
    ctx.console.debug(`could not tell who signed in: ${(err as Error).message}`);
    return undefined;
  } finally {
    await session.close();
  }
}

async function askPassword(flags: UserLoginFlags): Promise<string> {
  if (!flags.passwordStdin && !process.stdin.isTTY) {
    throw new UsageError('no terminal to ask for the password on; pipe it in with --password-stdin');
  }
  const password = flags.passwordStdin ? await readSecretFromStdin() : await promptSecret(`password of ${flags.username}: `);
  if (!password) throw new UsageError('the password is empty');
  return password;
}
