import type { CliContext } from '../cli-context.js';
import type { ProviderId } from '../core/provider.js';
import { openSession, type Session } from '../core/session.js';

/**
 * The session of a lookup or photo run: with no ids ("me") the signed-in person's token, else
 * the application's; enough connections for the requests run at once.
 */
export function openPeopleSession(ctx: CliContext, provider: ProviderId, opts: { me: boolean; concurrency: number }): Session {
  return openSession({
    provider,
    env: ctx.env,
    log: (m) => ctx.console.debug(m),
    signal: ctx.signal,
    connections: Math.max(4, opts.concurrency),
    ...(opts.me ? { auth: 'user' as const } : {}),
  });
}
