import type { Console } from '../core/console.js';
import type { Ora } from 'ora';

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
  // A terminal of no width (a pty nobody sized: `script` under cron, some containers) has no
  // room for one: ora divides by the width, and with 0 it cleared lines forever, hanging the run.
  if (console_.stderr.columns === 0) return undefined;
  return options.env?.['NO_COLOR'] ? { color: false } : {};
}

/** ora (~35 ms to import) is loaded only when a spinner will be drawn. */
export async function startProgress(console_: Console, text: string, options: ProgressOptions = {}): Promise<Progress> {
  const drawn = spinnerOptions(console_, options);
  if (!drawn) return silent;
  const { default: ora } = await import('ora');
  const spinner: Ora = ora({ text, stream: process.stderr, discardStdin: false, ...drawn }).start();
  return {
    update: (t) => {
      spinner.text = t;
    },
    stop: () => spinner.stop(),
  };
}
