import fs from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import { openSession, type Session } from '../../src/core/session.js';
import type { ProviderId } from '../../src/core/provider.js';
import { sandboxClientEnv, startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

/**
 * A fresh folder (an IDSYNC_HOME, a work folder) per test; nothing touches the real home. It
 * lives in the run's temp root (test/support/temp-root.ts), which goes when the run ends.
 */
export async function tempDir(prefix = 'idsync-test-'): Promise<string> {
  return fs.mkdtemp(path.join(inject('tempRoot'), prefix));
}

/**
 * The environment that points the CLI at a sandbox, with no trace of the developer's own
 * setup: only PATH, a HOME and IDSYNC_HOME of the test's own, a TMPDIR in the run's temp root,
 * the sandbox's URLs and client credentials, and no colours or spinners.
 */
export function sandboxEnv(sandbox: Sandbox, home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: home,
    IDSYNC_HOME: home,
    // SQLite's temp files (a sort for an index, a spilled statement journal) go to TMPDIR,
    // else /var/tmp: kept inside the run's temp root.
    TMPDIR: inject('tempRoot'),
    NO_COLOR: '1',
    CI: '1',
    ...sandboxClientEnv(sandbox),
    ...extra,
  };
}

/** A real sandbox on port 0 and a fresh IDSYNC_HOME, with the env that points idsync at both. */
export interface TestWorld {
  sb: Sandbox;
  home: string;
  env: Record<string, string>;
  /** A session of the real client against the sandbox, closed with the world. */
  session(provider: ProviderId, auth?: 'client' | 'user'): Session;
  close(): Promise<void>;
}

export async function startWorld(options: SandboxOptions = {}): Promise<TestWorld> {
  const sb = await startSandbox({ port: 0, ...options });
  const home = await tempDir('idsync-world-');
  const env = sandboxEnv(sb, home);
  const sessions: Session[] = [];
  return {
    sb,
    home,
    env,
    session: (provider, auth = 'client') => {
      const s = openSession({ provider, env, log: () => undefined, auth, retry: { attempts: 3, baseDelayMs: 10 } });
      sessions.push(s);
      return s;
    },
    close: async () => {
      await Promise.all(sessions.map((s) => s.close()));
      await sb.close();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}
