import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { idsync } from '../support/cli.js';
import { tempDir } from '../support/env.js';

/**
 * A platform that misbehaves on purpose, on loopback port 0: each test routes paths to its own
 * handler. The OAuth token endpoints answer a fresh token by default, so the CLI gets as far as
 * the hostile answer. Every request is recorded, with its Authorization header.
 */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface HostileServer {
  url: string;
  port: number;
  seen: SeenRequest[];
  /** How many access tokens the token endpoint handed out (token-1, token-2, …). */
  tokensIssued(): number;
  route(path: string, handler: Handler): void;
  /** Resolves when the response of the next request to `path` is closed (finished or aborted). */
  closed(path: string): Promise<{ bytesWritten: number; finished: boolean }>;
  close(): Promise<void>;
}

export async function startHostile(): Promise<HostileServer> {
  const routes = new Map<string, Handler>();
  const waiters = new Map<string, (r: { bytesWritten: number; finished: boolean }) => void>();
  const seen: SeenRequest[] = [];
  let tokens = 0;
  const tokenHandler: Handler = (_req, res) => {
    tokens += 1;
    sendJson(res, 200, { access_token: `token-${tokens}`, token_type: 'Bearer', expires_in: 7200 });
  };
  routes.set('/oauth2/token', tokenHandler);
  routes.set('/v1/token', tokenHandler);
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    seen.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
    const waiter = waiters.get(path);
    if (waiter) {
      waiters.delete(path);
      let bytes = 0;
      const write = res.write.bind(res) as (chunk: Buffer | string, ...rest: unknown[]) => boolean;
      res.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
        bytes += Buffer.byteLength(chunk);
        return write(chunk, ...rest);
      }) as typeof res.write;
      res.on('close', () => waiter({ bytesWritten: bytes, finished: res.writableFinished }));
    }
    const handler = routes.get(path);
    if (handler) handler(req, res);
    else sendJson(res, 404, { error: 'no route' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    tokensIssued: () => tokens,
    route: (path, handler) => routes.set(path, handler),
    closed: (path) => new Promise((resolve) => waiters.set(path, resolve)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** An ECNU success envelope around `data` (seeds/000). */
export function ecnuOk(data: unknown): Record<string, unknown> {
  return { errCode: 0, errMsg: 'success', requestId: 'req-1', data };
}

/** An ECNU sync page of `rows`, all on one page. */
export function ecnuPage(rows: unknown[]): Record<string, unknown> {
  return ecnuOk({ totalNum: rows.length, pageSize: 5000, pageNum: 1, rows });
}

/** Environment for the CLI against this server (both providers), with a fresh home. */
export function hostileEnv(h: HostileServer, home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: home,
    IDSYNC_HOME: home,
    IDSYNC_ECNU_BASE_URL: h.url,
    IDSYNC_ECNU_CLIENT_ID: 'hostile-id',
    IDSYNC_ECNU_CLIENT_SECRET: 'hostile-secret-value',
    IDSYNC_TONGJI_BASE_URL: h.url,
    IDSYNC_TONGJI_CLIENT_ID: 'hostile-id',
    IDSYNC_TONGJI_CLIENT_SECRET: 'hostile-secret-value',
    ...extra,
  };
}

/** Writes `chunk` forever (until the client goes away), as fast as the socket takes it. */
export function endless(res: http.ServerResponse, chunk: Buffer): void {
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

/** Writes one byte every `everyMs` until the client goes away: never finishes. */
export function drip(res: http.ServerResponse, everyMs: number): void {
  const timer = setInterval(() => {
    if (res.destroyed) clearInterval(timer);
    else res.write(' ');
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

/** Control characters, an OSC title, a screen clear and a forged idsync line. */
export const forged = '\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202etxt.exe\r\nidsync: all 1000 records synced OK';

/** No raw terminal control in `text`: no ESC, BEL, CR, C1 or bidi override. */
export const rawControl = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Runs the CLI against a hostile server with a fresh IDSYNC_HOME (execa strips stderr's final newline). */
export async function runHostile(h: HostileServer, args: string[], extra: Record<string, string> = {}) {
  const home = await tempDir();
  const r = await idsync(args, hostileEnv(h, home, extra));
  return { ...r, home, stderr: String(r.stderr), stdout: String(r.stdout) };
}
