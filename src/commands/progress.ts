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

/** How the spinner is drawn, or undefined for none. */
export function spinnerOptions(console_: Console, options: ProgressOptions = {}): { color?: false } | undefined {
  if (!console_.interactive) return undefined;
  if (options.dataOnStdout && console_.stdout.isTTY) return undefined;
  return options.env?.['NO_COLOR'] ? { color: false } : {};
}

export function startProgress(console_: Console, text: string, options: ProgressOptions = {}): Progress {
  const drawn = spinnerOptions(console_, options);
  if (!drawn) return silent;
  const spinner: Ora = ora({ text, stream: process.stderr, discardStdin: false, ...drawn }).start();
  return {
    update: (t) => {
      spinner.text = t;
    },
    stop: () => spinner.stop(),
  };
}
