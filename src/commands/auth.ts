import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { ClientTokenSource } from '../core/auth/client-token.js';
import { CredentialStore, resolveCredentials } from '../core/auth/credential-store.js';
import { TokenCache } from '../core/auth/token-cache.js';
import { resolveEndpoints } from '../core/endpoints.js';
import { AuthError, UsageError } from '../core/errors.js';
import { homePaths, resolveHome } from '../core/home.js';
import { createDispatcher } from '../core/http.js';
import { defaultRetryPolicy } from '../core/retry.js';
import { providerIds, type ProviderId } from '../providers/types.js';
import { oneOf } from './option-parsers.js';
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
        : await promptSecret(`${provider} client secret for ${clientId}: `);
      if (!secret) throw new UsageError('the client secret is empty');
      const store = new CredentialStore(home.root);
      const cache = new TokenCache(home.root);
      if (flags.verify) {
        const dispatcher = createDispatcher(1);
        try {
          await new ClientTokenSource({
            provider,
            tokenUrl: endpoints.tokenUrl,
            credentials: { clientId, clientSecret: secret },
            cache,
            dispatcher,
            retry: { ...defaultRetryPolicy, attempts: 3 },
            log: (m) => ctx.console.debug(m),
            signal: ctx.signal,
          }).get();
        } finally {
          await dispatcher.close();
        }
      }
      store.set(provider, { clientId, clientSecret: secret });
      ctx.console.info(
        `${provider}: credentials for client ${clientId} ${flags.verify ? 'verified and ' : ''}stored in ${store.path}`,
      );
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
        let problem: string | null = null;
        try {
          const { creds, origin } = resolveCredentials(provider, ctx.env, store);
          credentials = { clientId: creds.clientId, origin };
        } catch (err) {
          problem = err instanceof AuthError ? err.message : String(err);
        }
        let baseUrl: string | null = null;
        try {
          baseUrl = resolveEndpoints(provider, ctx.env).baseUrl.href;
        } catch (err) {
          problem ??= (err as Error).message;
        }
        const tokens = cache
          .all()
          .filter(([, t]) => t.provider === provider)
          .map(([, t]) => ({ kind: t.kind, expiresAt: new Date(t.expiresAt).toISOString(), valid: t.expiresAt > now }));
        return { provider, baseUrl, credentials, tokens, problem };
      });
      if (flags.json) {
        await ctx.console.data(`${JSON.stringify({ home: home.root, providers: rows }, null, 2)}\n`);
        return;
      }
      const lines = [`home: ${home.root}`];
      for (const r of rows) {
        const who = r.credentials ? `client ${r.credentials.clientId} (${r.credentials.origin})` : 'not logged in';
        const valid = r.tokens.filter((t) => t.valid);
        const token = valid.length ? `token valid until ${valid[0]?.expiresAt}` : 'no valid token cached';
        lines.push(`${r.provider}: ${who}; ${r.baseUrl ?? 'bad base URL'}; ${token}`);
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
}
