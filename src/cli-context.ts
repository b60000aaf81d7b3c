import type { Console } from './core/console.js';

/** What every command module receives: no globals, so tests can build their own. */
export interface CliContext {
  console: Console;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM; long-running work passes it down. */
  signal: AbortSignal;
  /**
   * Standard input, when the program may read it unasked (lookup ids from a pipe). Absent in
   * in-process tests, so that they never wait on the test runner's own stdin.
   */
  stdin?: NodeJS.ReadStream;
}
