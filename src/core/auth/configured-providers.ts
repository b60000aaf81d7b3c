import { providerIds, type ProviderId } from '../provider.js';
import { UsageError } from '../errors.js';
import { CredentialStore } from './credential-store.js';

/** Platforms with credentials: in the environment, or stored by `auth login`. */
export function configuredProviders(env: NodeJS.ProcessEnv, home: string): ProviderId[] {
  const store = new CredentialStore(home);
  return providerIds.filter((p) => {
    const prefix = `IDSYNC_${p.toUpperCase()}_`;
    return Boolean(env[`${prefix}CLIENT_ID`] || env[`${prefix}CLIENT_SECRET`] || store.get(p));
  });
}

/**
 * `--provider` when given; otherwise the only platform that can answer (`candidates`, e.g. the
 * one that has the asked --kind), or the only one configured. Never a guess between two.
 */
export function inferProvider(
  given: ProviderId | undefined,
  context: { env: NodeJS.ProcessEnv; home: string; candidates?: readonly ProviderId[] },
): ProviderId {
  if (given !== undefined) return given;
  const candidates = context.candidates ?? providerIds;
  if (candidates.length === 1) return candidates[0] as ProviderId;
  const configured = configuredProviders(context.env, context.home).filter((p) => candidates.includes(p));
  if (configured.length === 1) return configured[0] as ProviderId;
  throw new UsageError(
    configured.length === 0
      ? `no platform is configured; run 'idsync auth login <${candidates.join('|')}> --client-id ID', or give --provider`
      : `both ${configured.join(' and ')} are configured: choose one with --provider ${configured.join(' or --provider ')}`,
  );
}
