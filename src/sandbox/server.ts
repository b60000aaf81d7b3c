import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { admin, ADMIN_PREFIX, type AdminContext } from './admin.js';
import { SandboxClock } from './clock.js';
import { DatasetStore } from './datasets.js';
import { EcnuAuth } from './ecnu-auth.js';
import { ecnuLookup, isEcnuLookupPath } from './ecnu-lookup.js';
import { ecnuSync, isEcnuSyncPath } from './ecnu-sync.js';
import { faultReply, Faults } from './faults.js';
import { notFound, text, type Reply, type SandboxRequest } from './http-util.js';
import { Mutator } from './mutations.js';
import { resolveOptions } from './options.js';
import { Tongji } from './tongji.js';
import { TokenStore } from './tokens.js';
import { SANDBOX_CREDENTIALS, type Sandbox, type SandboxOptions } from './types.js';

const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= MAX_BODY ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

/** Starts both simulated platforms on one port (ECNU under /oauth2 and /api, Tongji under /v1 and /v2). */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const o = resolveOptions(options);
  const clock = new SandboxClock(o.clockSkewSeconds);
  const store = new DatasetStore({
    seed: o.seed,
    people: o.people,
    staffKeyField: o.ecnuStaffKeyField,
    tongjiPrecision: o.tongjiUpdatePrecision,
    clock,
  });
  const mutator = new Mutator(store);
  const tokens = new TokenStore(clock, o.tokenLifetimeSeconds);
  const faults = new Faults(o.seed, o.faults);
  const ecnuAuth = new EcnuAuth(store, tokens, clock);
  const tongji = new Tongji(store, tokens, {
    pageSize: o.tongjiPageSize,
    trailingCursor: o.tongjiTrailingCursor,
    rateLimit: o.tongjiRateLimit,
    postdocTimes: o.tongjiPostdocTimes,
    nowMs: () => clock.nowMs(),
  });
  const byPath: Record<string, number> = {};
  let requests = 0;
  let url = '';
  const stalls = new Set<NodeJS.Timeout>();
  const stats = () => ({ requests, byPath: { ...byPath } });
  const requestListeners = new Set<(path: string) => void>();
  const adminCtx: AdminContext = { url: () => url, credentials: SANDBOX_CREDENTIALS, store, mutator, faults, clock, stats };

  const route = (req: SandboxRequest): Reply => {
    const path = req.url.pathname;
    if (path === '/oauth2/token') return ecnuAuth.token(req);
    if (path === '/oauth2/authorize') return ecnuAuth.authorize(req);
    if (path === '/v1/token') return tongji.token(req);
    if (path.startsWith('/v2/')) return tongji.handle(req);
    const sync = isEcnuSyncPath(path);
    if (!sync && !isEcnuLookupPath(path)) return notFound();
    const grant = ecnuAuth.authenticate(req);
    if ('status' in grant) return grant;
    return sync ? ecnuSync(req, store, o.ecnuTsCompare) : ecnuLookup(req, grant, store);
  };

  /** Writes a reply, whole or torn the way the fault asks. */
  const send = (res: ServerResponse, reply: Reply, tear?: 'stall' | 'truncated'): void => {
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
    if (!tear) {
      res.end(reply.body);
      return;
    }
    const half = Math.floor(reply.body.length / 2);
    if (tear === 'truncated') {
      // The declared length promises more: the client sees the connection close mid-body.
      res.write(reply.body.subarray(0, half), () => res.destroy());
      return;
    }
    res.write(reply.body.subarray(0, half));
    const timer = setTimeout(() => {
      stalls.delete(timer);
      res.end(reply.body.subarray(half));
    }, faults.stallMs);
    stalls.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      stalls.delete(timer);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The Date header is the server's clock too: clients may read the server time from it.
    res.setHeader('date', new Date(clock.nowMs()).toUTCString());
    const body = await readBody(req);
    if (!body) return send(res, text(413, 'Payload Too Large'));
    const sreq: SandboxRequest = {
      method: req.method ?? 'GET',
      url: new URL(req.url ?? '/', 'http://sandbox'),
      headers: req.headers,
      body,
      remoteAddress: req.socket.remoteAddress,
    };
    const path = sreq.url.pathname;
    if (path.startsWith(ADMIN_PREFIX)) return send(res, admin(sreq, adminCtx));
    requests += 1;
    byPath[path] = (byPath[path] ?? 0) + 1;
    for (const listener of [...requestListeners]) listener(path);
    if (o.latencyMs > 0) await new Promise((r) => setTimeout(r, o.latencyMs));
    const { revoke, fault } = faults.draw(path.startsWith('/api/'));
    if (revoke) tokens.revokeAll();
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    const replaced = fault ? faultReply(fault) : undefined;
    send(res, replaced ?? route(sreq), fault === 'stall' || fault === 'truncated' ? fault : undefined);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the sandbox should show up as a 500 in the test that hit it, not a hang.
      if (!res.headersSent) send(res, text(500, `sandbox error: ${err instanceof Error ? err.message : String(err)}`));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;

  return {
    url,
    port,
    credentials: SANDBOX_CREDENTIALS,
    mutate: (m) => mutator.apply(m),
    truth: (dataset, filters) => store.truth(dataset, filters),
    keyField: (dataset) => store.table(dataset).keyField,
    setFaults: (f) => faults.set(f),
    setClockSkew: (seconds) => clock.setSkew(seconds),
    stats,
    onRequest: (listener) => {
      requestListeners.add(listener);
      return () => requestListeners.delete(listener);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of stalls) clearTimeout(timer);
        stalls.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive and stalled connections would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
