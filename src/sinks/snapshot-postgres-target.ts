import type { SnapshotTarget } from '../core/sync/snapshot-target.js';
import { parsePostgresTarget } from './postgres-url.js';
import { openPostgresSnapshot, type PostgresSnapshot } from './snapshot-postgres.js';

/**
 * `--snapshot postgresql://…` as the engine's snapshot target. The URL is parsed here, so a
 * password in it is refused (exit 2) before any connection. The job's state knows the database
 * by `id`: the URL normalised, without password. One connection serves the checks, the advisory
 * lock and the merge; close() releases the lock with it.
 */
export function postgresSnapshotTarget(raw: string, keyFields: readonly string[], env: NodeJS.ProcessEnv = process.env): SnapshotTarget {
  const target = parsePostgresTarget(raw, env);
  let snap: PostgresSnapshot | undefined;
  const forTable = (table: string): PostgresSnapshot => {
    if (snap && snap.table !== table) throw new Error(`snapshot target opened for ${snap.table}, asked for ${table}`);
    snap ??= openPostgresSnapshot(target, { table, keyFields, env });
    return snap;
  };
  return {
    kind: 'postgres',
    id: target.identity,
    label: target.identity,
    async open({ table, waitSeconds, signal }) {
      const s = forTable(table);
      await s.preflight();
      await s.lock({ ...(waitSeconds !== undefined ? { wait: waitSeconds } : {}), ...(signal ? { signal } : {}) });
    },
    mark: (table) => forTable(table).mark(),
    hasChangeFeed: (table) => forTable(table).hasChangeFeed(),
    prepare: (spool, opts) => forTable(opts.table).prepare(spool, opts),
    cleanStale: async () => undefined,
    close: async () => {
      await snap?.close();
    },
  };
}
