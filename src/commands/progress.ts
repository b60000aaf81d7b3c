import ora, { type Ora } from 'ora';
import type { Console } from '../core/console.js';

/** A spinner on stderr, only for a person at a terminal: cron mail and pipes stay clean. */
export interface Progress {
  update(text: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** The run writes data to stdout (`-o -`): on the same terminal, spinner frames would mix with it. */
  dataOnStdout?: boolean;
  /** NO_COLOR (no-color.org): any non-empty value turns colour off. */
  env?: NodeJS.ProcessEnv;
}

const silent: Progress = { update: () => undefined, stop: () => undefined };

export function startProgress(console_: Console, text: string, options: ProgressOptions = {}): Progress {
  if (!console_.interactive) return silent;
  if (options.dataOnStdout && console_.stdout.isTTY) return silent;
  const noColor = Boolean(options.env?.['NO_COLOR']);
  const spinner: Ora = ora({ text, stream: process.stderr, discardStdin: false, ...(noColor ? { color: false } : {}) }).start();
  return {
    update: (t) => {
      spinner.text = t;
    },
    stop: () => spinner.stop(),
  };
}
