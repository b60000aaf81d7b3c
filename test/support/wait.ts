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
  const watcher = watch(dir);
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

/** Resolves with what a stream has said once `pattern` matches it; rejects if it ends first. */
export async function whenSaid(stream: Readable | null | undefined, pattern: RegExp): Promise<string> {
  if (!stream) throw new Error('no stream to listen to');
  let said = '';
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
    said += String(chunk);
    if (pattern.test(said)) return said;
  }
  throw new Error(`the stream ended before it said ${pattern}: ${said}`);
}

/** Resolves when a child process has exited (already or later). */
export async function exited(child: { exitCode: number | null; signalCode?: string | null; once(e: 'exit', l: () => void): unknown }): Promise<void> {
  if (child.exitCode !== null || child.signalCode) return;
  await once(child as unknown as NodeJS.EventEmitter, 'exit');
}

/** Polls `check` every `stepMs` until it holds or `ms` passes. Only for state that has no event. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms: number, stepMs = 20): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= until) return false;
    await sleep(stepMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
