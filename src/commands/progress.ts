import type { Console } from '../core/console.js';

/** A spinner on stderr, only for a person at a terminal: cron mail and pipes stay clean. */
export interface Progress {
  update(text: string): void;
  stop(): void;
}

/** ora (~35 ms to import) is loaded only when a spinner will be drawn. */
export async function startProgress(console_: Console, text: string): Promise<Progress> {
  if (!console_.interactive) return { update: () => undefined, stop: () => undefined };
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: process.stderr, discardStdin: false }).start();
  return {
    update: (t) => {
      spinner.text = t;
    },
    stop: () => spinner.stop(),
  };
}
