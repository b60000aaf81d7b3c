import { watch } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

/**
 * Resolves true once `check` holds for a folder, re-checked on every change the folder reports
 * (fs.watch), false after `ms`. The check runs once at the start, so a file that is already
 * there counts; the timeout is only a guard for a run that never gets there.
 */
export async function whenFolder(dir: string, check: () => Promise<boolean> | boolean, ms = 15_000): Promise<boolean> {
  if (await check()) return true;
  // Recursive: what a run creates often lands in a sub-folder it makes itself (locks/, work/).
  const watcher = watch(dir, { recursive: true });
  const timer = setTimeout(() => watcher.close(), ms);
  try {
    let checking: Promise<boolean> | undefined;
    return await new Promise<boolean>((resolve) => {
      watcher.on('close', () => resolve(false));
      watcher.on('error', () => resolve(false));
      watcher.on('change', () => {
        checking ??= Promise.resolve(check()).finally(() => (checking = undefined));
        void checking.then((ok) => ok && resolve(true));
      });
      // A change between the first check and the watcher starting would be missed without this.
      void Promise.resolve(check()).then((ok) => ok && resolve(true));
    });
  } finally {
    clearTimeout(timer);
    watcher.close();
  }
}

/**
 * Resolves with what a stream has said once `pattern` matches it; rejects if it ends first.
 * Listens to 'data' beside whoever else reads it (execa collects the same output).
 */
export function whenSaid(stream: Readable | null | undefined, pattern: RegExp): Promise<string> {
  if (!stream) return Promise.reject(new Error('no stream to listen to'));
  let said = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer | string) => {
      said += String(chunk);
      if (!pattern.test(said)) return;
      stream.off('data', onData).off('end', onEnd);
      resolve(said);
    };
    const onEnd = () => reject(new Error(`the stream ended before it said ${pattern}: ${said}`));
    stream.on('data', onData).once('end', onEnd);
  });
}

/** Resolves when a child process has exited (already or later). */
export async function exited(child: {
  exitCode: number | null;
  signalCode?: string | null;
  once(e: 'exit', l: () => void): unknown;
}): Promise<void> {
  if (child.exitCode !== null || child.signalCode) return;
  await once(child as unknown as NodeJS.EventEmitter, 'exit');
}

/** Only for a moment drawn at random (the kill tests); never to wait for something to happen. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
