import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binPath = path.join(repoRoot, 'bin', 'idsync.js');

export interface SpawnOptions {
  /** Text for standard input; without it, stdin is closed (as under cron). */
  input?: string;
  timeout?: number;
  cwd?: string;
  /** Start it under this umask (e.g. '022', a user's usual default), whatever the test runner's. */
  umask?: string;
}

/**
 * Starts bin/idsync.js as a user's shell or cron would: no TTY, only the environment given
 * (build it with `sandboxEnv`), never throws on an exit code. Await it for the result, or keep
 * the subprocess to signal it mid-run (`.kill('SIGTERM')`).
 */
export function idsync(args: readonly string[], env: NodeJS.ProcessEnv, opts: SpawnOptions = {}) {
  const base = { env, extendEnv: false, reject: false, timeout: opts.timeout ?? 60_000, ...(opts.cwd ? { cwd: opts.cwd } : {}) } as const;
  const [file, argv] =
    opts.umask === undefined
      ? [process.execPath, [binPath, ...args]]
      : ['/bin/sh', ['-c', `umask ${opts.umask}; exec "$@"`, 'sh', process.execPath, binPath, ...args]];
  if (opts.input === undefined) return execa(file, argv, { ...base, stdin: 'ignore' });
  // Same result shape (string stdout and stderr); only where stdin comes from differs.
  return execa(file, argv, { ...base, input: opts.input }) as unknown as ReturnType<typeof _plain>;
}

const _plain = () => execa('', { extendEnv: false, reject: false, timeout: 1, stdin: 'ignore', env: {} });
