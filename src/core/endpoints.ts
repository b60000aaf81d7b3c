import { isIP } from 'node:net';
import { UsageError } from './errors.js';
import { joinUrl } from './http.js';
import type { ProviderId } from './provider.js';

export interface Endpoints {
  baseUrl: URL;
  tokenUrl: URL;
}

// The one home of the platforms' default addresses (API.md); the providers do not repeat them.
const defaults: Record<ProviderId, { base: string; tokenPath: string }> = {
  ecnu: { base: 'https://api.ecnu.edu.cn', tokenPath: '/oauth2/token' },
  tongji: { base: 'https://api.tongji.edu.cn', tokenPath: '/v1/token' },
};

/**
 * Loopback addresses, and `localhost` itself, which http.ts answers as 127.0.0.1/::1 without
 * DNS. Not `*.localhost`: such a name is resolved like any other and may lead off the machine.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * Credentials and tokens cross the wire in clear over http://, so plain HTTP is only for the
 * sandbox and other loopback servers.
 */
export function parseServiceUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${what} is not a URL: ${raw}`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new UsageError(`${what} uses plain http:// to a non-loopback host (${url.host}); use https://`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${what} must be an https:// URL: ${raw}`);
  }
  if (url.username || url.password) throw new UsageError(`${what} must not carry credentials in the URL`);
  return url;
}

export function resolveEndpoints(provider: ProviderId, env: NodeJS.ProcessEnv): Endpoints {
  const prefix = `IDSYNC_${provider.toUpperCase()}_`;
  const rawBase = env[`${prefix}BASE_URL`] || defaults[provider].base;
  const baseUrl = parseServiceUrl(rawBase, `${prefix}BASE_URL`);
  const rawToken = env[`${prefix}TOKEN_URL`];
  const tokenUrl = rawToken ? parseServiceUrl(rawToken, `${prefix}TOKEN_URL`) : joinUrl(baseUrl, defaults[provider].tokenPath);
  return { baseUrl, tokenUrl };
}
