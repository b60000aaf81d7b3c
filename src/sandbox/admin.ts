import type { SandboxClock } from './clock.js';
import type { DatasetStore } from './datasets.js';
import type { Faults } from './faults.js';
import { json, type Reply, type SandboxRequest } from './http-util.js';
import type { Mutator } from './mutations.js';
import { datasetIds, isDatasetId, type FaultOptions, type Mutation, type SandboxCredentials, type SandboxStats } from './types.js';

/** What the admin endpoints reach into; server.ts owns the instances. */
export interface AdminContext {
  url: () => string;
  credentials: SandboxCredentials;
  store: DatasetStore;
  mutator: Mutator;
  faults: Faults;
  clock: SandboxClock;
  stats: () => SandboxStats;
}

export const ADMIN_PREFIX = '/__sandbox/';

const bad = (message: string, status = 400): Reply => json(status, { error: message });

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/, '');
  return a === '::1' || a.startsWith('127.');
}

function parseJson(req: SandboxRequest): unknown {
  try {
    return JSON.parse(req.body.toString('utf8') || 'null');
  } catch {
    throw new Error('the body is not JSON');
  }
}

/**
 * Control endpoints for other processes (e2e tests, the demo). No auth, so loopback only:
 * a sandbox bound to 0.0.0.0 must not let the network rewrite its data.
 */
export function admin(req: SandboxRequest, ctx: AdminContext): Reply {
  if (!isLoopback(req.remoteAddress)) return bad('admin endpoints answer loopback clients only', 403);
  const route = `${req.method} ${req.url.pathname.slice(ADMIN_PREFIX.length)}`;
  try {
    switch (route) {
      case 'GET info':
        return json(200, info(ctx));
      case 'POST mutate':
        return json(200, { keys: ctx.mutator.apply(parseJson(req) as Mutation) });
      case 'GET truth': {
        const params = Object.fromEntries(req.url.searchParams);
        const { dataset, ...filters } = params;
        if (!isDatasetId(dataset)) return bad(`dataset must be one of ${datasetIds.join(', ')}`);
        return json(200, ctx.store.truth(dataset, filters));
      }
      case 'POST faults':
        ctx.faults.set(parseJson(req) as FaultOptions);
        return json(200, { faults: ctx.faults.get() });
      case 'POST clock': {
        const body = parseJson(req) as { skewSeconds?: unknown } | null;
        const skew = body?.skewSeconds;
        if (typeof skew !== 'number' || !Number.isFinite(skew)) return bad('skewSeconds must be a number');
        ctx.clock.setSkew(skew);
        return json(200, { skewSeconds: skew, now: ctx.clock.nowSec() });
      }
      case 'GET stats':
        return json(200, ctx.stats());
      default:
        return bad(`no admin endpoint ${route}`, 404);
    }
  } catch (err) {
    return bad(err instanceof Error ? err.message : String(err));
  }
}

function info(ctx: AdminContext): unknown {
  const datasets: Record<string, { count: number; keyField: string; path: string }> = {};
  for (const id of datasetIds) {
    const table = ctx.store.table(id);
    datasets[id] = { count: table.entries.length, keyField: table.keyField, path: table.spec.path };
  }
  return { url: ctx.url(), credentials: ctx.credentials, demoUserId: ctx.store.demoUserId ?? null, datasets };
}
