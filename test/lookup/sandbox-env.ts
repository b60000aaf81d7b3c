import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { execa } from 'execa';
import type { CliContext } from '../../src/cli-context.js';
import { Console, type Output } from '../../src/core/console.js';
import { IdsyncError } from '../../src/core/errors.js';
import { openSession, type Session } from '../../src/core/session.js';
import type { ProviderId } from '../../src/core/provider.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

/** A real sandbox on port 0 and a fresh IDSYNC_HOME, with the env that points idsync at both. */
export interface TestWorld {
  sb: Sandbox;
  home: string;
  env: NodeJS.ProcessEnv;
  session(provider: ProviderId, auth?: 'client' | 'user'): Session;
  close(): Promise<void>;
}

export async function startWorld(options: SandboxOptions = {}): Promise<TestWorld> {
  const sb = await startSandbox({ port: 0, ...options });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'idsync-lookup-'));
  const env: NodeJS.ProcessEnv = {
    IDSYNC_HOME: home,
    IDSYNC_ECNU_BASE_URL: sb.url,
    IDSYNC_ECNU_CLIENT_ID: sb.credentials.ecnu.clientId,
    IDSYNC_ECNU_CLIENT_SECRET: sb.credentials.ecnu.clientSecret,
    IDSYNC_TONGJI_BASE_URL: sb.url,
    IDSYNC_TONGJI_CLIENT_ID: sb.credentials.tongji.clientId,
    IDSYNC_TONGJI_CLIENT_SECRET: sb.credentials.tongji.clientSecret,
  };
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
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A string buffer standing in for stdout or stderr. */
export class Buffered implements Output {
  text = '';
  isTTY: boolean;
  constructor(isTTY = false) {
    this.isTTY = isTTY;
  }
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    return true;
  }
  once(): this {
    return this;
  }
}

export interface InProcessResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs one command registered the way cli.ts does it, with a captured console: the command
 * layer without a child process. Errors map to exit codes as the top-level handler does.
 */
export async function runInProcess(
  register: (program: Command, ctx: CliContext) => void,
  argv: string[],
  env: NodeJS.ProcessEnv,
  opts: { tty?: boolean; stderr?: Buffered } = {},
): Promise<InProcessResult> {
  const stdout = new Buffered(opts.tty ?? false);
  const stderr = opts.stderr ?? new Buffered(false);
  const ctx: CliContext = { console: new Console({ stdout, stderr }), env, signal: new AbortController().signal };
  const program = new Command('idsync').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: (s) => stderr.write(s) });
  register(program, ctx);
  let exitCode = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof IdsyncError) {
      ctx.console.error(err.message);
      exitCode = err.exitCode;
    } else if (err && typeof err === 'object' && 'exitCode' in err) {
      exitCode = (err as { exitCode: number }).exitCode === 0 ? 0 : 2;
    } else {
      throw err;
    }
  }
  return { stdout: stdout.text, stderr: stderr.text, exitCode };
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = path.join(repo, 'bin', 'idsync.js');

/** The built CLI as users run it (tests run after `npx tsc -p .`). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string) {
  return execa(process.execPath, [bin, ...args], {
    env: { ...env, NO_COLOR: '1', CI: '1' },
    extendEnv: false,
    reject: false,
    ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
    timeout: 30_000,
  });
}

/** The NDJSON lines of an output, parsed. */
export function ndjson(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
