import ora, { type Ora } from 'ora';
import type { Console } from '../core/console.js';

/** A spinner on stderr, only for a person at a terminal: cron mail and pipes stay clean. */
export interface Progress {
  update(text: string): void;
  stop(): void;
}

export function startProgress(console_: Console, text: string): Progress {
  if (!console_.interactive) return { update: () => undefined, stop: () => undefined };
  const spinner: Ora = ora({ text, stream: process.stderr, discardStdin: false }).start();
  return {
    update: (t) => {
      spinner.text = t;
    },
    stop: () => spinner.stop(),
  };
}
