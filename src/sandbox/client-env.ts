import type { Sandbox } from './types.js';

/** The environment that points idsync at a sandbox (demo, tests, benchmark). */
export function sandboxClientEnv(sandbox: Pick<Sandbox, 'url' | 'credentials'>): Record<string, string> {
  return {
    IDSYNC_ECNU_BASE_URL: sandbox.url,
    IDSYNC_ECNU_CLIENT_ID: sandbox.credentials.ecnu.clientId,
    IDSYNC_ECNU_CLIENT_SECRET: sandbox.credentials.ecnu.clientSecret,
    IDSYNC_TONGJI_BASE_URL: sandbox.url,
    IDSYNC_TONGJI_CLIENT_ID: sandbox.credentials.tongji.clientId,
    IDSYNC_TONGJI_CLIENT_SECRET: sandbox.credentials.tongji.clientSecret,
  };
}
