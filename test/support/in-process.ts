import type { CliContext } from '../../src/cli-context.js';
import { run } from '../../src/cli.js';
import { Console, type Output } from '../../src/core/console.js';

/** A string buffer standing in for stdout or stderr. */
export class Buffered implements Output {
  text = '';
  isTTY: boolean;
  constructor(isTTY = false) {
    this.isTTY = isTTY;
  }
  #waiters: Array<{ pattern: RegExp; resolve: (m: RegExpExecArray) => void }> = [];
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    this.#waiters = this.#waiters.filter((w) => {
      const m = w.pattern.exec(this.text);
      if (m) w.resolve(m);
      return !m;
    });
    return true;
  }
  /** Resolves with the match once what was written matches `pattern` (already, or on a later write). */
  whenWritten(pattern: RegExp): Promise<RegExpExecArray> {
    const m = pattern.exec(this.text);
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => this.#waiters.push({ pattern, resolve }));
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
 * The real program (cli.ts `run`: createProgram, then report) over a captured console, without
 * a child process: argv parsing, the command layer and the exit code as users get them.
 */
export async function runInProcess(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  opts: { tty?: boolean; stdout?: Buffered; stderr?: Buffered; signal?: AbortSignal } = {},
): Promise<InProcessResult> {
  const stdout = opts.stdout ?? new Buffered(opts.tty ?? false);
  const stderr = opts.stderr ?? new Buffered(false);
  const ctx: CliContext = {
    console: new Console({ stdout, stderr }),
    env,
    signal: opts.signal ?? new AbortController().signal,
  };
  const exitCode = await run(ctx, argv);
  return { stdout: stdout.text, stderr: stderr.text, exitCode };
}
