import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** A request as the handlers see it: the body already read, the URL parsed. */
export interface SandboxRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  remoteAddress: string | undefined;
}

/**
 * Handlers return a reply instead of writing to the socket, so fault injection can tear,
 * stall or replace any answer in one place (faults.ts).
 */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json;charset=UTF-8', ...headers },
    body: Buffer.from(JSON.stringify(value)),
  };
}

export function text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): Reply {
  return { status, headers: { 'content-type': contentType }, body: Buffer.from(body) };
}

export function empty(status: number, headers: Record<string, string> = {}): Reply {
  return { status, headers, body: Buffer.alloc(0) };
}

export const notFound = (): Reply => text(404, 'Not Found');
export const methodNotAllowed = (): Reply => text(405, 'Method Not Allowed');

/** ECNU-style request ids: 30 hex characters, as in seeds/000's examples. */
export function requestId(): string {
  return randomBytes(15).toString('hex');
}

/** The form body of a token request (application/x-www-form-urlencoded). */
export function formBody(req: SandboxRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}

/** Client credentials from HTTP Basic, which the public SDKs use instead of form fields. */
export function basicCredentials(req: SandboxRequest): { id: string; secret: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding.
  const unescape = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
}

export function bearerToken(req: SandboxRequest): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : undefined;
}

/** A parameter from the query string, or else from a header of the same name (seeds/002's curl). */
export function queryOrHeader(req: SandboxRequest, name: string): string | undefined {
  const q = req.url.searchParams.get(name);
  if (q !== null && q !== '') return q;
  const h = req.headers[name.toLowerCase()];
  return typeof h === 'string' ? h : undefined;
}
