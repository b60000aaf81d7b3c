import fs from 'node:fs/promises';
import type { CliContext } from '../cli-context.js';
import { ExitCode, IdsyncError } from '../core/errors.js';
import type { StateFile, StateStore } from '../core/state.js';

export interface BrokenState {
  source: string;
  reason: string;
}

/**
 * Every state file that can be read, and the ones that cannot: one damaged file must not hide
 * the state of every other job (StateStore.list stops at the first).
 */
export async function listStates(store: StateStore): Promise<{ files: StateFile[]; broken: BrokenState[] }> {
  const names = await fs.readdir(store.dir).catch(() => [] as string[]);
  const files: StateFile[] = [];
  const broken: BrokenState[] = [];
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
    const source = name.slice(0, -'.json'.length);
    try {
      files.push(await store.load(source));
    } catch (err) {
      broken.push({ source, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return { files, broken };
}

/** Table rows that flag the unreadable files, for the end of `state show`. */
export function brokenRows(broken: readonly BrokenState[], width: number): string[][] {
  return broken.map((b) => [b.source, '-', 'BROKEN state file (see below)', ...Array.from({ length: width - 3 }, () => '-')]);
}

/** Says what is wrong with each, then fails the command (exit 7) once the rest is shown. */
export function reportBroken(ctx: CliContext, broken: readonly BrokenState[], total: number): void {
  if (!broken.length) return;
  for (const b of broken) ctx.console.warn(b.reason);
  throw new IdsyncError(`state show: ${broken.length} of ${total} state files could not be read`, ExitCode.partial);
}
