import path from 'node:path';
import { expect } from 'vitest';
import { openSession } from '../../src/core/session.js';
import type { ChangeEvent } from '../../src/core/sync/changes.js';
import { runPull } from '../../src/core/sync/engine.js';
import type { SnapshotTarget } from '../../src/core/sync/snapshot-target.js';
import { providerOf } from '../../src/providers/index.js';
import { findSource } from '../../src/providers/source-registry.js';
import { prepareOutput } from '../../src/sinks/output.js';

type Row = Record<string, unknown>;

/** Applies events in order; each one must start from what the replay holds (exactly once). */
export function replay(state: Map<string, Row>, events: readonly ChangeEvent[]): void {
  for (const e of events) {
    expect(state.get(e.key) ?? null, `${e.run}#${e.seq} ${e.op} ${e.key}`).toEqual(e.before);
    if (e.after === null) state.delete(e.key);
    else state.set(e.key, e.after);
  }
}

export const sortedByKey = (m: Map<string, Row>): Map<string, Row> => new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1)));

/** What a snapshot's commit() threw when it "died": the process would have been gone. */
export class Died extends Error {}

/**
 * The engine's snapshot seam with a death injected around the real commit: 'after' commits, then
 * dies (the window between the snapshot's commit and the changes file's); 'before' dies first.
 * A dead process rolls nothing back, so abort() does nothing once the commit happened.
 */
export function dying(target: SnapshotTarget, when: 'before' | 'after'): SnapshotTarget {
  return {
    ...target,
    prepare: async (spool, opts) => {
      const p = await target.prepare(spool, opts);
      return {
        ...p,
        commit: async () => {
          if (when === 'after') await p.commit();
          throw new Died(`died ${when} the snapshot's commit`);
        },
        abort: async () => (when === 'after' ? undefined : p.abort()),
      };
    },
  };
}

/** `pull SOURCE --since last --snapshot TARGET --changes FILE` run in-process; resolves with what it threw, if anything. */
export async function pullInProcess(source: string, env: NodeJS.ProcessEnv, target: SnapshotTarget, changes: string): Promise<unknown> {
  const def = findSource(source, path.join(env['IDSYNC_HOME'] ?? '', 'sources.json'));
  const provider = providerOf(def.provider);
  const session = openSession({ provider: provider.id, env, log: () => undefined });
  try {
    return await runPull(
      { provider, source: def, params: {}, since: { kind: 'last' }, snapshot: target, changes, concurrency: 2, overlapSeconds: 300 },
      {
        home: session.home,
        client: session.client,
        signal: new AbortController().signal,
        stdout: async () => undefined,
        pipeFile: async () => undefined,
        prepareOutput,
        isActive: provider.sync.isActive,
        events: {},
      },
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
  } finally {
    await session.close();
  }
}
