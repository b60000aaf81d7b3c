import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError, UsageError } from '../errors.js';
import { platformText } from '../terminal-text.js';
import { buildAuthorizeUrl, createPkce, randomState } from './pkce.js';

/**
 * The authorization-code grant for a command-line program (RFC 8252): a one-shot HTTP server
 * on the loopback interface receives the browser's redirect with the code.
 */
export interface LoopbackOptions {
  /**
   * Expected `state`. A redirect with any other is answered 400 and otherwise ignored: any local
   * process can reach the loopback port, and letting it end the sign-in let it cancel logins.
   */
  state: string;
  /** 0 or undefined: any free port. */
  port?: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface LoopbackRedirect {
  redirectUri: string;
  /** Resolves with the code of the first redirect to /callback. */
  code: Promise<string>;
  close(): Promise<void>;
}

const CALLBACK_PATH = '/callback';

export async function startLoopbackRedirect(o: LoopbackOptions): Promise<LoopbackRedirect> {
  let settle: { resolve(code: string): void; reject(err: Error): void } | undefined;
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  code.catch(() => undefined); // the caller awaits it; do not crash if it gives up first
  let done = false;
  const finish = (err: Error | undefined, value?: string) => {
    if (done) return;
    done = true;
    if (err) settle?.reject(err);
    else settle?.resolve(value as string);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reply = (status: number, text: string) => {
      // Plain text: nothing from the query is ever rendered as HTML in the browser.
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close', 'cache-control': 'no-store' });
      res.end(`${text}\n`);
    };
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH || done) return reply(404, 'idsync: nothing here');
    const q = url.searchParams;
    if (q.get('state') !== o.state) {
      return reply(400, 'idsync: this sign-in answer does not belong to the login in progress.');
    }
    const error = q.get('error');
    if (error) {
      reply(400, 'idsync: the platform refused the sign-in. You can close this window.');
      const why = q.get('error_description');
      return finish(
        new AuthError(`the platform refused the sign-in: ${platformText(error, 80)}${why ? ` (${platformText(why, 160)})` : ''}`),
      );
    }
    const value = q.get('code');
    if (!value) {
      reply(400, 'idsync: the redirect carried no code.');
      return finish(new AuthError('the sign-in redirect carried no code; start the login again'));
    }
    reply(200, 'idsync: signed in. You can close this window and return to the terminal.');
    finish(undefined, value);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new UsageError(`port ${o.port} on 127.0.0.1 is in use; choose another --port`) : err),
    );
    // 127.0.0.1 rather than localhost: the redirect must not depend on name resolution (RFC 8252 §7.3).
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const timer = setTimeout(
    () => finish(new AuthError(`no sign-in answer within ${Math.round(o.timeoutMs / 1000)} s; start the login again`)),
    o.timeoutMs,
  );
  const onAbort = () => finish(new AuthError(`sign-in interrupted by ${String(o.signal?.reason ?? 'a signal')}`));
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    code,
    close: async () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      finish(new AuthError('sign-in cancelled'));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface BrowserAuthorization {
  code: string;
  redirectUri: string;
  verifier: string;
}

export interface BrowserAuthorizationOptions {
  authorizeEndpoint: URL;
  clientId: string;
  scope: string;
  port?: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Shows (and perhaps opens) the URL the person must visit. */
  onUrl(url: URL): void;
}

/** Starts the loopback server, hands out the authorize URL and waits for the code. */
export async function authorizeInBrowser(o: BrowserAuthorizationOptions): Promise<BrowserAuthorization> {
  const state = randomState();
  const pkce = createPkce();
  const loopback = await startLoopbackRedirect({
    state,
    timeoutMs: o.timeoutMs,
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  try {
    o.onUrl(
      buildAuthorizeUrl(o.authorizeEndpoint, { clientId: o.clientId, redirectUri: loopback.redirectUri, scope: o.scope, state, pkce }),
    );
    const code = await loopback.code;
    return { code, redirectUri: loopback.redirectUri, verifier: pkce.verifier };
  } finally {
    await loopback.close();
  }
}

/** Best effort: the URL is on stderr anyway, so a missing opener is not an error. */
export function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['rundll32', ['url.dll,FileProtocolHandler', url]] // no cmd.exe: '&' in the URL stays intact
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener on this system.
  }
}
